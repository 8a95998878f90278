#include "workers/replicator/replicator.hpp"

#include "shared/worker/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

namespace glint::replicator {

namespace {

constexpr size_t kMaxRetries = 1000;  // more failures than this: the next pass scans everything
constexpr auto kFeedRetention = std::chrono::hours(24 * 7);

int64_t micros(db::Timestamp t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

Replicator::Replicator(ReplicatorOptions opts, Repositories db, peer::BlobPeer& peer, bus::Publisher& events,
                       metrics::Metrics& metrics, const Clock& clock)
    : opts_(std::move(opts)),
      db_(db),
      peer_(peer),
      events_(events),
      clock_(clock),
      copied_(metrics.counter("glint_replicator_copied_total", "Replicas copied to this node.").Add({})),
      copied_bytes_(metrics.counter("glint_replicator_copied_bytes_total", "Bytes copied to this node.").Add({})),
      removed_(metrics.counter("glint_replicator_removed_total", "Excess replicas removed from this node.").Add({})),
      failed_(metrics.counter("glint_replicator_failed_total", "Copies or removals that failed (retried).").Add({})),
      pending_(metrics.gauge("glint_replicator_pending", "Images this node still has to act on.").Add({})),
      full_scans_(metrics.counter("glint_replicator_full_scans_total", "Passes that scanned every image.").Add({})),
      races_lost_(metrics.counter("glint_replicator_races_lost_total",
                                  "Replica writes not made because the row changed since it was read.").Add({})),
      stalls_(metrics.counter("glint_replicator_job_stalls_total",
                              "Jobs that saw no progress and made every replicator scan everything.").Add({})),
      flagged_(metrics.counter("glint_replicator_images_flagged_total",
                               "Images whose catalog digests disagree with every (agreeing) copy.").Add({})) {}

Expected<worker::PassResult> Replicator::run_once(const worker::PassContext& ctx) {
  if (!ctx.job_target) return converge(ctx, false);
  const JobTarget& t = *ctx.job_target;
  switch (t.kind) {
    case JobTarget::Kind::image: return repair(t.id, ctx);
    case JobTarget::Kind::rebalance: return rebalance(ctx);
    case JobTarget::Kind::node:
      if (t.drain) return drain(ctx);
      break;
    case JobTarget::Kind::cluster: break;
  }
  return converge(ctx, true);  // an operator asked for a pass: a full one
}

Expected<Replicator::View> Replicator::cluster() {
  auto rows = db_.nodes.list();
  if (!rows) return rows.error();
  auto generation = db_.heal.placement_generation();
  if (!generation) return generation.error();
  placement::ViewOptions o;
  o.replicas = opts_.replicas;
  o.heartbeat_timeout = opts_.heartbeat_timeout;
  o.slot_grace = opts_.replicate_after_down;
  o.generation = *generation;
  return View(std::move(*rows), clock_.wall(), o);
}

Expected<std::optional<Replicator::Checkpoint>> Replicator::load_checkpoint() {
  auto text = db_.heal.checkpoint(opts_.node, name());
  if (!text) return text.error();
  if (!*text) return std::optional<Checkpoint>();
  auto j = nlohmann::json::parse(**text, nullptr, false);
  // An older or damaged checkpoint: a full scan rebuilds it.
  for (const char* k : {"xid", "seq", "full_at"})
    if (!j.is_object() || !j.contains(k) || !j[k].is_number_integer()) return std::optional<Checkpoint>();
  Checkpoint c;
  c.at = {j["xid"].get<int64_t>(), j["seq"].get<int64_t>()};
  c.full_at = db::Timestamp(std::chrono::microseconds(j["full_at"].get<int64_t>()));
  c.epoch = j.value("epoch", std::string());
  if (j.contains("retry") && j["retry"].is_array())
    for (const auto& id : j["retry"])
      if (id.is_string()) c.retry.push_back(id.get<std::string>());
  return std::optional<Checkpoint>(std::move(c));
}

Status Replicator::plan_batch(const std::vector<std::string>& ids, const View& v, std::vector<Work>& work) {
  if (ids.empty()) return {};
  auto copies = db_.heal.copies(ids);
  if (!copies) return copies.error();
  for (auto& img : *copies) {
    if (!keeps_data(img.status)) continue;  // no data to keep: the reaper's
    Decision d = decide(img, v, opts_.node);
    if (d.action != Action::none) work.push_back(Work{std::move(img), std::move(d)});
  }
  return {};
}

Status Replicator::plan_full(const worker::PassContext& ctx, const View& v, std::vector<Work>& work, size_t& scanned) {
  std::string after;
  for (;;) {
    if (ctx.stop.stop_requested()) return Status(Errc::cancelled, "stopping");
    auto ids = db_.heal.images_with_data(after, opts_.page);
    if (!ids) return ids.error();
    if (ids->empty()) return {};
    after = ids->back();
    scanned += ids->size();
    if (Status s = plan_batch(*ids, v, work); !s) return s;
  }
}

Expected<std::vector<std::string>> Replicator::changed_ids(const Checkpoint& cp, db::FeedPosition& at) {
  std::vector<std::string> ids = cp.retry;
  at = cp.at;
  for (;;) {
    auto feed = db_.heal.changes(at, opts_.page);
    if (!feed) return feed.error();
    if (feed->empty()) break;
    for (const auto& e : *feed) ids.push_back(e.image_id);
    at = feed->back().at;
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

Expected<worker::PassResult> Replicator::converge(const worker::PassContext& ctx, bool force_full) {
  worker::PassResult out;
  auto v = cluster();
  if (!v) return v.error();
  const db::NodeRow* me = v->row(opts_.node);
  if (!me) return Error{Errc::not_found, "node " + opts_.node + " is not registered (glint-store)"};
  if (me->state == NodeState::down) {
    out.summary = "local store down: nothing to do";
    return out;
  }
  auto cp = load_checkpoint();
  if (!cp) return cp.error();
  const auto now = clock_.wall();
  const bool full = force_full || !*cp || (*cp)->epoch != v->epoch() || now - (*cp)->full_at >= opts_.full_scan_interval;
  Checkpoint next = cp->value_or(Checkpoint{});
  std::vector<Work> work;
  size_t scanned = 0;
  if (full) {
    full_scans_.Increment();
    // Taken before the scan: whatever settles later is read from the feed next time.
    auto head = db_.heal.feed_head();
    if (!head) return head.error();
    next.at = *head;
    next.full_at = now;
    if (Status s = plan_full(ctx, *v, work, scanned); !s) {
      if (s.code() == Errc::cancelled) return out;
      return s.error();
    }
  } else {
    auto ids = changed_ids(**cp, next.at);
    if (!ids) return ids.error();
    scanned = ids->size();
    for (size_t i = 0; i < ids->size(); i += opts_.page) {
      std::vector<std::string> batch(ids->begin() + i, ids->begin() + std::min(ids->size(), i + opts_.page));
      if (Status s = plan_batch(batch, *v, work); !s) return s.error();
    }
  }
  // Fewest good copies first; copies before removals.
  std::stable_sort(work.begin(), work.end(), [](const Work& a, const Work& b) {
    if ((a.decision.action == Action::pull) != (b.decision.action == Action::pull)) return a.decision.action == Action::pull;
    return a.decision.ok_total < b.decision.ok_total;
  });
  pending_.Set(static_cast<double>(work.size()));
  std::vector<std::string> failed = execute(work, *v, ctx, out);
  if (ctx.stop.stop_requested()) return out;  // checkpoint unchanged: the next pass sees it all again

  const bool changed = !*cp || (*cp)->at != next.at || (*cp)->epoch != v->epoch() || !failed.empty() ||
                       !(*cp)->retry.empty() || full;
  if (changed) {
    const bool too_many = failed.size() > kMaxRetries;
    nlohmann::json j = {{"xid", next.at.xid}, {"seq", next.at.seq}, {"full_at", micros(next.full_at)},
                        {"epoch", too_many ? "" : v->epoch()}};
    j["retry"] = too_many ? std::vector<std::string>() : failed;
    if (Status s = db_.heal.save_checkpoint(opts_.node, name(), j.dump()); !s) return s.error();
    if (Status s = db_.heal.prune_changes(std::chrono::duration_cast<std::chrono::seconds>(kFeedRetention)); !s)
      ctx.logger.warn("db.failed", {{"error", s.message()}});
  }
  pending_.Set(static_cast<double>(failed.size()));
  out.backlog = failed.size();
  out.summary = std::string(full ? "full" : "changes") + " scanned=" + std::to_string(scanned) +
                " work=" + std::to_string(work.size());
  return out;
}

std::vector<std::string> Replicator::execute(std::vector<Work>& work, const View& v, const worker::PassContext& ctx,
                                             worker::PassResult& out) {
  std::vector<std::string> failed;
  std::mutex mu;
  uint64_t done = 0;
  worker::parallel_for(work.size(), opts_.concurrency, ctx.stop, [&](size_t i) {
    uint64_t bytes = 0;
    const Outcome o =
        work[i].decision.action == Action::pull ? pull(work[i], v, ctx, bytes) : remove_excess(work[i], ctx);
    std::lock_guard lk(mu);
    if (o == Outcome::stopped) return;
    ++out.items;
    out.bytes += bytes;
    if (o == Outcome::failed) {
      ++out.failed;
      failed_.Increment();
      failed.push_back(work[i].image.id);
    }
    ctx.report_progress(++done, work.size());
  });
  return failed;
}

}  // namespace glint::replicator
