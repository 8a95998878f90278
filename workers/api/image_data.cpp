#include "workers/api/image_data.hpp"

#include <algorithm>
#include <map>
#include <thread>

namespace glint::api {

DataMetrics::DataMetrics(metrics::Metrics& m)
    : uploads_ok(m.counter("glint_api_uploads_total", "Image uploads by outcome").Add({{"outcome", "ok"}})),
      uploads_failed(m.counter("glint_api_uploads_total", "Image uploads by outcome").Add({{"outcome", "failed"}})),
      uploads_refused_format(m.counter("glint_api_uploads_total", "Image uploads by outcome")
                                 .Add({{"outcome", "refused_format"}})),
      upload_bytes(m.counter("glint_api_upload_bytes_total", "Image bytes received from clients").Add({})),
      download_bytes(m.counter("glint_api_download_bytes_total", "Image bytes sent to clients").Add({})),
      failovers(m.counter("glint_api_read_failovers_total",
                          "Downloads that continued from another replica after a node failed").Add({})),
      bad_replicas(m.counter("glint_api_bad_replicas_total", "Replicas found corrupt or missing while reading")),
      cleanup_deferred(m.counter("glint_api_cleanup_deferred_total",
                                 "Copies that could not be removed at once and were left for the reaper").Add({})),
      commit_in_doubt(m.counter("glint_api_commit_in_doubt_total",
                                "Uploads whose activation had to be re-read after the database connection broke").Add({})),
      races_lost(m.counter("glint_api_replica_races_lost_total",
                           "Replica marks not made because the row changed since it was read").Add({})),
      local_reads(m.counter("glint_api_local_reads_total",
                            "Reads of the local store's copies in place ([api] local_store_node) by outcome")),
      local_bytes(m.counter("glint_api_local_read_bytes_total", "Verified bytes read in place from the local store")
                      .Add({})) {}

ImageData::ImageData(DataOptions opts, db::ImageRepository& images, db::NodeRepository& nodes,
                     db::ReplicaRepository& replicas, peer::BlobPeer& peer, bus::Publisher& events,
                     metrics::Metrics& metrics, const Clock& clock, log::Logger logger, cache::ImageCache* cache)
    : opts_(std::move(opts)),
      images_(images),
      nodes_(nodes),
      replicas_(replicas),
      peer_(peer),
      events_(events),
      m_(metrics),
      clock_(clock),
      log_(std::move(logger)),
      cache_(cache) {}

Expected<placement::ClusterView> ImageData::view() {
  auto rows = nodes_.list();
  if (!rows) return rows.error();
  return placement::ClusterView(std::move(*rows), clock_.wall(), view_options());
}

placement::ViewOptions ImageData::view_options() const {
  placement::ViewOptions o;
  o.replicas = opts_.replicas;
  o.heartbeat_timeout = opts_.node_down_after;
  return o;
}

std::optional<peer::Endpoint> ImageData::endpoint(const placement::ClusterView& v, const std::string& node) const {
  const db::NodeRow* r = v.row(node);
  if (!r) return std::nullopt;
  auto ep = peer::endpoint_of(r->name, r->address);
  if (!ep) {
    log_.warn("node.bad_address", {{"node", r->name}, {"address", r->address}});
    return std::nullopt;
  }
  return *ep;
}

Expected<std::vector<peer::Endpoint>> ImageData::placed_nodes(const std::string& image_id, size_t count) {
  auto v = view();
  if (!v) return v.error();
  std::vector<peer::Endpoint> out;
  for (const auto& name : v->upload_targets(image_id, count))
    if (auto ep = endpoint(*v, name)) out.push_back(*ep);
  return out;
}

Expected<ImageData::ReadPlan> ImageData::read_sources(const std::string& image_id) {
  return peer::plan_reads(image_id, replicas_, nodes_, view_options(), clock_.wall(), log_);
}

void ImageData::discard_copies(const std::string& image_id, const std::vector<Discard>& copies) {
  for (const auto& c : copies) {
    Status s = peer_.remove(c.node, image_id, c.if_match);
    if (s) {
      (void)replicas_.forget(image_id, c.node.node);  // a row may exist from an earlier attempt
      continue;
    }
    // Recorded so the reaper finds the copy later; never a reason to fail the request.
    m_.cleanup_deferred.Increment();
    Status r = replicas_.mark_excess(image_id, c.node.node);
    log_.warn("cleanup.deferred", {{"image", image_id}, {"node", c.node.node}, {"error", s.message()},
                                   {"recorded", r ? "yes" : r.message()}});
  }
}

std::optional<db::ImageRow> ImageData::reread_after_doubt(const std::string& image_id) {
  auto backoff = opts_.doubt_backoff;
  for (int i = 0; i < opts_.doubt_rereads; ++i) {
    auto img = images_.get(image_id);
    if (img) return img->value_or(db::ImageRow{});  // id empty: the row is gone
    log_.warn("upload.commit_in_doubt", {{"image", image_id}, {"attempt", i + 1}, {"error", img.error().message}});
    if (i + 1 < opts_.doubt_rereads) std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
  return std::nullopt;
}

void ImageData::remove_data(const std::string& image_id) {
  events_.publish("image.deleted", {{"image", image_id}});
  // This node's cached copy goes now; the other nodes' are never served again (the image is not
  // active) and their prefetchers remove them.
  if (cache_) (void)cache_->evict(image_id);
  auto reps = replicas_.for_image(image_id);
  if (!reps) {
    log_.warn("cleanup.deferred", {{"image", image_id}, {"error", reps.error().message}});
    return;
  }
  auto v = view();
  if (!v) {
    log_.warn("cleanup.deferred", {{"image", image_id}, {"error", v.error().message}});
    return;
  }
  std::vector<Discard> holders;
  for (const auto& r : *reps)
    if (auto ep = endpoint(*v, r.node)) holders.push_back({*ep, r.digest.value_or("*")});
  discard_copies(image_id, holders);
}

}  // namespace glint::api
