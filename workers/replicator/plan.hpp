// The replicator's decisions, without I/O: which nodes placement assigns an image to among the
// nodes that count, and what this node must do about it (pull a copy, remove its excess copy, or
// nothing). Pure functions; thread-safe.
#pragma once
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "shared/db/repositories.hpp"
#include "shared/placement/placement.hpp"

namespace glint::replicator {

// The nodes as placement and the replicator see them at one moment.
struct ClusterView {
  std::vector<placement::Node> placement;  // eligible: up, or down for less than the grace period
  std::set<std::string> live;              // up or draining: may serve as a source
  std::string epoch;                       // changes whenever placement may change
};

// A node down for longer than `grace` loses its slots; a draining node has none.
ClusterView view_of(const std::vector<db::NodeRow>& nodes, std::chrono::system_clock::time_point now,
                    std::chrono::milliseconds grace, size_t replicas, const std::string& generation);

enum class Action { none, pull, remove };

struct Decision {
  Action action = Action::none;
  std::vector<std::string> sources;  // pull: live nodes holding an ok copy, in placement order
  size_t ok_assigned = 0;            // ok copies on assigned nodes
  size_t ok_total = 0;               // ok copies anywhere
  std::string reason;
};

// What `me` must do for one image with data. Excess is removed only when every assigned node
// holds an ok copy and there are R of them: never the last good copy.
Decision decide(const db::ImageCopies& img, const ClusterView& view, const std::string& me, size_t replicas);

// Whether the image is where placement wants it: R ok copies on assigned nodes and none elsewhere.
bool in_place(const db::ImageCopies& img, const ClusterView& view, size_t replicas);

}  // namespace glint::replicator
