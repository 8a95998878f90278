// In-memory storage cluster for API unit tests: a nodes table, a replicas table and blob peers
// with fault switches (node down, transfer cut after N bytes, corrupt copy). Thread-safe (one
// mutex each), since uploads run a thread per node.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <unistd.h>
#include <set>
#include <string>

#include "shared/db/repositories.hpp"
#include "shared/hash/hash.hpp"
#include "shared/peer/blob_peer.hpp"

namespace glint::testing {

class FakeNodeRepository final : public db::NodeRepository {
 public:
  // Adds a live node "nodeN" in zone "zoneN" at 127.0.0.1:(9000+N).
  void add_live(int n) {
    std::lock_guard lk(mu_);
    db::NodeRow r;
    r.name = "node" + std::to_string(n);
    r.address = "127.0.0.1:" + std::to_string(9000 + n);
    r.zone = "zone" + std::to_string(n);
    r.last_heartbeat = std::chrono::system_clock::now();
    rows_[r.name] = r;
  }
  Status register_node(const db::NodeRow& n) override {
    std::lock_guard lk(mu_);
    rows_[n.name] = n;
    return {};
  }
  Status heartbeat(const std::string&, uint64_t, uint64_t) override { return {}; }
  Status set_state(const std::string& name, const std::string& state) override {
    std::lock_guard lk(mu_);
    rows_[name].state = state;
    return {};
  }
  Expected<std::optional<db::NodeRow>> get(const std::string& name) override {
    std::lock_guard lk(mu_);
    auto it = rows_.find(name);
    if (it == rows_.end()) return std::optional<db::NodeRow>();
    return std::optional<db::NodeRow>(it->second);
  }
  Expected<std::vector<db::NodeRow>> list() override {
    std::lock_guard lk(mu_);
    std::vector<db::NodeRow> out;
    for (auto& [_, r] : rows_) out.push_back(r);
    return out;
  }

 private:
  std::mutex mu_;
  std::map<std::string, db::NodeRow> rows_;
};

class FakeReplicaRepository final : public db::ReplicaRepository {
 public:
  Status upsert(const db::ReplicaRow& r) override {
    std::lock_guard lk(mu_);
    rows_[{r.image_id, r.node}] = r;
    return {};
  }
  Status set_state(const std::string& image_id, const std::string& node, const std::string& state) override {
    std::lock_guard lk(mu_);
    auto it = rows_.find({image_id, node});
    if (it == rows_.end()) return Status(Errc::not_found, "no replica");
    it->second.state = state;
    return {};
  }
  Expected<std::vector<db::ReplicaRow>> for_image(const std::string& image_id) override {
    std::lock_guard lk(mu_);
    std::vector<db::ReplicaRow> out;
    for (auto& [k, r] : rows_)
      if (k.first == image_id) out.push_back(r);
    return out;
  }
  Expected<std::vector<db::ReplicaRow>> for_node(const std::string& node) override {
    std::lock_guard lk(mu_);
    std::vector<db::ReplicaRow> out;
    for (auto& [k, r] : rows_)
      if (k.second == node) out.push_back(r);
    return out;
  }
  Status remove(const std::string& image_id, const std::string& node) override {
    std::lock_guard lk(mu_);
    rows_.erase({image_id, node});
    return {};
  }
  std::string state(const std::string& image_id, const std::string& node) {
    std::lock_guard lk(mu_);
    auto it = rows_.find({image_id, node});
    return it == rows_.end() ? std::string("none") : it->second.state;
  }

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, db::ReplicaRow> rows_;
};

// Blob peers keyed by node name. A down node is unreachable; cut_after[node] = N makes a PUT
// break after N bytes and a read stop after N bytes (the node then counts as unreachable, or
// quarantines the copy when corrupt_on_cut is set).
class FakeBlobPeer final : public peer::BlobPeer {
 public:
  Expected<peer::StoredBlob> put(const peer::Endpoint& node, const std::string& id, http::BodySource& body,
                                 std::optional<uint64_t>) override {
    if (is_down(node.node)) return Error{Errc::unavailable, "connect: refused"};
    std::string data;
    const uint64_t limit = cut(node.node);
    for (;;) {
      auto c = body.next();
      if (!c) return c.error();
      if (c->empty()) break;
      data.append(reinterpret_cast<const char*>(c->data()), c->size());
      if (data.size() > limit) return Error{Errc::io_error, "send body: connection reset"};
    }
    hash::Xxh128Stream x;
    x.update(hash::as_bytes(data));
    std::lock_guard lk(mu_);
    if (blobs_[node.node].count(id)) return Error{Errc::conflict, "exists"};
    blobs_[node.node][id] = data;
    return peer::StoredBlob{data.size(), hash::digest_hex(x.digest())};
  }
  using Consumer = std::function<bool(std::vector<std::byte>& buf, size_t n)>;
  // Delivers bytes [first, last] of a stored copy to on_body in 64 KiB pieces, honouring the fault
  // switches.
  peer::ReadResult read(const peer::Endpoint& node, const std::string& id, uint64_t first,
                        std::optional<uint64_t> last, const Consumer& on_body) {
    peer::ReadResult r;
    if (is_down(node.node)) {
      r.outcome = peer::ReadOutcome::unreachable;
      return r;
    }
    std::string data;
    {
      std::lock_guard lk(mu_);
      auto it = blobs_[node.node].find(id);
      if (it == blobs_[node.node].end()) {
        r.outcome = peer::ReadOutcome::missing;
        return r;
      }
      data = it->second;
    }
    const uint64_t end = std::min<uint64_t>(last ? *last + 1 : data.size(), data.size());
    const uint64_t limit = cut(node.node);
    for (uint64_t pos = first; pos < end;) {
      const uint64_t n = std::min<uint64_t>({64 * 1024, end - pos, limit > r.delivered ? limit - r.delivered : 0});
      if (n == 0) {
        std::lock_guard lk(mu_);
        if (corrupt_on_cut.count(node.node)) blobs_[node.node].erase(id);  // quarantined
        r.outcome = corrupt_on_cut.count(node.node) ? peer::ReadOutcome::corrupt : peer::ReadOutcome::unreachable;
        return r;
      }
      std::vector<std::byte> piece(reinterpret_cast<const std::byte*>(data.data() + pos),
                                   reinterpret_cast<const std::byte*>(data.data() + pos + n));
      if (!on_body(piece, n)) {
        r.outcome = peer::ReadOutcome::cancelled;
        return r;
      }
      r.delivered += n;
      pos += n;
    }
    r.outcome = peer::ReadOutcome::complete;
    return r;
  }
  peer::ReadResult read_into(const peer::Endpoint& node, const std::string& id, uint64_t first,
                             std::optional<uint64_t> last, int out_fd) override {
    return read(node, id, first, last, [&](std::vector<std::byte>& buf, size_t n) {
      for (size_t done = 0; done < n;) {
        const ssize_t w = ::write(out_fd, buf.data() + done, n - done);
        if (w <= 0) return false;  // the reader went away
        done += static_cast<size_t>(w);
      }
      return true;
    });
  }
  Status remove(const peer::Endpoint& node, const std::string& id) override {
    if (is_down(node.node)) return Status(Errc::unavailable, "connect: refused");
    std::lock_guard lk(mu_);
    blobs_[node.node].erase(id);
    return {};
  }
  Expected<bool> exists(const peer::Endpoint& node, const std::string& id) override {
    if (is_down(node.node)) return Error{Errc::unavailable, "connect: refused"};
    std::lock_guard lk(mu_);
    return blobs_[node.node].count(id) > 0;
  }

  void set_down(const std::string& node, bool down) {
    std::lock_guard lk(mu_);
    if (down) down_.insert(node);
    else down_.erase(node);
  }
  void set_cut_after(const std::string& node, uint64_t n) {
    std::lock_guard lk(mu_);
    cut_after_[node] = n;
  }
  bool holds(const std::string& node, const std::string& id) {
    std::lock_guard lk(mu_);
    return blobs_[node].count(id) > 0;
  }
  void store(const std::string& node, const std::string& id, std::string data) {
    std::lock_guard lk(mu_);
    blobs_[node][id] = std::move(data);
  }
  std::set<std::string> corrupt_on_cut;  // set before use

 private:
  bool is_down(const std::string& node) {
    std::lock_guard lk(mu_);
    return down_.count(node) > 0;
  }
  uint64_t cut(const std::string& node) {
    std::lock_guard lk(mu_);
    auto it = cut_after_.find(node);
    return it == cut_after_.end() ? UINT64_MAX : it->second;
  }
  std::mutex mu_;
  std::set<std::string> down_;
  std::map<std::string, uint64_t> cut_after_;
  std::map<std::string, std::map<std::string, std::string>> blobs_;
};

}  // namespace glint::testing
