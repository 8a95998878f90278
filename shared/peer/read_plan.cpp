#include "shared/peer/read_plan.hpp"

namespace glint::peer {

Expected<ReadPlan> plan_reads(const std::string& image_id, db::ReplicaRepository& replicas, db::NodeRepository& nodes,
                              const placement::ViewOptions& view, db::Timestamp now, const log::Logger& log) {
  auto reps = replicas.for_image(image_id);
  if (!reps) return reps.error();
  auto rows = nodes.list();
  if (!rows) return rows.error();
  const placement::ClusterView v(std::move(*rows), now, view);
  ReadPlan plan;
  for (const auto& r : *reps) plan.rows[r.node] = r;
  for (const auto& n : v.read_order(image_id, *reps)) {
    const db::NodeRow* node = v.row(n);
    if (!node) continue;
    auto ep = endpoint_of(node->name, node->address);
    if (!ep) {
      log.warn("node.bad_address", {{"node", node->name}, {"address", node->address}});
      continue;
    }
    plan.sources.push_back(*ep);
  }
  return plan;
}

std::optional<std::string> agreed_digest(const ReadPlan& plan, uint64_t size) {
  std::optional<std::string> digest;
  for (const auto& [node, r] : plan.rows) {
    if (r.state != ReplicaState::ok) continue;
    if (!r.digest || r.size.value_or(-1) != static_cast<int64_t>(size)) return std::nullopt;
    if (digest && *digest != *r.digest) return std::nullopt;
    digest = r.digest;
  }
  return digest;
}

RangeOpener open_ranges(BlobPeer& peer, std::string image_id, std::vector<Endpoint> sources,
                        std::function<FailoverHooks()> hooks) {
  return [&peer, id = std::move(image_id), sources = std::move(sources), hooks = std::move(hooks)](
             uint64_t first, uint64_t last) -> Expected<std::unique_ptr<http::BodySource>> {
    if (sources.empty())
      return Error{Errc::unavailable, "No storage node holds a readable copy of image " + id + " right now."};
    auto src = std::make_unique<FailoverSource>(peer, id, sources, first, last, hooks ? hooks() : FailoverHooks{});
    if (!src->start())
      return Error{Errc::unavailable, "No storage node could deliver image " + id + " right now; try again later."};
    return std::unique_ptr<http::BodySource>(std::move(src));
  };
}

}  // namespace glint::peer
