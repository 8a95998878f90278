// The replicator's decisions, without I/O: what this node must do about one image (pull a copy,
// remove its excess copy, or nothing), on the rules of placement::ClusterView. Pure functions;
// thread-safe.
#pragma once
#include <string>
#include <vector>

#include "shared/db/rows.hpp"
#include "shared/placement/cluster_view.hpp"

namespace glint::replicator {

enum class Action { none, pull, remove };

struct Decision {
  Action action = Action::none;
  std::vector<std::string> sources;  // pull: live nodes holding an ok copy, in placement order
  size_t ok_assigned = 0;            // ok copies on assigned nodes that are live
  size_t ok_total = 0;               // ok copies anywhere
  std::string reason;
};

// What `me` must do for one image with data: pull when placement assigns it here and it holds no
// ok copy; remove its ok copy when it is not assigned and ClusterView::may_remove_excess allows
// it (R live assigned copies: never the last good copy).
Decision decide(const db::ImageCopies& img, const placement::ClusterView& view, const std::string& me);

}  // namespace glint::replicator
