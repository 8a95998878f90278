// Crash-safe uploads: bytes go to tmp/, are hashed block by block as they arrive, and only a
// complete, fsynced blob with its sidecar is renamed to its final name.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "shared/blob/fs_store.hpp"

namespace glint::blob {

namespace {

// Other writers share the filesystem, so the free-space figure from create() goes stale.
constexpr uint64_t kRecheckBytes = 64ull << 20;
// Start writeback every few MiB while the upload streams in, so the final fsync finds little left
// to do and a large upload does not dump gigabytes of dirty pages at once.
constexpr uint64_t kWritebackBytes = 8ull << 20;
// Direct I/O: alignment of buffers, offsets and lengths, and the size of each write.
constexpr size_t kAlign = 4096;
constexpr size_t kStagingBytes = 2u << 20;

std::string meta_tmp_for(const std::string& tmp_path) {
  // "<id>.<random>.tmp" → "<id>.<random>.meta.tmp"
  return tmp_path.substr(0, tmp_path.size() - 4) + ".meta.tmp";
}

}  // namespace

FsBlobWriter::FsBlobWriter(FsBlobStore& store, std::string id, std::optional<uint64_t> expected_size,
                           std::string tmp_path, fsutil::UniqueFd fd, uint64_t free_bytes, bool direct,
                           WriteConditions cond)
    : store_(store),
      id_(std::move(id)),
      expected_size_(expected_size),
      cond_(std::move(cond)),
      tmp_path_(std::move(tmp_path)),
      meta_tmp_path_(meta_tmp_for(tmp_path_)),
      fd_(std::move(fd)),
      free_at_check_(free_bytes),
      direct_(direct),
      staging_(direct ? store.take_staging(kStagingBytes) : nullptr) {}

FsBlobWriter::~FsBlobWriter() {
  abort();
  if (staging_) store_.give_staging(std::move(staging_));
}

Status FsBlobWriter::write(std::span<const std::byte> data) {
  if (finished_) return Status(Errc::conflict, "upload of " + id_ + " is already finished");
  if (data.empty()) return {};
  // A failed write leaves the temp file in an unknown state, so every failure ends the upload.
  if (expected_size_ && data.size() > *expected_size_ - written_) {
    abort();
    return Status(Errc::too_large, "upload of " + id_ + " exceeds its declared size of " +
                                       std::to_string(*expected_size_) + " bytes");
  }
  if (Status s = check_space(data.size()); !s) {
    abort();
    return s;
  }
  if (Status s = append(data); !s) {
    abort();
    return s;
  }
  hash_blocks(data);
  blob_hash_.update(data);
  written_ += data.size();
  written_since_check_ += data.size();
  if (!direct_ && store_.options().fsync && written_ - flushed_to_ >= kWritebackBytes) {
    // Asynchronous: only queues the range for writeback; durability still comes from fsync.
    ::sync_file_range(fd_.get(), static_cast<off_t>(flushed_to_), static_cast<off_t>(written_ - flushed_to_),
                      SYNC_FILE_RANGE_WRITE);
    flushed_to_ = written_;
  }
  return {};
}

Status FsBlobWriter::append(std::span<const std::byte> data) {
  if (!direct_) return fsutil::write_all(fd_.get(), data, tmp_path_);
  if (!staging_) return Status(Errc::io_error, "no memory for the staging buffer of " + id_);
  // The page cache copy is skipped: on these nodes it costs more CPU than the hashing, and a
  // storage node's written data is rarely read back soon (clients read through their caches).
  while (!data.empty()) {
    const size_t take = std::min(data.size(), kStagingBytes - staged_);
    std::memcpy(staging_.get() + staged_, data.data(), take);
    staged_ += take;
    data = data.subspan(take);
    if (staged_ == kStagingBytes) {
      if (Status s = fsutil::write_all(fd_.get(), {staging_.get(), kStagingBytes}, tmp_path_); !s) return s;
      staged_ = 0;
    }
  }
  return {};
}

Status FsBlobWriter::flush_tail() {
  if (!direct_ || staged_ == 0) return {};
  const size_t padded = (staged_ + kAlign - 1) / kAlign * kAlign;
  std::memset(staging_.get() + staged_, 0, padded - staged_);
  if (Status s = fsutil::write_all(fd_.get(), {staging_.get(), padded}, tmp_path_); !s) return s;
  staged_ = 0;
  if (::ftruncate(fd_.get(), static_cast<off_t>(written_)) != 0)
    return fsutil::sys_error(Errc::io_error, "truncate", tmp_path_, errno);
  return {};
}

Status FsBlobWriter::check_space(uint64_t n) {
  const FsOptions& opts = store_.options();
  if (written_since_check_ >= kRecheckBytes) {
    auto sp = fsutil::fs_space(opts.data_dir);
    if (!sp) return sp.status();
    free_at_check_ = sp->free;
    written_since_check_ = 0;
  }
  const uint64_t need = written_since_check_ + n;
  if (free_at_check_ < need || free_at_check_ - need < opts.reserve_bytes) {
    return Status(Errc::no_space, "writing " + std::to_string(n) + " more bytes of " + id_ +
                                      " would cross the free-space reserve of " + std::to_string(opts.reserve_bytes) +
                                      " bytes in " + opts.data_dir);
  }
  return {};
}

void FsBlobWriter::hash_blocks(std::span<const std::byte> data) {
  // Only the current block's hash state is kept, so memory does not grow with the blob.
  const uint64_t block_size = store_.options().block_size;
  while (!data.empty()) {
    const size_t take = static_cast<size_t>(std::min<uint64_t>(data.size(), block_size - block_fill_));
    block_hash_.update(data.first(take));
    block_fill_ += take;
    data = data.subspan(take);
    if (block_fill_ == block_size) {
      block_hashes_.push_back(block_hash_.digest());
      block_hash_.reset();
      block_fill_ = 0;
    }
  }
}

Expected<BlobInfo> FsBlobWriter::commit() {
  if (finished_) return Error{Errc::conflict, "upload of " + id_ + " is already finished"};
  if (expected_size_ && written_ != *expected_size_) {
    abort();
    return Error{Errc::invalid, "upload of " + id_ + " ended after " + std::to_string(written_) + " of " +
                                    std::to_string(*expected_size_) + " declared bytes"};
  }
  auto info = publish();
  if (!info) {
    abort();
    return info;
  }
  finished_ = true;
  store_.release_upload(id_);
  return info;
}

Expected<BlobInfo> FsBlobWriter::publish() {
  const FsOptions& opts = store_.options();
  if (block_fill_ > 0) {
    block_hashes_.push_back(block_hash_.digest());
    block_fill_ = 0;
  }
  if (Status s = flush_tail(); !s) return s.error();
  if (opts.fsync && ::fsync(fd_.get()) != 0) return fsutil::sys_error(Errc::io_error, "fsync", tmp_path_, errno);
  if (Status s = fd_.close_checked(tmp_path_); !s) return s.error();

  Sidecar sc;
  sc.info.size = written_;
  sc.info.block_size = opts.block_size;
  sc.info.block_count = block_hashes_.size();
  sc.info.digest = blob_hash_.digest();
  sc.block_hashes = std::move(block_hashes_);
  if (cond_.expect_digest && sc.info.digest != *cond_.expect_digest)
    return Error{Errc::corrupt, "upload of " + id_ + " does not hash to the expected digest; nothing kept"};
  if (Status s = write_sidecar(sc); !s) return s.error();
  if (Status s = store_.ensure_shard_dir(id_); !s) return s.error();
  // The new copy is complete and proven: only now does the old one step aside (to quarantine).
  if (cond_.replace_digest) {
    if (Status s = store_.retire_for_replace(id_, *cond_.replace_digest); !s) return s.error();
  }
  if (Status s = place_sidecar(); !s) return s.error();
  if (Status s = place_data(); !s) {
    ::unlink(store_.meta_path(id_).c_str());  // ours, and no blob existed: see place_sidecar()
    return s.error();
  }
  if (opts.fsync) {
    if (Status s = fsutil::fsync_dir(store_.shard_dir(id_)); !s) {
      // Report failure only for a blob that is really gone, so a retry can succeed.
      ::unlink(store_.data_path(id_).c_str());
      ::unlink(store_.meta_path(id_).c_str());
      return s.error();
    }
  }
  return sc.info;
}

Status FsBlobWriter::write_sidecar(const Sidecar& sc) {
  fsutil::UniqueFd fd(::open(meta_tmp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return fsutil::sys_error(Errc::io_error, "create", meta_tmp_path_, errno);
  if (Status s = fsutil::write_all(fd.get(), encode_sidecar(sc), meta_tmp_path_); !s) return s;
  if (store_.options().fsync && ::fsync(fd.get()) != 0) {
    return fsutil::sys_error(Errc::io_error, "fsync", meta_tmp_path_, errno);
  }
  return fd.close_checked(meta_tmp_path_);
}

Status FsBlobWriter::place_sidecar() {
  const std::string meta = store_.meta_path(id_);
  Status s = fsutil::rename_noreplace(meta_tmp_path_, meta);
  if (s.code() == Errc::conflict) {
    // Only this writer may publish the id (the store's upload set), so an existing sidecar is
    // either a live blob's (refuse) or an orphan left by a crash between the two renames (replace).
    if (fsutil::exists(store_.data_path(id_))) return Status(Errc::conflict, "blob " + id_ + " already exists");
    if (::rename(meta_tmp_path_.c_str(), meta.c_str()) != 0) {
      return fsutil::sys_error(Errc::io_error, "rename to " + meta + " from", meta_tmp_path_, errno);
    }
    return {};
  }
  return s;
}

Status FsBlobWriter::place_data() {
  Status s = fsutil::rename_noreplace(tmp_path_, store_.data_path(id_));
  if (s.code() == Errc::conflict) return Status(Errc::conflict, "blob " + id_ + " already exists");
  return s;
}

void FsBlobWriter::abort() {
  if (finished_) return;
  finished_ = true;
  fd_.reset();
  // Either may already be gone (renamed into place or never created); ENOENT is fine.
  ::unlink(tmp_path_.c_str());
  ::unlink(meta_tmp_path_.c_str());
  store_.release_upload(id_);
}

}  // namespace glint::blob
