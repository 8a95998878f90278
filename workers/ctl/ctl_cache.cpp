// glintctl cache: the image caches of every API node, from the database (the rows are what the
// cluster knows; each node's prefetcher acts on its queue and the coordinator rings it awake).
#include <iostream>

#include "shared/core/time_text.hpp"
#include "shared/core/uuid.hpp"
#include "shared/db/cache_repository.hpp"
#include "workers/ctl/ctl_commands.hpp"
#include "workers/ctl/ctl_render.hpp"

namespace glint::ctl {
namespace {

// The prefetchers poll their queues; the doorbell only makes them act now.
void ring(const config::Config& cfg, const Args& a) {
  const std::string why = ring_cache_queue(cfg);
  if (!why.empty() && !a.json)
    std::cerr << "glintctl: " << why << "; the prefetchers find it at their next pass\n";
}

int list(const Args& a, db::CacheRepository& rows) {
  auto nodes = rows.nodes();
  if (!nodes) return unreachable(nodes.error());
  nlohmann::json out = nlohmann::json::array();
  std::vector<std::vector<std::string>> table_rows;
  for (const auto& node : *nodes) {
    if (!a.node.empty() && node != a.node) continue;
    auto entries = rows.entries(node);
    if (!entries) return unreachable(entries.error());
    auto queued = rows.queued(node);
    if (!queued) return unreachable(queued.error());
    nlohmann::json n = {{"node", node}, {"cached", nlohmann::json::array()}, {"queued", nlohmann::json::array()},
                        {"evicting", nlohmann::json::array()}};
    for (const auto& e : *entries) {
      n["cached"].push_back({{"image_id", e.image_id}, {"size", e.size}, {"hits", e.hits},
                             {"last_access", iso8601_utc(e.last_access)}});
      table_rows.push_back({node, e.image_id, "cached", human_bytes(e.size), std::to_string(e.hits),
                            iso8601_utc(e.last_access)});
    }
    for (const auto& q : *queued) {
      const bool evict = q.work == db::CacheWork::evict;
      n[evict ? "evicting" : "queued"].push_back(q.image_id);
      table_rows.push_back({node, q.image_id, evict ? "evicting" : "queued", "-", "-", iso8601_utc(q.queued_at)});
    }
    out.push_back(std::move(n));
  }
  if (!a.node.empty() && out.empty()) {
    std::cerr << "glintctl: no API node " << a.node << " keeps a cache\n";
    return kNotFound;
  }
  print(a, {{"nodes", out}}, table({"NODE", "IMAGE", "STATE", "SIZE", "HITS", "SINCE"}, table_rows));
  return 0;
}

// Queue once, every API node warms (as PUT /v2/cache/{id}); active images only, as Glance.
int queue(const config::Config& cfg, const Args& a, db::Pool& pool, db::CacheRepository& rows) {
  auto img = is_canonical_uuid(a.id) ? db::make_image_repository(pool)->get(a.id)
                                     : Expected<std::optional<db::ImageRow>>(std::nullopt);
  if (!img) return unreachable(img.error());
  if (!*img) {
    std::cerr << "glintctl: no image " << a.id << "\n";
    return kNotFound;
  }
  if ((*img)->status != ImageStatus::active) {
    std::cerr << "glintctl: image " << a.id << " is " << to_string((*img)->status) << ": not active, not caching\n";
    return kFailed;
  }
  auto n = rows.enqueue_everywhere(a.id);
  if (!n) return unreachable(n.error());
  ring(cfg, a);
  print(a, {{"image_id", a.id}, {"queued_on", *n}}, "image " + a.id + " queued on " + std::to_string(*n) + " API node(s)\n");
  return 0;
}

// Every node's cache (or --node's), its queue, or both: evictions are asked of the nodes'
// prefetchers (the files are on their disks); the queue rows go here.
int clear(const config::Config& cfg, const Args& a, db::CacheRepository& rows) {
  const std::string& t = a.target;
  if (t != "both" && t != "cache" && t != "queue") {
    std::cerr << "glintctl: --target is cache, queue or both, not '" << t << "'\n";
    return 2;
  }
  nlohmann::json out = nlohmann::json::object();
  if (t != "queue") {
    auto n = rows.enqueue_evictions(a.node, "");
    if (!n) return unreachable(n.error());
    out["evictions_queued"] = *n;
  }
  if (t != "cache") {
    auto nodes = rows.nodes();
    if (!nodes) return unreachable(nodes.error());
    uint64_t cleared = 0;
    for (const auto& node : *nodes) {
      if (!a.node.empty() && node != a.node) continue;
      auto n = rows.clear_queue(node);
      if (!n) return unreachable(n.error());
      cleared += *n;
    }
    out["queue_deleted"] = cleared;
  }
  if (out.contains("evictions_queued")) ring(cfg, a);
  std::string text;
  if (out.contains("evictions_queued"))
    text += std::to_string(out["evictions_queued"].get<uint64_t>()) + " cache entries to be removed by their nodes\n";
  if (out.contains("queue_deleted"))
    text += std::to_string(out["queue_deleted"].get<uint64_t>()) + " queued images dropped\n";
  print(a, out, text);
  return 0;
}

int nodes_caching(const Args& a, db::CacheRepository& rows) {
  if (!is_canonical_uuid(a.id)) {
    std::cerr << "glintctl: not an image id: " << a.id << "\n";
    return kNotFound;
  }
  auto nodes = rows.nodes_caching(a.id);
  if (!nodes) return unreachable(nodes.error());
  std::string text;
  for (const auto& n : *nodes) text += n + "\n";
  print(a, {{"image_id", a.id}, {"nodes", *nodes}}, text);
  return 0;
}

}  // namespace

int cache_command(const config::Config& cfg, const Args& a, db::Pool& pool) {
  auto rows = db::make_cache_repository(pool);
  if (a.command == "cache list") return list(a, *rows);
  if (a.command == "cache queue") return queue(cfg, a, pool, *rows);
  if (a.command == "cache clear") return clear(cfg, a, *rows);
  if (a.command == "cache nodes") return nodes_caching(a, *rows);
  std::cerr << "glintctl: unknown command '" << a.command << "'\n";
  return 2;
}

}  // namespace glint::ctl
