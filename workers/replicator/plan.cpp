#include "workers/replicator/plan.hpp"

#include <algorithm>

#include "shared/hash/hash.hpp"

namespace glint::replicator {

ClusterView view_of(const std::vector<db::NodeRow>& nodes, std::chrono::system_clock::time_point now,
                    std::chrono::milliseconds grace, size_t replicas, const std::string& generation) {
  ClusterView v;
  std::string fingerprint = "r=" + std::to_string(replicas) + ";g=" + generation;
  for (const auto& n : nodes) {
    if (n.state == "up" || n.state == "draining") v.live.insert(n.name);  // a draining node still serves
    const bool recently_down = n.state == "down" && n.state_since && now - *n.state_since < grace;
    if (n.state != "up" && !recently_down) continue;
    placement::Node p;
    p.name = n.name;
    p.zone = n.zone;
    p.weight = n.weight;
    v.placement.push_back(p);
    fingerprint += ";" + n.name + "/" + n.zone + "/" + std::to_string(n.weight);
  }
  v.epoch = std::to_string(hash::block_xxh3(hash::as_bytes(fingerprint)));
  return v;
}

Decision decide(const db::ImageCopies& img, const ClusterView& view, const std::string& me, size_t replicas) {
  Decision d;
  const std::vector<std::string> ranked = placement::rank(view.placement, img.id);
  const std::vector<std::string> assigned(ranked.begin(), ranked.begin() + std::min(ranked.size(), replicas));
  std::set<std::string> ok;
  for (const auto& r : img.replicas)
    if (r.state == "ok") ok.insert(r.node);
  d.ok_total = ok.size();
  for (const auto& n : assigned) d.ok_assigned += ok.count(n);
  const bool me_assigned = std::find(assigned.begin(), assigned.end(), me) != assigned.end();
  const bool me_ok = ok.count(me) > 0;
  if (me_assigned && !me_ok) {
    // Sources: live nodes with an ok copy, placement order first (assigned nodes are the likeliest
    // to be verified recently), then any other live holder.
    for (const auto& n : ranked)
      if (ok.count(n) && view.live.count(n)) d.sources.push_back(n);
    for (const auto& n : ok)
      if (view.live.count(n) && std::find(d.sources.begin(), d.sources.end(), n) == d.sources.end())
        d.sources.push_back(n);
    d.action = Action::pull;
    d.reason = d.sources.empty() ? "no live source" : "assigned here";
    return d;
  }
  if (me_ok && !me_assigned) {
    if (assigned.size() == replicas && d.ok_assigned == replicas) {
      d.action = Action::remove;
      d.reason = "excess: every assigned node holds a verified copy";
    } else {
      d.reason = "excess kept until the assigned nodes hold R copies";
    }
  }
  return d;
}

bool in_place(const db::ImageCopies& img, const ClusterView& view, size_t replicas) {
  const std::vector<std::string> assigned = placement::choose(view.placement, img.id, replicas);
  size_t ok_assigned = 0, ok_elsewhere = 0;
  for (const auto& r : img.replicas) {
    if (r.state != "ok") continue;
    if (std::find(assigned.begin(), assigned.end(), r.node) != assigned.end()) {
      ++ok_assigned;
    } else if (view.live.count(r.node)) {
      ++ok_elsewhere;  // copies on dead nodes are not placement's business until they return
    }
  }
  return ok_assigned == std::min(replicas, assigned.size()) && ok_elsewhere == 0;
}

}  // namespace glint::replicator
