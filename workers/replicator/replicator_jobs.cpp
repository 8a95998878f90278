// Operator jobs of the replicator: repair one image, rebalance the cluster, drain this node.
#include <map>

#include <nlohmann/json.hpp>

#include "shared/core/uuid.hpp"
#include "shared/hash/hash.hpp"
#include "shared/peer/failover_source.hpp"
#include "workers/replicator/replicator.hpp"

namespace glint::replicator {

namespace {

// Waits one poll interval; false once the pass is asked to stop.
bool pause(const worker::PassContext& ctx, const Clock& clock, std::chrono::milliseconds d) {
  return ctx.stop.wait_for(clock, d) != worker::WaitResult::stopped;
}

}  // namespace

std::optional<Replicator::CopyCheck> Replicator::check_copy(const db::ImageCopies& img, const db::ReplicaRow& r,
                                                            const View& v, bool with_os_hash,
                                                            const worker::PassContext& ctx, worker::PassResult& out,
                                                            size_t& bad) {
  auto ep = endpoint(v, r.node);
  if (!ep) return std::nullopt;
  ++out.items;
  peer::ReadResult failure;
  bool read_failed = false;
  peer::FailoverHooks hooks;
  hooks.on_failed = [&](const peer::Endpoint&, const peer::ReadResult& rr) {
    failure = rr;
    read_failed = true;
  };
  peer::FailoverSource src(peer_, img.id, {*ep}, 0, static_cast<uint64_t>(img.size) - 1, hooks);
  hash::Xxh128Stream whole;
  std::unique_ptr<hash::Digester> os_hash;
  if (with_os_hash) os_hash = std::make_unique<hash::Digester>(img.os_hash_algo.empty() ? "sha512" : img.os_hash_algo);
  for (;;) {
    auto chunk = src.next();
    if (!chunk) {
      if (read_failed && (failure.outcome == peer::ReadOutcome::corrupt || failure.outcome == peer::ReadOutcome::missing)) {
        mark_bad(r, failure.outcome == peer::ReadOutcome::corrupt ? ReplicaState::corrupt : ReplicaState::missing, ctx);
        ++bad;
      } else {
        ++out.failed;  // unreachable or broken: not blamed, tried again by the next repair
      }
      return std::nullopt;
    }
    if (chunk->empty()) break;
    if (!ctx.take_bytes(chunk->size())) return std::nullopt;
    whole.update(*chunk);
    if (os_hash) os_hash->update(*chunk);
    out.bytes += chunk->size();
  }
  return CopyCheck{r, hash::digest_hex(whole.digest()), os_hash ? os_hash->finish_hex() : std::string()};
}

bool Replicator::judge(const db::ImageCopies& img, const std::vector<CopyCheck>& checks, bool with_os_hash,
                       const worker::PassContext& ctx, worker::PassResult& out, size_t& good, size_t& bad) {
  // Copies that match the catalog are good; one that disagrees is bad only if another copy
  // agrees with the catalog. If none does, the catalog itself is in question (a restored
  // database): nothing is quarantined and the image is flagged for an operator.
  std::vector<const CopyCheck*> ok, mismatched;
  for (const auto& c : checks) {
    const bool digest_ok = !c.row.digest || c.digest == *c.row.digest;
    const bool os_ok = !with_os_hash || c.os_hash == img.os_hash_value;
    (digest_ok && os_ok ? ok : mismatched).push_back(&c);
  }
  if (!mismatched.empty() && ok.empty()) {
    bool agree = true;
    for (const auto* c : mismatched)
      agree = agree && c->digest == mismatched.front()->digest && c->os_hash == mismatched.front()->os_hash;
    const std::string reason = agree ? std::to_string(mismatched.size()) + " copies agree with each other but not with the catalog"
                                     : "no copy matches the catalog and the copies disagree with each other";
    if (Status s = db_.heal.flag_image(img.id, reason); !s) ctx.logger.warn("db.failed", {{"error", s.message()}});
    flagged_.Increment();
    ctx.logger.error("image.flagged", {{"image", img.id}, {"reason", reason}});
    events_.publish("image.flagged", {{"image", img.id}, {"reason", reason}});
    out.summary = "flagged: " + reason + "; no copy changed";
    ++out.failed;
    return false;
  }
  for (const auto* c : ok) (void)db_.heal.mark_verified({{img.id, c->row.version}}, c->row.node, with_os_hash);
  if (!ok.empty()) (void)db_.heal.clear_flag(img.id);
  for (const auto* c : mismatched) {
    mark_bad(c->row, ReplicaState::corrupt, ctx);
    ++bad;
  }
  good = ok.size();
  return true;
}

Expected<worker::PassResult> Replicator::repair(const std::string& image_id, const worker::PassContext& ctx) {
  worker::PassResult out;
  auto v = cluster();
  if (!v) return v.error();
  auto found = db_.heal.copies({image_id});
  if (!found) return found.error();
  if (found->empty() || !keeps_data(found->front().status))
    return Error{Errc::invalid, "image " + image_id + " has no data to repair"};
  const db::ImageCopies img = found->front();
  const bool with_os_hash = !img.os_hash_value.empty() &&
                            hash::ImageHasher::algo_supported(img.os_hash_algo.empty() ? "sha512" : img.os_hash_algo);
  // Deep check of every ok copy on a live node: the node verifies each block as it sends it; the
  // whole digest and the image's os_hash are recomputed here.
  std::vector<CopyCheck> checks;
  size_t good = 0, bad = 0;
  for (const auto& r : img.replicas) {
    if (r.state != ReplicaState::ok || !v->live(r.node) || img.size == 0) continue;
    if (auto c = check_copy(img, r, *v, with_os_hash, ctx, out, bad)) checks.push_back(std::move(*c));
    if (ctx.stop.stop_requested()) return out;
  }
  if (!judge(img, checks, with_os_hash, ctx, out, good, bad)) return out;
  // Converge: this node acts now; the others were woken by replica.bad and by the change feed.
  events_.publish("replica.repair", {{"image", img.id}});
  const bool in_place = wait_in_place(img.id, ctx);
  out.summary = "verified=" + std::to_string(good) + " bad=" + std::to_string(bad) + " in_place=" +
                (in_place ? "true" : "false");
  if (!in_place && !ctx.stop.stop_requested()) ++out.failed;
  return out;
}

bool Replicator::wait_in_place(const std::string& image_id, const worker::PassContext& ctx) {
  const auto deadline = clock_.now() + opts_.repair_deadline;
  int still = 0;
  for (;;) {
    auto now_view = cluster();
    auto fresh = db_.heal.copies({image_id});
    if (!now_view || !fresh) return false;
    if (fresh->empty() || now_view->in_place(fresh->front())) return true;
    std::vector<Work> work;
    if (!plan_batch({image_id}, *now_view, work)) return false;
    worker::PassResult ignored;
    execute(work, *now_view, ctx, ignored);
    if (work.empty() && ++still % opts_.stall_polls == 0) force_cluster_scan("repair of " + image_id, ctx);
    if (clock_.now() >= deadline || !pause(ctx, clock_, opts_.job_poll)) return false;
  }
}

void Replicator::force_cluster_scan(const std::string& why, const worker::PassContext& ctx) {
  if (last_forced_ && clock_.now() - *last_forced_ < opts_.stall_scan_interval) return;
  last_forced_ = clock_.now();
  stalls_.Increment();
  ctx.logger.warn("job.stalled", {{"job", why}, {"polls", opts_.stall_polls},
                                  {"action", "new placement generation: every replicator scans every image"}});
  if (Status s = db_.heal.set_placement_generation(random_uuid()); !s)
    ctx.logger.warn("db.failed", {{"error", s.message()}});
  events_.publish("replica.rebalance", nlohmann::json::object());
}

Expected<size_t> Replicator::misplaced(const View& v) {
  size_t n = 0;
  std::string after;
  for (;;) {
    auto ids = db_.heal.images_with_data(after, opts_.page);
    if (!ids) return ids.error();
    if (ids->empty()) return n;
    after = ids->back();
    auto copies = db_.heal.copies(*ids);
    if (!copies) return copies.error();
    for (const auto& img : *copies) n += !v.in_place(img);
  }
}

Expected<size_t> Replicator::held_here() {
  size_t n = 0;
  std::string after;
  for (;;) {
    auto rows = db_.heal.node_replicas(opts_.node, after, opts_.page);
    if (!rows) return rows.error();
    if (rows->empty()) return n;
    after = rows->back().image_id;
    for (const auto& r : *rows) n += r.state == ReplicaState::ok;
  }
}

Expected<worker::PassResult> Replicator::converge_until_none(const worker::PassContext& ctx,
                                                             const std::function<Expected<size_t>()>& left_fn) {
  worker::PassResult out;
  std::optional<size_t> initial, best;
  int stalled = 0;
  bool force_full = false;
  for (;;) {
    auto pass = converge(ctx, force_full);
    if (!pass) return pass;
    force_full = false;
    out.items += pass->items;
    out.bytes += pass->bytes;
    auto left = left_fn();
    if (!left) return left.error();
    if (!initial) initial = std::max<size_t>(*left, 1);
    ctx.report_progress(*initial - std::min(*initial, *left), *initial);
    if (*left == 0) return out;
    // No progress for stall_polls polls: some replicator may be waiting on a change it never saw.
    if (best && *left >= *best) {
      if (++stalled >= opts_.stall_polls) {
        force_cluster_scan("left=" + std::to_string(*left), ctx);
        force_full = true;
        stalled = 0;
      }
    } else {
      best = *left;
      stalled = 0;
    }
    if (!pause(ctx, clock_, opts_.job_poll)) return out;
  }
}

Expected<worker::PassResult> Replicator::rebalance(const worker::PassContext& ctx) {
  // A new generation changes every replicator's cluster view: each scans everything next pass.
  if (Status s = db_.heal.set_placement_generation(random_uuid()); !s) return s.error();
  events_.publish("replica.rebalance", nlohmann::json::object());
  auto out = converge_until_none(ctx, [this]() -> Expected<size_t> {
    auto v = cluster();
    if (!v) return v.error();
    return misplaced(*v);
  });
  if (out && !ctx.stop.stop_requested()) out->summary = "every image in place";
  return out;
}

Expected<worker::PassResult> Replicator::drain(const worker::PassContext& ctx) {
  auto out = converge_until_none(ctx, [this] { return held_here(); });
  if (out && !ctx.stop.stop_requested()) out->summary = "node " + opts_.node + " holds no replica";
  return out;
}

}  // namespace glint::replicator
