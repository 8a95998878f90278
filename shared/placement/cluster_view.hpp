// The one model of the cluster that protects copies: from the nodes table at one moment, which
// nodes are live (may serve, and their copies count), which may take new copies, which hold
// placement slots, where an image belongs, and when a copy may be removed. glint-api (upload
// targets, read order), the replicator (pulls, excess) and the coordinator (silent nodes) all
// decide through it, so the rules below exist once. Immutable after construction; thread-safe.
//
// The rules, and why:
//  1. Fresh: a node's own heartbeat (written by its glint-store) is younger than
//     heartbeat_timeout ([cluster] node_down_after), judged on the database's clock (rows carry
//     read_at) — the clock that stamped the heartbeat — so a worker whose clock drifts cannot
//     take a dead node for a live one. A node that stopped heartbeating is treated
//     as down even before the coordinator marks it so: correctness must not depend on the
//     coordinator being up.
//  2. Live = state up or draining, and fresh. Only a live node is a source for reads and copies,
//     and only ok copies on live nodes count towards R. A node down within its grace period keeps
//     its placement slot (so a short outage does not trigger a flood of copies) but serves
//     nothing, so its copies must not be counted as if they were there.
//  3. Writable = state up and fresh: uploads and new copies go only there. Draining nodes serve
//     but take nothing new.
//  4. Slots: a node holds placement slots unless it is draining (the operator wants it empty) or
//     has been down — marked down, or silent — for longer than slot_grace
//     ([replicator] replicate_after_down). assigned(image) = the first R slot holders in
//     placement order (weighted rendezvous, zones first).
//  5. Never the last good copy: an ok copy on a node that is not assigned may be removed only when
//     R ok copies sit on assigned nodes that are live now. Callers re-decide on fresh rows (a
//     fresh view and fresh replica rows) immediately before the delete, check that each counted
//     copy is really on its node (size and digest), and delete in one transaction that locks the
//     counted rows as read (ReplicaRepository::remove_excess).
//  6. epoch(): a fingerprint of everything above that can change a decision without any replica
//     or image changing (R, the rebalance generation, slot holders with zone and weight, the live
//     set). The replicator scans every image when it changes.
#pragma once
#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "shared/db/rows.hpp"
#include "shared/placement/placement.hpp"

namespace glint::placement {

struct ViewOptions {
  size_t replicas = 3;
  std::chrono::milliseconds heartbeat_timeout{30000};
  std::chrono::milliseconds slot_grace{std::chrono::minutes(10)};
  std::string generation;  // the rebalance generation (HealingRepository::placement_generation)
};

class ClusterView {
 public:
  ClusterView() = default;
  ClusterView(std::vector<db::NodeRow> rows, db::Timestamp now, ViewOptions opts);

  // Rule 1, for callers that judge one row (the coordinator's sweep).
  static bool heartbeat_fresh(const db::NodeRow& n, db::Timestamp now, std::chrono::milliseconds timeout);

  bool live(const std::string& node) const;      // rule 2
  bool writable(const std::string& node) const;  // rule 3
  bool holds_slot(const std::string& node) const;  // rule 4
  const db::NodeRow* row(const std::string& node) const;  // nullptr for an unknown node
  const std::vector<db::NodeRow>& rows() const { return rows_; }
  size_t replicas() const { return opts_.replicas; }

  // Slot holders in placement order for the image, and the first R of them.
  std::vector<std::string> ranked(std::string_view image_id) const;
  std::vector<std::string> assigned(std::string_view image_id) const;
  // Where new data goes: `count` writable nodes in placement order.
  std::vector<std::string> upload_targets(std::string_view image_id, size_t count) const;
  // Nodes with an ok copy in the order to read them: live ones in placement order, then live ones
  // placement does not rank, then (last resort) ok copies on nodes that look down.
  std::vector<std::string> read_order(std::string_view image_id, const std::vector<db::ReplicaRow>& replicas) const;
  // Live nodes with an ok copy, in read order (sources for a copy).
  std::vector<std::string> live_sources(std::string_view image_id, const std::vector<db::ReplicaRow>& replicas) const;

  // Ok copies on assigned nodes that are live now (what rule 5 counts), and their rows.
  size_t live_assigned_ok(const db::ImageCopies& img) const { return live_assigned_ok_rows(img).size(); }
  std::vector<db::ReplicaRow> live_assigned_ok_rows(const db::ImageCopies& img) const;
  // Rule 5.
  bool may_remove_excess(const db::ImageCopies& img, const std::string& holder) const;
  // R ok copies on the assigned nodes (down ones within grace included: they are expected back)
  // and none on other live nodes: nothing left for the replicator to do.
  bool in_place(const db::ImageCopies& img) const;

  const std::string& epoch() const { return epoch_; }  // rule 6

 private:
  struct Facts {
    bool live = false;
    bool writable = false;
    bool slot = false;
  };
  const Facts* facts(const std::string& node) const;

  std::vector<db::NodeRow> rows_;
  ViewOptions opts_;
  std::map<std::string, Facts> facts_;
  std::vector<Node> slot_nodes_;
  std::vector<Node> writable_nodes_;
  std::string epoch_;
};

}  // namespace glint::placement
