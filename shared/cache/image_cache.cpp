// Serving and housekeeping of cache entries; the single-flight fetch is in flight.cpp.
#include "shared/cache/image_cache.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include "shared/hash/hash.hpp"

namespace glint::cache {

CacheMetrics::CacheMetrics(metrics::Metrics& m)
    : hits(m.counter("glint_cache_hits_total", "Downloads served from a cache entry").Add({})),
      misses(m.counter("glint_cache_misses_total", "Downloads of an uncached image that fetched it into the cache")
                 .Add({})),
      joins(m.counter("glint_cache_single_flight_joins_total",
                      "Misses that followed a fetch of the same image already running").Add({})),
      bytes_served(m.counter("glint_cache_served_bytes_total", "Bytes sent from complete cache entries").Add({})),
      bytes_fetched(m.counter("glint_cache_fetched_bytes_total", "Bytes read from the storage nodes into the cache")
                        .Add({})),
      fills_ok(m.counter("glint_cache_fills_total", "Fetches into the cache by outcome").Add({{"outcome", "ok"}})),
      fills_failed(m.counter("glint_cache_fills_total", "Fetches into the cache by outcome").Add({{"outcome", "failed"}})),
      invalid(m.counter("glint_cache_invalid_total",
                        "Cache entries found corrupt or holding other bytes than the replicas (never served)").Add({})),
      pruned(m.counter("glint_cache_pruned_total", "Cache entries removed to stay under max_size").Add({})),
      entries(m.gauge("glint_cache_entries", "Complete entries in this node's cache").Add({})),
      size_bytes(m.gauge("glint_cache_size_bytes", "Bytes in this node's complete cache entries").Add({})) {}

Expected<std::unique_ptr<ImageCache>> ImageCache::open(CacheOptions opts, db::CacheRepository& repo,
                                                       metrics::Metrics& metrics, log::Logger logger) {
  blob::FsOptions fo;
  fo.data_dir = opts.dir;
  fo.block_size = opts.block_size;
  fo.fsync = opts.fsync;
  // Followers read the temp file while it grows: writes must land in the page cache.
  fo.direct_io = false;
  // Entries are read again and again from the page cache: verified in place, sent with sendfile.
  fo.reads = blob::ReadMode::mapped;
  fo.multi_process = true;  // glint-api and glint-prefetcher both fill it
  auto store = blob::open_fs_store(fo);
  if (!store) return Error{store.code(), "cache: " + store.error().message};
  const size_t swept = (*store)->cleanup_temp();
  if (swept > 0) logger.info("cache.temp_removed", {{"files", static_cast<uint64_t>(swept)}});
  if (Status s = repo.register_node(opts.node, opts.url); !s)
    logger.warn("cache.register_failed", {{"node", opts.node}, {"error", s.message()}});
  return std::make_unique<ImageCache>(std::move(opts), std::move(*store), repo, metrics, std::move(logger));
}

ImageCache::ImageCache(CacheOptions opts, std::unique_ptr<blob::BlobStore> store, db::CacheRepository& repo,
                       metrics::Metrics& metrics, log::Logger logger)
    : opts_(std::move(opts)), store_(std::move(store)), repo_(repo), m_(metrics), log_(std::move(logger)) {
  refresh_gauges();
}

std::unique_ptr<http::BodySource> ImageCache::serve(const CacheKey& key, uint64_t first, uint64_t last,
                                                    Upstream upstream) {
  auto reader = store_->open(key.image_id);
  if (!reader) {
    if (reader.code() == Errc::corrupt) drop_invalid(key.image_id, 0, reader.error().message);
    return nullptr;
  }
  const blob::BlobInfo& info = (*reader)->info();
  if (info.size != key.size || hash::digest_hex(info.digest) != key.digest) {
    drop_invalid(key.image_id, (*reader)->file_id(), "holds other bytes than the image's replicas");
    return nullptr;
  }
  m_.hits.Increment();
  if (Status s = repo_.record_hit(opts_.node, key.image_id); !s)
    log_.debug("cache.hit_not_recorded", {{"image", key.image_id}, {"error", s.message()}});
  // A corrupt block takes the file out of the cache; the rest of the range comes from the nodes.
  blob::VerifiedHooks hooks;
  hooks.on_corrupt = [this, id = key.image_id](uint64_t file_id, const std::string& why) { drop_invalid(id, file_id, why); };
  hooks.on_bytes = [this](uint64_t n) { m_.bytes_served.Increment(static_cast<double>(n)); };
  return std::make_unique<blob::VerifiedSource>(std::move(*reader), first, last, std::move(upstream), std::move(hooks));
}

void ImageCache::drop_invalid(const std::string& image_id, uint64_t file_id, const std::string& why) {
  m_.invalid.Increment();
  // Kept apart (quarantine), not deleted at once: an operator may want to look; the cleaner
  // removes quarantined files later.
  Status q = file_id == 0 ? store_->quarantine(image_id, why) : store_->quarantine_if(image_id, file_id, why);
  Status r = repo_.remove_entry(opts_.node, image_id);
  log_.warn("cache.invalid", {{"image", image_id}, {"why", why}, {"quarantined", q ? "yes" : q.message()},
                              {"row_removed", r ? "yes" : r.message()}});
  refresh_gauges();
}

Status ImageCache::evict(const std::string& image_id) {
  Status s = store_->remove(image_id);
  if (!s && s.code() != Errc::not_found) return s;
  Status r = repo_.remove_entry(opts_.node, image_id);
  refresh_gauges();
  return r;
}

std::vector<std::string> ImageCache::cached_ids() { return store_->list(); }

ImageCache::Pruned ImageCache::prune(uint64_t target) {
  auto files = on_disk();
  Pruned out;
  uint64_t& total = out.size_after;
  for (const auto& [id, size] : files) total += size;
  if (total <= target) return out;
  std::vector<std::string> order;  // files nobody recorded, then rows least recently used first
  auto rows = repo_.entries(opts_.node);
  std::set<std::string> recorded;
  if (rows)
    for (const auto& r : *rows) recorded.insert(r.image_id);
  for (const auto& [id, size] : files)
    if (!recorded.count(id)) order.push_back(id);
  if (rows)
    for (const auto& r : *rows) order.push_back(r.image_id);
  for (const auto& id : order) {
    if (total <= target) break;
    auto it = files.find(id);
    if (it == files.end()) continue;
    if (Status s = evict(id); !s) {
      log_.warn("cache.prune_failed", {{"image", id}, {"error", s.message()}});
      continue;
    }
    total -= it->second;
    out.bytes += it->second;
    files.erase(it);
    m_.pruned.Increment();
    ++out.files;
  }
  return out;
}

size_t ImageCache::clean_stale() {
  size_t removed = store_->cleanup_stale_temp(opts_.stall_time);
  namespace fs = std::filesystem;
  const auto cutoff = fs::file_time_type::clock::now() - opts_.stall_time;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(opts_.dir + "/quarantine", ec)) {
    std::error_code ec2;
    if (e.last_write_time(ec2) < cutoff && !ec2 && fs::remove(e.path(), ec2)) ++removed;
  }
  return removed;
}

std::map<std::string, uint64_t> ImageCache::on_disk() {
  std::map<std::string, uint64_t> out;
  for (const auto& id : store_->list())
    if (auto info = store_->stat(id)) out[id] = info->size;
  return out;
}

uint64_t ImageCache::size_bytes() {
  uint64_t total = 0;
  for (const auto& [id, size] : on_disk()) total += size;
  return total;
}

void ImageCache::refresh_gauges() {
  const auto entries = on_disk();
  uint64_t total = 0;
  for (const auto& [id, size] : entries) total += size;
  m_.entries.Set(static_cast<double>(entries.size()));
  m_.size_bytes.Set(static_cast<double>(total));
}

}  // namespace glint::cache
