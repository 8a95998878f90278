// In-memory storage cluster for API unit tests: a nodes table, a replicas table and blob peers
// with fault switches (node down, transfer cut after N bytes, corrupt copy). Thread-safe (one
// mutex each), since uploads run a thread per node.
#pragma once
#include <chrono>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <unistd.h>
#include <set>
#include <string>
#include <vector>

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
  Status set_state(const std::string& name, NodeState from, NodeState to) override {
    if (before_write) before_write(name);
    std::lock_guard lk(mu_);
    auto it = rows_.find(name);
    if (it == rows_.end()) return Status(Errc::not_found, "unknown node");
    if (it->second.state != from) return Status(Errc::conflict, "node changed");
    it->second.state = to;
    return {};
  }
  Status mark_down(const std::string& name, std::optional<db::Timestamp> heartbeat_seen) override {
    if (before_write) before_write(name);
    std::lock_guard lk(mu_);
    auto it = rows_.find(name);
    if (it == rows_.end()) return Status(Errc::not_found, "unknown node");
    if (it->second.state != NodeState::up || it->second.last_heartbeat != heartbeat_seen)
      return Status(Errc::conflict, "node changed");
    it->second.state = NodeState::down;
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
  // Changes a row directly (what another process would have written).
  void edit(const std::string& name, const std::function<void(db::NodeRow&)>& fn) {
    std::lock_guard lk(mu_);
    fn(rows_[name]);
  }
  // Fault switch: runs before every state write, e.g. to let an operator's drain land between a
  // reader's list() and its write.
  std::function<void(const std::string& node)> before_write;

 private:
  std::mutex mu_;
  std::map<std::string, db::NodeRow> rows_;
};

// Replica rows with compare-and-set writes, versions from one counter (as the database's
// sequence). `keeps_data` answers whether an image still keeps data (default: yes); `on_change`
// sees every image whose rows changed (a change feed).
class FakeReplicaRepository final : public db::ReplicaRepository {
 public:
  Status record_copy(const db::ReplicaRow& r, std::optional<int64_t> expected_version) override {
    if (database_down) return Status(Errc::unavailable, "database down");
    if (keeps_data && !keeps_data(r.image_id)) return Status(Errc::not_found, "image keeps no data");
    {
      std::lock_guard lk(mu_);
      auto it = rows_.find({r.image_id, r.node});
      if (expected_version ? it == rows_.end() || it->second.version != *expected_version : it != rows_.end())
        return Status(Errc::conflict, "replica row changed");
      db::ReplicaRow row = r;
      row.state = ReplicaState::ok;
      row.version = ++version_;
      rows_[{r.image_id, r.node}] = row;
      hash_verified_[{r.image_id, r.node}] = r.verified_at;
    }
    changed(r.image_id);
    return {};
  }
  Status set_state(const db::ReplicaRow& seen, ReplicaState to) override {
    if (database_down) return Status(Errc::unavailable, "database down");
    {
      std::lock_guard lk(mu_);
      auto it = rows_.find({seen.image_id, seen.node});
      if (it == rows_.end()) return Status(Errc::not_found, "no replica");
      if (it->second.state != seen.state || it->second.version != seen.version)
        return Status(Errc::conflict, "replica row changed");
      it->second.state = to;
      it->second.version = ++version_;
    }
    if (on_set_state) on_set_state(seen, to);  // it landed
    changed(seen.image_id);
    return {};
  }
  Status mark_excess(const std::string& image_id, const std::string& node) override {
    {
      std::lock_guard lk(mu_);
      auto it = rows_.find({image_id, node});
      if (it != rows_.end() && it->second.state == ReplicaState::ok && (!keeps_data || keeps_data(image_id)))
        return Status(Errc::conflict, "ok row");
      db::ReplicaRow row;
      row.image_id = image_id;
      row.node = node;
      row.state = ReplicaState::excess;
      row.version = ++version_;
      rows_[{image_id, node}] = row;
    }
    changed(image_id);
    return {};
  }
  Status remove(const db::ReplicaRow& seen) override {
    {
      std::lock_guard lk(mu_);
      auto it = rows_.find({seen.image_id, seen.node});
      if (it == rows_.end()) return {};
      if (it->second.version != seen.version) return Status(Errc::conflict, "replica row changed");
    }
    if (on_remove) on_remove(seen);  // the moment the copy stops counting
    {
      std::lock_guard lk(mu_);
      rows_.erase({seen.image_id, seen.node});
    }
    changed(seen.image_id);
    return {};
  }
  Status remove_excess(const db::ReplicaRow& seen, const std::vector<db::ReplicaRow>& counted) override {
    {
      std::lock_guard lk(mu_);
      for (const auto& c : counted) {
        auto it = rows_.find({c.image_id, c.node});
        if (it == rows_.end() || it->second.state != ReplicaState::ok || it->second.version != c.version)
          return Status(Errc::conflict, "a counted copy changed");
      }
      auto it = rows_.find({seen.image_id, seen.node});
      if (it == rows_.end()) return Status(Errc::not_found, "no replica");
      if (it->second.version != seen.version) return Status(Errc::conflict, "replica row changed");
    }
    if (on_remove) on_remove(seen);
    {
      std::lock_guard lk(mu_);
      rows_.erase({seen.image_id, seen.node});
    }
    changed(seen.image_id);
    return {};
  }
  Status forget(const std::string& image_id, const std::string& node) override {
    {
      std::lock_guard lk(mu_);
      rows_.erase({image_id, node});
    }
    changed(image_id);
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
  // A verification of the row as read (no new version, no feed entry); false if it changed.
  bool verify(const std::string& image_id, const std::string& node, int64_t version, db::Timestamp at, bool hash) {
    std::lock_guard lk(mu_);
    auto it = rows_.find({image_id, node});
    if (it == rows_.end() || it->second.version != version || it->second.state != ReplicaState::ok) return false;
    it->second.verified_at = at;
    if (hash) hash_verified_[{image_id, node}] = at;
    return true;
  }
  std::optional<db::Timestamp> hash_verified(const std::string& image_id, const std::string& node) {
    std::lock_guard lk(mu_);
    auto it = hash_verified_.find({image_id, node});
    return it == hash_verified_.end() ? std::nullopt : it->second;
  }
  std::vector<db::ReplicaRow> all() {
    std::lock_guard lk(mu_);
    std::vector<db::ReplicaRow> out;
    for (auto& [_, r] : rows_) out.push_back(r);
    return out;
  }
  // Test set-up: writes a row as another process would (a new version; fires on_change).
  void put(db::ReplicaRow r) {
    const std::string id = r.image_id;
    {
      std::lock_guard lk(mu_);
      r.version = ++version_;
      rows_[{r.image_id, r.node}] = std::move(r);
    }
    changed(id);
  }
  // Changes a row in place without a new version or a feed entry (a stale-row fault).
  void tamper(const std::string& image_id, const std::string& node, const std::function<void(db::ReplicaRow&)>& fn) {
    std::lock_guard lk(mu_);
    auto it = rows_.find({image_id, node});
    if (it != rows_.end()) fn(it->second);
  }
  std::string state(const std::string& image_id, const std::string& node) {
    std::lock_guard lk(mu_);
    auto it = rows_.find({image_id, node});
    return it == rows_.end() ? std::string("none") : to_string(it->second.state);
  }
  std::atomic<bool> database_down{false};  // record_copy and set_state answer unavailable
  std::function<bool(const std::string& image_id)> keeps_data;
  std::function<void(const std::string& image_id)> on_change;
  // Observers (simulation invariants): a state change that landed; a row about to go.
  std::function<void(const db::ReplicaRow& seen, ReplicaState to)> on_set_state;
  std::function<void(const db::ReplicaRow& seen)> on_remove;

 private:
  void changed(const std::string& image_id) {
    if (on_change) on_change(image_id);
  }
  std::mutex mu_;
  int64_t version_ = 0;
  std::map<std::pair<std::string, std::string>, db::ReplicaRow> rows_;
  std::map<std::pair<std::string, std::string>, std::optional<db::Timestamp>> hash_verified_;
};

// Blob peers keyed by node name. A down node is unreachable; cut_after[node] = N makes a PUT
// break after N bytes and a read stop after N bytes (the node then counts as unreachable, or
// quarantines the copy when corrupt_on_cut is set).
class FakeBlobPeer final : public peer::BlobPeer {
 public:
  Expected<peer::StoredBlob> put(const peer::Endpoint& node, const std::string& id, http::BodySource& body,
                                 std::optional<uint64_t>, const peer::PutOptions& opts = {}) override {
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
    const std::string digest = digest_of(data);
    if (opts.expect_digest && digest != *opts.expect_digest) return Error{Errc::corrupt, "digest mismatch"};
    std::lock_guard lk(mu_);
    auto it = blobs_[node.node].find(id);
    if (it != blobs_[node.node].end()) {
      if (!opts.replace_digest || digest_of(it->second) != *opts.replace_digest) return Error{Errc::conflict, "exists"};
      quarantined_[node.node].push_back(it->second);  // the old bytes are kept aside
    }
    blobs_[node.node][id] = data;
    return peer::StoredBlob{data.size(), digest};
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
  Status remove(const peer::Endpoint& node, const std::string& id, const std::string& if_match) override {
    if (is_down(node.node)) return Status(Errc::unavailable, "connect: refused");
    std::lock_guard lk(mu_);
    auto it = blobs_[node.node].find(id);
    if (it == blobs_[node.node].end()) return {};
    if (if_match != "*" && digest_of(it->second) != if_match) return Status(Errc::conflict, "other bytes");
    blobs_[node.node].erase(it);
    return {};
  }
  Expected<std::optional<peer::StoredBlob>> stat(const peer::Endpoint& node, const std::string& id) override {
    if (is_down(node.node)) return Error{Errc::unavailable, "connect: refused"};
    std::lock_guard lk(mu_);
    auto it = blobs_[node.node].find(id);
    if (it == blobs_[node.node].end()) return std::optional<peer::StoredBlob>();
    return std::optional<peer::StoredBlob>(peer::StoredBlob{it->second.size(), digest_of(it->second)});
  }
  static std::string digest_of(const std::string& data) {
    hash::Xxh128Stream x;
    x.update(hash::as_bytes(data));
    return hash::digest_hex(x.digest());
  }
  size_t quarantined(const std::string& node) {
    std::lock_guard lk(mu_);
    return quarantined_[node].size();
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
  std::map<std::string, std::vector<std::string>> quarantined_;
};

}  // namespace glint::testing
