// BlobPeer over in-memory stores with glint-store's answers: conditional PUT (expected digest,
// verified replace), verified reads that quarantine a corrupt blob and cut the stream, DELETE
// only of the copy named, HEAD with size and digest. Fault switches: a node down, a PUT whose
// answer is lost after it committed. `before` runs on the caller's thread before put/remove/stat
// (a simulation injects other events there). Thread-safe.
#pragma once
#include <unistd.h>

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "shared/peer/blob_peer.hpp"
#include "tests/support/fake_blob_store.hpp"

namespace glint::testing {

class StorePeer final : public peer::BlobPeer {
 public:
  void add(const std::string& node, FakeBlobStore& store) {
    std::lock_guard lk(mu_);
    stores_[node] = &store;
  }
  void set_down(const std::string& node, bool down) {
    std::lock_guard lk(mu_);
    if (down) down_.insert(node);
    else down_.erase(node);
  }
  void lose_next_put_answer(const std::string& node) {
    std::lock_guard lk(mu_);
    lose_answer_.insert(node);
  }
  std::function<void(const std::string& op, const std::string& node, const std::string& id)> before;

  Expected<peer::StoredBlob> put(const peer::Endpoint& node, const std::string& id, http::BodySource& body,
                                 std::optional<uint64_t> length, const peer::PutOptions& o) override {
    FakeBlobStore* s = reachable(node.node);
    if (!s) return Error{Errc::unavailable, node.node + ": connect: refused"};
    if (before) before("put", node.node, id);
    blob::WriteConditions cond;
    hash::Digest128 d{};
    if (o.expect_digest && hash::parse_digest_hex(*o.expect_digest, d)) cond.expect_digest = d;
    if (o.replace_digest && hash::parse_digest_hex(*o.replace_digest, d)) cond.replace_digest = d;
    auto w = s->create(id, length, cond);
    if (!w) return w.error();
    for (;;) {
      auto c = body.next();
      if (!c) return c.error();  // the writer is destroyed: nothing kept
      if (c->empty()) break;
      if (Status st = (*w)->write(*c); !st) return st.error();
    }
    auto info = (*w)->commit();
    if (!info) return info.error();
    {
      std::lock_guard lk(mu_);
      if (lose_answer_.erase(node.node)) return Error{Errc::io_error, node.node + ": connection reset"};
    }
    return peer::StoredBlob{info->size, hash::digest_hex(info->digest)};
  }

  peer::ReadResult read_into(const peer::Endpoint& node, const std::string& id, uint64_t first,
                             std::optional<uint64_t> last, int out_fd) override {
    peer::ReadResult r;
    FakeBlobStore* s = reachable(node.node);
    if (!s) {
      r.outcome = peer::ReadOutcome::unreachable;
      return r;
    }
    auto reader = s->open(id);
    if (!reader) {
      r.outcome = reader.code() == Errc::not_found ? peer::ReadOutcome::missing : peer::ReadOutcome::failed;
      return r;
    }
    const blob::BlobInfo info = (*reader)->info();
    const uint64_t end = last ? std::min<uint64_t>(*last + 1, info.size) : info.size;
    std::vector<std::byte> buf;
    for (uint64_t pos = first; pos < end;) {
      const uint64_t index = pos / info.block_size;
      auto block = (*reader)->read_block(index, buf);
      if (!block) {
        // As glint-store: out of service at once — exactly the file read, never a replacement.
        (void)s->quarantine_if(id, (*reader)->file_id(), block.error().message);
        r.outcome = peer::ReadOutcome::corrupt;
        r.detail = block.error().message;
        return r;
      }
      const uint64_t from = pos - index * info.block_size;
      const uint64_t n = std::min<uint64_t>(block->size() - from, end - pos);
      for (uint64_t done = 0; done < n;) {
        const ssize_t k = ::write(out_fd, block->data() + from + done, n - done);
        if (k <= 0) {
          r.outcome = peer::ReadOutcome::cancelled;
          return r;
        }
        done += static_cast<uint64_t>(k);
      }
      pos += n;
      r.delivered += n;
    }
    r.outcome = peer::ReadOutcome::complete;
    return r;
  }

  Status remove(const peer::Endpoint& node, const std::string& id, const std::string& if_match) override {
    FakeBlobStore* s = reachable(node.node);
    if (!s) return Status(Errc::unavailable, node.node + ": connect: refused");
    if (before) before("remove", node.node, id);
    std::optional<hash::Digest128> digest;
    hash::Digest128 d{};
    if (if_match != "*") {
      if (!hash::parse_digest_hex(if_match, d)) return Status(Errc::invalid, "bad If-Match");
      digest = d;
    }
    Status st = s->remove(id, digest);
    if (st.code() == Errc::not_found) return {};
    return st;
  }

  Expected<std::optional<peer::StoredBlob>> stat(const peer::Endpoint& node, const std::string& id) override {
    FakeBlobStore* s = reachable(node.node);
    if (!s) return Error{Errc::unavailable, node.node + ": connect: refused"};
    if (before) before("stat", node.node, id);
    auto info = s->stat(id);
    if (!info && info.code() == Errc::not_found) return std::optional<peer::StoredBlob>();
    if (!info) return info.error();
    return std::optional<peer::StoredBlob>(peer::StoredBlob{info->size, hash::digest_hex(info->digest)});
  }

 private:
  FakeBlobStore* reachable(const std::string& node) {
    std::lock_guard lk(mu_);
    if (down_.count(node)) return nullptr;
    auto it = stores_.find(node);
    return it == stores_.end() ? nullptr : it->second;
  }
  std::mutex mu_;
  std::map<std::string, FakeBlobStore*> stores_;
  std::set<std::string> down_;
  std::set<std::string> lose_answer_;
};

}  // namespace glint::testing
