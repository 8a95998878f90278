#include "workers/api/image_data.hpp"

#include <algorithm>
#include <map>

#include "shared/placement/placement.hpp"

namespace glint::api {

DataMetrics::DataMetrics(metrics::Metrics& m)
    : uploads_ok(m.counter("glint_api_uploads_total", "Image uploads by outcome").Add({{"outcome", "ok"}})),
      uploads_failed(m.counter("glint_api_uploads_total", "Image uploads by outcome").Add({{"outcome", "failed"}})),
      upload_bytes(m.counter("glint_api_upload_bytes_total", "Image bytes received from clients").Add({})),
      download_bytes(m.counter("glint_api_download_bytes_total", "Image bytes sent to clients").Add({})),
      failovers(m.counter("glint_api_read_failovers_total",
                          "Downloads that continued from another replica after a node failed").Add({})),
      bad_replicas(m.counter("glint_api_bad_replicas_total", "Replicas found corrupt or missing while reading")),
      cleanup_deferred(m.counter("glint_api_cleanup_deferred_total",
                                 "Copies that could not be removed at once and were left for the reaper").Add({})) {}

ImageData::ImageData(DataOptions opts, db::ImageRepository& images, db::NodeRepository& nodes,
                     db::ReplicaRepository& replicas, peer::BlobPeer& peer, bus::Publisher& events,
                     metrics::Metrics& metrics, const Clock& clock, log::Logger logger)
    : opts_(std::move(opts)),
      images_(images),
      nodes_(nodes),
      replicas_(replicas),
      peer_(peer),
      events_(events),
      m_(metrics),
      clock_(clock),
      log_(std::move(logger)) {}

namespace {

// The nodes table as placement input plus endpoints; a node counts as live when it is up and its
// last heartbeat is recent (the coordinator may not have marked a silent node down yet).
struct ClusterView {
  std::vector<placement::Node> nodes;
  std::map<std::string, peer::Endpoint> endpoints;
  std::map<std::string, bool> live;
};

ClusterView view_of(const std::vector<db::NodeRow>& rows, std::chrono::system_clock::time_point now,
                    std::chrono::milliseconds down_after, const log::Logger& log) {
  ClusterView v;
  for (const auto& r : rows) {
    auto ep = peer::endpoint_of(r.name, r.address);
    if (!ep) {
      log.warn("node.bad_address", {{"node", r.name}, {"address", r.address}});
      continue;
    }
    const bool fresh = r.last_heartbeat && now - *r.last_heartbeat <= down_after;
    const bool live = r.state == "up" && fresh;
    v.nodes.push_back(placement::Node{r.name, r.zone, r.weight, live ? placement::NodeState::up
                                                                     : placement::NodeState::down, false});
    v.endpoints.emplace(r.name, std::move(*ep));
    v.live[r.name] = live;
  }
  return v;
}

}  // namespace

Expected<std::vector<peer::Endpoint>> ImageData::placed_nodes(const std::string& image_id, size_t count) {
  auto rows = nodes_.list();
  if (!rows) return rows.error();
  ClusterView v = view_of(*rows, clock_.wall(), opts_.node_down_after, log_);
  std::vector<peer::Endpoint> out;
  for (const auto& name : placement::choose(v.nodes, image_id, count)) out.push_back(v.endpoints.at(name));
  return out;
}

Expected<std::vector<peer::Endpoint>> ImageData::read_sources(const std::string& image_id) {
  auto reps = replicas_.for_image(image_id);
  if (!reps) return reps.error();
  auto rows = nodes_.list();
  if (!rows) return rows.error();
  ClusterView v = view_of(*rows, clock_.wall(), opts_.node_down_after, log_);
  // Live nodes in placement order first (the copies placement wants are the ones kept verified),
  // then ok copies on nodes that look down, as a last resort.
  const auto ranked = placement::rank(v.nodes, image_id);
  auto position = [&](const std::string& node) {
    auto it = std::find(ranked.begin(), ranked.end(), node);
    return static_cast<size_t>(it - ranked.begin());
  };
  std::vector<std::string> ok;
  for (const auto& r : *reps)
    if (r.state == "ok" && v.endpoints.count(r.node)) ok.push_back(r.node);
  std::stable_sort(ok.begin(), ok.end(), [&](const auto& a, const auto& b) { return position(a) < position(b); });
  std::vector<peer::Endpoint> out;
  for (const auto& n : ok) out.push_back(v.endpoints.at(n));
  return out;
}

void ImageData::discard_copies(const std::string& image_id, const std::vector<peer::Endpoint>& nodes) {
  for (const auto& n : nodes) {
    Status s = peer_.remove(n, image_id);
    if (s) {
      (void)replicas_.remove(image_id, n.node);  // a row may exist from an earlier attempt
      continue;
    }
    // Recorded so the reaper finds the copy later; never a reason to fail the request.
    m_.cleanup_deferred.Increment();
    db::ReplicaRow row;
    row.image_id = image_id;
    row.node = n.node;
    row.state = "excess";
    Status r = replicas_.upsert(row);
    log_.warn("cleanup.deferred", {{"image", image_id}, {"node", n.node}, {"error", s.message()},
                                   {"recorded", r ? "yes" : r.message()}});
  }
}

void ImageData::remove_data(const std::string& image_id) {
  events_.publish("image.deleted", {{"image", image_id}});
  auto reps = replicas_.for_image(image_id);
  if (!reps) {
    log_.warn("cleanup.deferred", {{"image", image_id}, {"error", reps.error().message}});
    return;
  }
  auto rows = nodes_.list();
  if (!rows) {
    log_.warn("cleanup.deferred", {{"image", image_id}, {"error", rows.error().message}});
    return;
  }
  ClusterView v = view_of(*rows, clock_.wall(), opts_.node_down_after, log_);
  std::vector<peer::Endpoint> holders;
  for (const auto& r : *reps) {
    auto it = v.endpoints.find(r.node);
    if (it != v.endpoints.end()) holders.push_back(it->second);
  }
  discard_copies(image_id, holders);
}

}  // namespace glint::api
