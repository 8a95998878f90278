// The cache API of Images v2.14+ as Glance answers it, over this node's ImageCache and the
// cluster's cache rows. Glance queues an image on the node that was asked; glint queues it on
// every API node (one PUT warms the whole cluster) and rings the cache.queue doorbell.
#include <algorithm>
#include <cctype>
#include <chrono>

#include "shared/core/uuid.hpp"
#include "workers/api/api_handler.hpp"
#include "workers/api/image_json.hpp"

namespace glint::api {

namespace {

double epoch_seconds(db::Timestamp t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

http::Response not_supported(const http::Request& req) {
  return glance_error(req, 404, "Caching via API is not supported at this site.");
}

http::Response forbidden(const http::Request& req) {
  return glance_error(req, 403, "Access was denied to this resource.");
}

}  // namespace

bool ApiHandler::may_manage_cache(const Identity& who, Action a, const PolicyTarget& target) const {
  // Without authentication every caller is the operator (Glance's noauth context is an admin).
  return who.unrestricted || allows(who, a, target);
}

http::Response ApiHandler::cache_api(const http::Request& req, const Identity& who, ApiRoute::Kind kind,
                                     const std::string& id) {
  const std::string& m = req.method;
  if (kind == ApiRoute::Kind::cache_image) {
    if (m == "PUT") return cache_queue(req, who, id);
    if (m == "DELETE") return cache_delete(req, who, id);
    return method_not_allowed(req, "PUT, DELETE");
  }
  if (kind == ApiRoute::Kind::cache_clean || kind == ApiRoute::Kind::cache_prune) {
    if (m != "POST") return method_not_allowed(req, "POST");
    return cache_maintain(req, who, kind);
  }
  if (kind == ApiRoute::Kind::cache && m == "DELETE") return cache_clear(req, who);
  if (m != "GET") return method_not_allowed(req, kind == ApiRoute::Kind::cache ? "GET, DELETE" : "GET");
  if (!may_manage_cache(who, Action::cache_list, {{"project_id", who.project}})) return forbidden(req);
  if (!opts_.cache) return not_supported(req);
  db::CacheRepository& rows = opts_.cache->repository();
  if (kind == ApiRoute::Kind::cache_nodes) {
    if (!is_canonical_uuid(id)) return glance_error(req, 404, "Image " + id + " not found.");
    auto nodes = rows.nodes_caching(id);
    if (!nodes) return unavailable(req, nodes.error());
    return json_response(200, {{"image_id", id}, {"nodes", *nodes}});
  }
  const std::string& node = opts_.cache->options().node;
  auto entries = rows.entries(node);
  if (!entries) return unavailable(req, entries.error());
  auto queued = rows.queued(node);
  if (!queued) return unavailable(req, queued.error());
  nlohmann::json cached = nlohmann::json::array(), waiting = nlohmann::json::array();
  for (const auto& e : *entries)
    cached.push_back({{"image_id", e.image_id}, {"hits", e.hits}, {"last_accessed", epoch_seconds(e.last_access)},
                      {"last_modified", epoch_seconds(e.created_at)}, {"size", e.size}});
  for (const auto& q : *queued)
    if (q.work == db::CacheWork::fetch) waiting.push_back(q.image_id);
  return json_response(200, {{"cached_images", cached}, {"queued_images", waiting}});
}

http::Response ApiHandler::cache_queue(const http::Request& req, const Identity& who, const std::string& id) {
  // Glance looks the image up without the caller's visibility: an admin-only API.
  auto img = is_canonical_uuid(id) ? images_.get(id) : Expected<std::optional<db::ImageRow>>(std::nullopt);
  if (!img) return unavailable(req, img.error());
  if (!*img) return glance_error(req, 404, "Image " + id + " not found.");
  if (!may_manage_cache(who, Action::cache_image, image_target(**img, who))) return forbidden(req);
  if (!opts_.cache) return not_supported(req);
  if ((*img)->status != ImageStatus::active)
    return glance_error(req, 400, "Only images with status active can be targeted for queueing");
  auto queued = opts_.cache->repository().enqueue_everywhere(id);
  if (!queued) return unavailable(req, queued.error());
  if (opts_.events) opts_.events->publish("cache.queue", {{"image", id}});
  log_.info("cache.queued", {{"req", req.request_id}, {"image", id}, {"nodes", static_cast<uint64_t>(*queued)}});
  http::Response resp = no_content();
  resp.status = 202;
  return resp;
}

http::Response ApiHandler::cache_delete(const http::Request& req, const Identity& who, const std::string& id) {
  auto img = is_canonical_uuid(id) ? images_.get(id) : Expected<std::optional<db::ImageRow>>(std::nullopt);
  if (!img) return unavailable(req, img.error());
  if (!opts_.cache) {
    if (!may_manage_cache(who, Action::cache_delete, {{"project_id", who.project}})) return forbidden(req);
    return not_supported(req);
  }
  const std::string& node = opts_.cache->options().node;
  if (!*img) {
    // A deleted image may still sit in the cache or the queue: that is what this call clears.
    const auto ids = opts_.cache->cached_ids();
    auto queued = opts_.cache->repository().queued(node);
    if (!queued) return unavailable(req, queued.error());
    const bool known = std::find(ids.begin(), ids.end(), id) != ids.end() ||
                       std::any_of(queued->begin(), queued->end(), [&](const auto& q) { return q.image_id == id; });
    if (!known) return glance_error(req, 404, "Image " + id + " not found.");
  }
  const PolicyTarget target = *img ? image_target(**img, who) : PolicyTarget{{"project_id", who.project}};
  if (!may_manage_cache(who, Action::cache_delete, target)) return forbidden(req);
  if (Status s = opts_.cache->evict(id); !s) return unavailable(req, s.error());
  if (Status s = opts_.cache->repository().dequeue(node, id); !s) return unavailable(req, s.error());
  return no_content();
}

http::Response ApiHandler::cache_clear(const http::Request& req, const Identity& who) {
  if (!may_manage_cache(who, Action::cache_delete, {{"project_id", who.project}})) return forbidden(req);
  if (!opts_.cache) return not_supported(req);
  std::string target(req.headers.get("x-image-cache-clear-target").value_or(""));
  std::transform(target.begin(), target.end(), target.begin(), [](unsigned char c) { return std::tolower(c); });
  const bool both = target.empty() || target == "both";
  if (!both && target != "cache" && target != "queue")
    return glance_error(req, 400, "If provided 'x-image-cache-clear-target' must be 'cache', 'queue' or empty string.");
  uint64_t removed = 0, dequeued = 0;
  if (both || target == "cache")
    for (const auto& id : opts_.cache->cached_ids())
      if (opts_.cache->evict(id)) ++removed;
  if (both || target == "queue") {
    auto n = opts_.cache->repository().clear_queue(opts_.cache->options().node);
    if (!n) return unavailable(req, n.error());
    dequeued = *n;
  }
  // Glance counts what went but answers 204 without a body (tempest checks the status).
  log_.info("cache.cleared", {{"req", req.request_id}, {"entries", removed}, {"queued", dequeued}});
  return no_content();
}

http::Response ApiHandler::cache_maintain(const http::Request& req, const Identity& who, ApiRoute::Kind kind) {
  if (!may_manage_cache(who, Action::cache_delete, {{"project_id", who.project}})) return forbidden(req);
  if (!opts_.cache) return not_supported(req);
  cache::ImageCache& c = *opts_.cache;
  if (kind == ApiRoute::Kind::cache_clean) {
    const uint64_t files = c.clean_stale();
    log_.info("cache.cleaned", {{"req", req.request_id}, {"files", files}});
    return json_response(200, {{"cleaned_files", files}});
  }
  const auto p = c.prune(c.options().max_size);
  log_.info("cache.pruned", {{"req", req.request_id}, {"files", static_cast<uint64_t>(p.files)}, {"bytes", p.bytes}});
  return json_response(200, {{"pruned_files", p.files}, {"pruned_bytes", p.bytes}, {"size", p.size_after},
                             {"max_size", c.options().max_size}});
}

}  // namespace glint::api
