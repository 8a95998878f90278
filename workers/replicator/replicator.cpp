#include "workers/replicator/replicator.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

namespace glint::replicator {

namespace {

constexpr size_t kMaxRetries = 1000;  // more failures than this: the next pass scans everything
constexpr auto kFeedRetention = std::chrono::hours(24 * 7);

struct Checkpoint {
  int64_t seq = 0;
  std::string epoch;
  std::vector<std::string> retry;
};

std::optional<Checkpoint> parse_checkpoint(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("seq") || !j["seq"].is_number_integer()) return std::nullopt;
  Checkpoint c;
  c.seq = j["seq"].get<int64_t>();
  c.epoch = j.value("epoch", std::string());
  if (j.contains("retry") && j["retry"].is_array())
    for (const auto& id : j["retry"])
      if (id.is_string()) c.retry.push_back(id.get<std::string>());
  return c;
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
      full_scans_(metrics.counter("glint_replicator_full_scans_total", "Passes that scanned every image.").Add({})) {}

Expected<worker::PassResult> Replicator::run_once(const worker::PassContext& ctx) {
  const std::string t = ctx.job_target.value_or("");
  if (t.rfind("image:", 0) == 0) return repair(t.substr(6), ctx);
  if (t == "rebalance") return rebalance(ctx);
  if (t.size() > 6 && t.compare(t.size() - 6, 6, ";drain") == 0) return drain(ctx);
  return converge(ctx, ctx.job_target.has_value());
}

Expected<Replicator::Cluster> Replicator::cluster() {
  auto rows = db_.nodes.list();
  if (!rows) return rows.error();
  auto generation = db_.heal.checkpoint("*", "rebalance");
  if (!generation) return generation.error();
  Cluster c;
  c.rows = std::move(*rows);
  c.view = view_of(c.rows, clock_.wall(), opts_.replicate_after_down, opts_.replicas, generation->value_or(""));
  return c;
}

Status Replicator::plan_batch(const std::vector<std::string>& ids, const Cluster& c, std::vector<Work>& work) {
  if (ids.empty()) return {};
  auto copies = db_.heal.copies(ids);
  if (!copies) return copies.error();
  for (auto& img : *copies) {
    if (img.status != "active" && img.status != "deactivated") continue;  // no data to keep: the reaper's
    Decision d = decide(img, c.view, opts_.node, opts_.replicas);
    if (d.action != Action::none) work.push_back(Work{std::move(img), std::move(d)});
  }
  return {};
}

Expected<worker::PassResult> Replicator::converge(const worker::PassContext& ctx, bool force_full) {
  worker::PassResult out;
  auto c = cluster();
  if (!c) return c.error();
  const auto me = std::find_if(c->rows.begin(), c->rows.end(), [&](const auto& n) { return n.name == opts_.node; });
  if (me == c->rows.end()) return Error{Errc::not_found, "node " + opts_.node + " is not registered (glint-store)"};
  if (me->state == "down") {
    out.summary = "local store down: nothing to do";
    return out;
  }
  auto cp_text = db_.heal.checkpoint(opts_.node, name());
  if (!cp_text) return cp_text.error();
  const auto cp = parse_checkpoint(*cp_text);
  auto bounds = db_.heal.change_bounds();
  if (!bounds) return bounds.error();
  const bool full = force_full || !cp || cp->epoch != c->view.epoch || cp->seq < bounds->first - 1;

  std::vector<Work> work;
  int64_t seq = cp ? cp->seq : 0;
  size_t scanned = 0;
  if (full) {
    full_scans_.Increment();
    seq = bounds->second;  // changes made during the scan are read again next time
    std::string after;
    for (;;) {
      if (ctx.stop.stop_requested()) return out;
      auto ids = db_.heal.images_with_data(after, opts_.page);
      if (!ids) return ids.error();
      if (ids->empty()) break;
      after = ids->back();
      scanned += ids->size();
      if (Status s = plan_batch(*ids, *c, work); !s) return s.error();
    }
  } else {
    std::vector<std::string> ids = cp->retry;
    for (;;) {
      auto feed = db_.heal.changes(seq, opts_.page);
      if (!feed) return feed.error();
      if (feed->empty()) break;
      for (const auto& [s, id] : *feed) ids.push_back(id);
      seq = feed->back().first;
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    scanned = ids.size();
    for (size_t i = 0; i < ids.size(); i += opts_.page) {
      std::vector<std::string> batch(ids.begin() + i, ids.begin() + std::min(ids.size(), i + opts_.page));
      if (Status s = plan_batch(batch, *c, work); !s) return s.error();
    }
  }
  // Fewest good copies first; copies before removals.
  std::stable_sort(work.begin(), work.end(), [](const Work& a, const Work& b) {
    if ((a.decision.action == Action::pull) != (b.decision.action == Action::pull)) return a.decision.action == Action::pull;
    return a.decision.ok_total < b.decision.ok_total;
  });
  pending_.Set(static_cast<double>(work.size()));
  std::vector<std::string> failed = execute(work, *c, ctx, out);
  if (ctx.stop.stop_requested()) return out;  // checkpoint unchanged: the next pass sees it all again

  const bool changed = !cp || cp->seq != seq || cp->epoch != c->view.epoch || !failed.empty() || !cp->retry.empty();
  if (changed) {
    nlohmann::json j = {{"seq", seq}, {"epoch", failed.size() > kMaxRetries ? "" : c->view.epoch}};
    if (failed.size() <= kMaxRetries) j["retry"] = failed;
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

std::vector<std::string> Replicator::execute(std::vector<Work>& work, const Cluster& c,
                                             const worker::PassContext& ctx, worker::PassResult& out) {
  std::vector<std::string> failed;
  std::mutex mu;
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> done{0};
  auto run = [&] {
    for (size_t i = next++; i < work.size(); i = next++) {
      if (ctx.stop.stop_requested()) return;
      uint64_t bytes = 0;
      const Outcome o = work[i].decision.action == Action::pull ? pull(work[i], c, ctx, bytes)
                                                                : remove_excess(work[i], c, ctx);
      std::lock_guard lk(mu);
      if (o == Outcome::stopped) continue;
      ++out.items;
      out.bytes += bytes;
      if (o == Outcome::failed) {
        ++out.failed;
        failed_.Increment();
        failed.push_back(work[i].image.id);
      }
      ctx.report_progress(++done, work.size());
    }
  };
  const size_t threads = std::min<size_t>(static_cast<size_t>(std::max(1, opts_.concurrency)), work.size());
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(run);
  run();
  for (auto& t : pool) t.join();
  return failed;
}

}  // namespace glint::replicator
