// In-memory blob store with glint-store's contract (blob_store.hpp: immutable blobs, write
// conditions, verified block reads, quarantine that never deletes) and fault switches: flip a
// byte of the data (its sidecar keeps the old checksums), make a block unreadable (EIO), lose the
// file. Thread-safe (one mutex).
#pragma once
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "shared/blob/blob_store.hpp"
#include "shared/hash/hash.hpp"

namespace glint::testing {

class FakeBlobStore final : public blob::BlobStore {
 public:
  explicit FakeBlobStore(uint32_t block_size = 4096) : block_size_(block_size) {}
  using blob::BlobStore::create;
  using blob::BlobStore::remove;

  // The bytes and the sidecar written when they were committed.
  struct Blob {
    std::string data;
    blob::BlobInfo info;
    std::vector<uint64_t> blocks;
    uint64_t file_id = 0;  // a new one for every committed copy (an inode)
    std::set<uint64_t> unreadable;  // blocks whose reads fail with io_error (a bad sector)
  };

  Expected<std::unique_ptr<blob::BlobWriter>> create(const std::string& id, std::optional<uint64_t> expected_size,
                                                     const blob::WriteConditions& cond) override {
    std::lock_guard lk(mu_);
    if (uploading_.count(id)) return Error{Errc::conflict, "upload in progress"};
    auto it = blobs_.find(id);
    if (it != blobs_.end() && (!cond.replace_digest || it->second.info.digest != *cond.replace_digest))
      return Error{Errc::conflict, "blob " + id + " exists"};
    uploading_.insert(id);
    return std::unique_ptr<blob::BlobWriter>(std::make_unique<Writer>(*this, id, expected_size, cond));
  }
  Expected<std::unique_ptr<blob::BlobReader>> open(const std::string& id) override {
    std::lock_guard lk(mu_);
    auto it = blobs_.find(id);
    if (it == blobs_.end()) return Error{Errc::not_found, "blob " + id + " not found"};
    return std::unique_ptr<blob::BlobReader>(std::make_unique<Reader>(it->second));
  }
  Expected<blob::BlobInfo> stat(const std::string& id) override {
    std::lock_guard lk(mu_);
    auto it = blobs_.find(id);
    if (it == blobs_.end()) return Error{Errc::not_found, "blob " + id + " not found"};
    return it->second.info;
  }
  Status remove(const std::string& id, const std::optional<hash::Digest128>& if_digest) override {
    std::lock_guard lk(mu_);
    auto it = blobs_.find(id);
    if (it == blobs_.end()) return Status(Errc::not_found, "blob " + id + " not found");
    if (if_digest && it->second.info.digest != *if_digest) return Status(Errc::conflict, "other bytes");
    blobs_.erase(it);
    return {};
  }
  Status quarantine(const std::string& id, const std::string& reason) override {
    std::lock_guard lk(mu_);
    return quarantine_locked(id, reason);
  }
  Status quarantine_if(const std::string& id, uint64_t file_id, const std::string& reason) override {
    std::lock_guard lk(mu_);
    auto it = blobs_.find(id);
    if (it == blobs_.end()) return Status(Errc::not_found, "blob " + id + " not found");
    if (it->second.file_id != file_id) return Status(Errc::conflict, "blob " + id + " was replaced");
    return quarantine_locked(id, reason);
  }
  blob::SpaceInfo space() override { return {1ull << 40, 1ull << 39, 0}; }
  std::vector<std::string> list() override {
    std::lock_guard lk(mu_);
    std::vector<std::string> ids;
    for (const auto& [id, _] : blobs_) ids.push_back(id);
    return ids;
  }
  size_t cleanup_temp() override { return 0; }
  size_t cleanup_stale_temp(std::chrono::seconds) override { return 0; }

  // Fault switches and inspection.
  bool flip_byte(const std::string& id, size_t pos) {
    std::lock_guard lk(mu_);
    auto it = blobs_.find(id);
    if (it == blobs_.end() || it->second.data.empty()) return false;
    it->second.data[pos % it->second.data.size()] ^= 0x5a;
    return true;
  }
  bool make_unreadable(const std::string& id, uint64_t block) {
    std::lock_guard lk(mu_);
    auto it = blobs_.find(id);
    if (it == blobs_.end()) return false;
    it->second.unreadable.insert(block);
    return true;
  }
  bool lose(const std::string& id) {
    std::lock_guard lk(mu_);
    return blobs_.erase(id) > 0;
  }
  std::optional<std::string> bytes(const std::string& id) const {
    std::lock_guard lk(mu_);
    auto it = blobs_.find(id);
    if (it == blobs_.end()) return std::nullopt;
    return it->second.data;
  }
  // Ids and reasons of everything moved to quarantine, oldest first (never deleted).
  std::vector<std::pair<std::string, std::string>> quarantined() const {
    std::lock_guard lk(mu_);
    return quarantine_;
  }
  // Observer (simulation invariants): bytes about to be moved to quarantine. Called with the
  // store's lock held: it must not call back into this store.
  std::function<void(const std::string& id, const std::string& data)> on_quarantine;

  static hash::Digest128 digest_of(std::string_view data) {
    hash::Xxh128Stream x;
    x.update(hash::as_bytes(data));
    return x.digest();
  }

 private:
  class Writer final : public blob::BlobWriter {
   public:
    Writer(FakeBlobStore& s, std::string id, std::optional<uint64_t> expected, blob::WriteConditions cond)
        : s_(s), id_(std::move(id)), expected_(expected), cond_(std::move(cond)) {}
    ~Writer() override { abort(); }
    Status write(std::span<const std::byte> d) override {
      if (done_) return Status(Errc::invalid, "finished");
      data_.append(reinterpret_cast<const char*>(d.data()), d.size());
      if (expected_ && data_.size() > *expected_) {
        abort();
        return Status(Errc::too_large, "more than declared");
      }
      return {};
    }
    Expected<blob::BlobInfo> commit() override {
      if (done_) return Error{Errc::conflict, "finished"};
      auto r = s_.publish(id_, expected_, cond_, std::move(data_));
      done_ = true;
      return r;
    }
    void abort() override {
      if (done_) return;
      done_ = true;
      std::lock_guard lk(s_.mu_);
      s_.uploading_.erase(id_);
    }
    uint64_t bytes_written() const override { return data_.size(); }

   private:
    FakeBlobStore& s_;
    std::string id_;
    std::optional<uint64_t> expected_;
    blob::WriteConditions cond_;
    std::string data_;
    bool done_ = false;
  };

  class Reader final : public blob::BlobReader {
   public:
    explicit Reader(Blob b) : b_(std::move(b)) {}  // a snapshot, as an open file
    const blob::BlobInfo& info() const override { return b_.info; }
    uint64_t file_id() const override { return b_.file_id; }
    Expected<std::span<const std::byte>> read_block(uint64_t index, std::vector<std::byte>& buf) override {
      if (index >= b_.blocks.size()) return Error{Errc::invalid, "no block " + std::to_string(index)};
      if (b_.unreadable.count(index)) return Error{Errc::io_error, "block " + std::to_string(index) + ": EIO"};
      const size_t off = static_cast<size_t>(index * b_.info.block_size);
      const size_t n = std::min<size_t>(b_.info.block_size, b_.data.size() - off);
      buf.assign(reinterpret_cast<const std::byte*>(b_.data.data() + off),
                 reinterpret_cast<const std::byte*>(b_.data.data() + off + n));
      if (hash::block_xxh3(hash::Bytes(buf.data(), n)) != b_.blocks[index])
        return Error{Errc::corrupt, "block " + std::to_string(index) + " does not match its checksum"};
      return std::span<const std::byte>(buf.data(), n);
    }

   private:
    Blob b_;
  };

  Expected<blob::BlobInfo> publish(const std::string& id, std::optional<uint64_t> expected,
                                   const blob::WriteConditions& cond, std::string data) {
    std::lock_guard lk(mu_);
    uploading_.erase(id);
    if (expected && data.size() != *expected) return Error{Errc::invalid, "short upload"};
    Blob b;
    b.info.size = data.size();
    b.info.block_size = block_size_;
    for (size_t off = 0; off < data.size(); off += block_size_)
      b.blocks.push_back(hash::block_xxh3(hash::as_bytes(std::string_view(data).substr(off, block_size_))));
    b.info.block_count = b.blocks.size();
    b.info.digest = digest_of(data);
    b.data = std::move(data);
    b.file_id = ++next_file_;
    if (cond.expect_digest && b.info.digest != *cond.expect_digest)
      return Error{Errc::corrupt, "upload does not hash to the expected digest"};
    auto it = blobs_.find(id);
    if (it != blobs_.end()) {
      if (!cond.replace_digest || it->second.info.digest != *cond.replace_digest)
        return Error{Errc::conflict, "blob " + id + " exists"};
      (void)quarantine_locked(id, "replaced by a verified copy");
    }
    blobs_[id] = b;
    return b.info;
  }
  Status quarantine_locked(const std::string& id, const std::string& reason) {
    auto it = blobs_.find(id);
    if (it == blobs_.end()) return Status(Errc::not_found, "blob " + id + " not found");
    if (on_quarantine) on_quarantine(id, it->second.data);
    quarantine_.emplace_back(id, reason);
    blobs_.erase(it);
    return {};
  }

  const uint32_t block_size_;
  uint64_t next_file_ = 0;
  mutable std::mutex mu_;
  std::map<std::string, Blob> blobs_;
  std::set<std::string> uploading_;
  std::vector<std::pair<std::string, std::string>> quarantine_;
};

}  // namespace glint::testing
