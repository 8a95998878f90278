#include "workers/replicator/plan.hpp"

#include <algorithm>

namespace glint::replicator {

Decision decide(const db::ImageCopies& img, const placement::ClusterView& view, const std::string& me) {
  Decision d;
  const std::vector<std::string> assigned = view.assigned(img.id);
  bool me_ok = false;
  for (const auto& r : img.replicas) {
    if (r.state != ReplicaState::ok) continue;
    ++d.ok_total;
    me_ok = me_ok || r.node == me;
  }
  d.ok_assigned = view.live_assigned_ok(img);
  const bool me_assigned = std::find(assigned.begin(), assigned.end(), me) != assigned.end();
  if (me_assigned && !me_ok) {
    d.sources = view.live_sources(img.id, img.replicas);
    d.action = Action::pull;
    d.reason = d.sources.empty() ? "no live source" : "assigned here";
    return d;
  }
  if (me_ok && !me_assigned) {
    if (view.may_remove_excess(img, me)) {
      d.action = Action::remove;
      d.reason = "excess: R assigned live nodes hold a verified copy";
    } else {
      d.reason = "excess kept until R assigned live nodes hold a verified copy";
    }
  }
  return d;
}

}  // namespace glint::replicator
