#include "shared/placement/cluster_view.hpp"

#include <algorithm>
#include <set>

#include <xxhash.h>

namespace glint::placement {

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

bool ClusterView::heartbeat_fresh(const db::NodeRow& n, db::Timestamp now, std::chrono::milliseconds timeout) {
  if (n.read_at) now = *n.read_at;
  return n.last_heartbeat && now - *n.last_heartbeat <= timeout;
}

ClusterView::ClusterView(std::vector<db::NodeRow> rows, db::Timestamp now, ViewOptions opts)
    : rows_(std::move(rows)), opts_(std::move(opts)) {
  // Rows read from the database carry its clock, the one that stamped their heartbeats.
  if (!rows_.empty() && rows_.front().read_at) now = *rows_.front().read_at;
  std::string fingerprint = "r=" + std::to_string(opts_.replicas) + ";g=" + opts_.generation;
  for (const auto& n : rows_) {
    Facts f;
    const bool fresh = heartbeat_fresh(n, now, opts_.heartbeat_timeout);
    f.live = n.state != NodeState::down && fresh;
    f.writable = n.state == NodeState::up && fresh;
    // Down since: when it was marked down, or when its heartbeat went stale.
    std::optional<db::Timestamp> down_since;
    if (n.state == NodeState::down) {
      down_since = n.state_since ? n.state_since : n.last_heartbeat;
    } else if (!fresh) {
      down_since = n.last_heartbeat ? std::optional(*n.last_heartbeat + opts_.heartbeat_timeout) : n.state_since;
    }
    const bool within_grace = down_since && now - *down_since < opts_.slot_grace;
    f.slot = n.state != NodeState::draining && (f.live || within_grace);
    facts_[n.name] = f;
    Node p{n.name, n.zone, n.weight, NodeState::up, false};
    if (f.slot) {
      slot_nodes_.push_back(p);
      fingerprint += ";" + n.name + "/" + n.zone + "/" + std::to_string(n.weight) + (f.live ? "+" : "-");
    }
    if (f.writable) writable_nodes_.push_back(p);
    if (f.live && !f.slot) fingerprint += ";" + n.name + "+";
  }
  epoch_ = std::to_string(XXH3_64bits(fingerprint.data(), fingerprint.size()));
}

const ClusterView::Facts* ClusterView::facts(const std::string& node) const {
  auto it = facts_.find(node);
  return it == facts_.end() ? nullptr : &it->second;
}

bool ClusterView::live(const std::string& node) const {
  const Facts* f = facts(node);
  return f && f->live;
}

bool ClusterView::writable(const std::string& node) const {
  const Facts* f = facts(node);
  return f && f->writable;
}

bool ClusterView::holds_slot(const std::string& node) const {
  const Facts* f = facts(node);
  return f && f->slot;
}

const db::NodeRow* ClusterView::row(const std::string& node) const {
  for (const auto& r : rows_)
    if (r.name == node) return &r;
  return nullptr;
}

std::vector<std::string> ClusterView::ranked(std::string_view image_id) const { return rank(slot_nodes_, image_id); }

std::vector<std::string> ClusterView::assigned(std::string_view image_id) const {
  return choose(slot_nodes_, image_id, opts_.replicas);
}

std::vector<std::string> ClusterView::upload_targets(std::string_view image_id, size_t count) const {
  return choose(writable_nodes_, image_id, count);
}

std::vector<std::string> ClusterView::read_order(std::string_view image_id,
                                                 const std::vector<db::ReplicaRow>& replicas) const {
  std::set<std::string> ok;
  for (const auto& r : replicas)
    if (r.state == ReplicaState::ok && row(r.node)) ok.insert(r.node);
  std::vector<std::string> out = live_sources(image_id, replicas);
  for (const auto& n : ok)
    if (!contains(out, n)) out.push_back(n);  // looks down: a last resort
  return out;
}

std::vector<std::string> ClusterView::live_sources(std::string_view image_id,
                                                   const std::vector<db::ReplicaRow>& replicas) const {
  std::set<std::string> ok;
  for (const auto& r : replicas)
    if (r.state == ReplicaState::ok && live(r.node)) ok.insert(r.node);
  std::vector<std::string> out;
  // Placement order first: the copies placement wants are the ones kept verified.
  for (const auto& n : ranked(image_id))
    if (ok.count(n)) out.push_back(n);
  for (const auto& n : ok)
    if (!contains(out, n)) out.push_back(n);
  return out;
}

std::vector<db::ReplicaRow> ClusterView::live_assigned_ok_rows(const db::ImageCopies& img) const {
  const auto a = assigned(img.id);
  std::vector<db::ReplicaRow> out;
  for (const auto& r : img.replicas)
    if (r.state == ReplicaState::ok && live(r.node) && contains(a, r.node)) out.push_back(r);
  return out;
}

bool ClusterView::may_remove_excess(const db::ImageCopies& img, const std::string& holder) const {
  const auto a = assigned(img.id);
  if (contains(a, holder) || a.size() < opts_.replicas) return false;
  bool holds_ok = false;
  for (const auto& r : img.replicas) holds_ok = holds_ok || (r.node == holder && r.state == ReplicaState::ok);
  return holds_ok && live_assigned_ok(img) >= opts_.replicas;
}

bool ClusterView::in_place(const db::ImageCopies& img) const {
  const auto a = assigned(img.id);
  size_t ok_assigned = 0, ok_elsewhere = 0;
  for (const auto& r : img.replicas) {
    if (r.state != ReplicaState::ok) continue;
    if (contains(a, r.node)) {
      ++ok_assigned;
    } else if (live(r.node)) {
      ++ok_elsewhere;  // copies on dead nodes are not placement's business until they return
    }
  }
  return ok_assigned == std::min(opts_.replicas, a.size()) && ok_elsewhere == 0;
}

}  // namespace glint::placement
