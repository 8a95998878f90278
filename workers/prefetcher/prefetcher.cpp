#include "workers/prefetcher/prefetcher.hpp"

#include <set>

#include "shared/hash/hash.hpp"
#include "shared/peer/read_plan.hpp"

namespace glint::prefetcher {

Prefetcher::Prefetcher(placement::ViewOptions view, cache::ImageCache& cache, db::ImageRepository& images,
                       db::ReplicaRepository& replicas, db::NodeRepository& nodes, peer::BlobPeer& peer,
                       const Clock& clock)
    : view_(std::move(view)), cache_(cache), rows_(cache.repository()), images_(images), replicas_(replicas),
      nodes_(nodes), peer_(peer), clock_(clock) {}

Expected<worker::PassResult> Prefetcher::run_once(const worker::PassContext& ctx) {
  worker::PassResult r;
  if (Status s = fill_queue(ctx, r); !s) return s.error();
  const size_t cleaned = clean_entries(ctx);
  const size_t stale = cache_.clean_stale();
  const auto pruned = cache_.prune(cache_.options().max_size);
  r.summary = "cleaned=" + std::to_string(cleaned) + " stale_files=" + std::to_string(stale) +
              " pruned=" + std::to_string(pruned.files) + " cache_bytes=" + std::to_string(pruned.size_after);
  return r;
}

Status Prefetcher::fill_queue(const worker::PassContext& ctx, worker::PassResult& r) {
  const std::string& node = cache_.options().node;
  auto queued = rows_.queued(node);
  if (!queued) return queued.status();
  r.backlog = queued->size();
  uint64_t done = 0;
  for (const auto& q : *queued) {
    if (ctx.stop.stop_requested()) break;
    ctx.report_progress(done++, queued->size());
    ++r.items;
    if (q.work == db::CacheWork::evict) {
      // An operator's clear (glintctl cache clear): the file and its row go, then the request.
      Status s = cache_.evict(q.image_id);
      if (s) s = rows_.dequeue(node, q.image_id);
      if (!s) ++r.failed;
      if (s) ctx.logger.info("cache.evicted", {{"image", q.image_id}, {"by", "request"}});
      continue;
    }
    auto img = images_.get(q.image_id);
    if (!img) {
      ++r.failed;
      continue;
    }
    if (!*img || (*img)->status != ImageStatus::active || !(*img)->size) {
      ctx.logger.info("cache.not_active", {{"image", q.image_id}, {"note", "not active, not caching"}});
      (void)rows_.dequeue(node, q.image_id);
      continue;
    }
    const uint64_t size = static_cast<uint64_t>(*(*img)->size);
    auto plan = peer::plan_reads(q.image_id, replicas_, nodes_, view_, clock_.wall(), ctx.logger);
    const auto digest = plan ? peer::agreed_digest(*plan, size) : std::nullopt;
    if (!digest) {
      ctx.logger.warn("cache.no_source", {{"image", q.image_id}, {"error", plan ? "no agreed ok copy" : plan.error().message}});
      ++r.failed;
      continue;
    }
    if (!ctx.take_bytes(size)) break;
    auto hooks = [log = ctx.logger, id = q.image_id] {
      peer::FailoverHooks h;
      h.on_failed = [log, id](const peer::Endpoint& n, const peer::ReadResult& res) {
        log.warn("cache.replica_failed", {{"image", id}, {"node", n.node}, {"outcome", peer::outcome_name(res.outcome)}});
      };
      return h;
    };
    Status s = cache_.fill({q.image_id, size, *digest}, peer::open_ranges(peer_, q.image_id, plan->sources, hooks));
    if (!s) {
      ctx.logger.warn("cache.prefetch_failed", {{"image", q.image_id}, {"error", s.message()}});
      ++r.failed;
      continue;
    }
    (void)rows_.dequeue(node, q.image_id);  // also when it was cached already
    r.bytes += size;
    if (r.backlog && *r.backlog > 0) --*r.backlog;
  }
  return {};
}

size_t Prefetcher::clean_entries(const worker::PassContext& ctx) {
  const std::string& node = cache_.options().node;
  auto rows = rows_.entries(node);
  std::set<std::string> recorded;
  if (rows)
    for (const auto& e : *rows) recorded.insert(e.image_id);
  size_t removed = 0;
  for (const auto& id : cache_.cached_ids()) {
    if (ctx.stop.stop_requested()) break;
    auto img = images_.get(id);
    if (!img) continue;  // the database is down: decide next pass
    if (!*img || (*img)->status != ImageStatus::active) {
      // Never served any more (downloads check), so nothing is lost; the space comes back.
      if (cache_.evict(id)) ++removed;
      continue;
    }
    if (rows && !recorded.count(id)) {
      if (auto info = cache_.store().stat(id))
        (void)rows_.record_entry(node, id, info->size, hash::digest_hex(info->digest));
    }
  }
  return removed;
}

}  // namespace glint::prefetcher
