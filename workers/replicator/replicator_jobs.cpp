// Operator jobs of the replicator: repair one image, rebalance the cluster, drain this node.
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

Expected<worker::PassResult> Replicator::repair(const std::string& image_id, const worker::PassContext& ctx) {
  worker::PassResult out;
  auto c = cluster();
  if (!c) return c.error();
  auto found = db_.heal.copies({image_id});
  if (!found) return found.error();
  if (found->empty() || (found->front().status != "active" && found->front().status != "deactivated"))
    return Error{Errc::invalid, "image " + image_id + " has no data to repair"};
  const db::ImageCopies img = found->front();
  // Deep check of every ok copy on a live node: the node verifies each block as it sends it; the
  // whole digest and the image's os_hash are recomputed here.
  size_t good = 0, bad = 0;
  std::vector<std::string> mismatched;
  for (const auto& r : img.replicas) {
    if (r.state != "ok" || !c->view.live.count(r.node) || img.size == 0) continue;
    auto ep = endpoint(*c, r.node);
    if (!ep) continue;
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
    const std::string algo = img.os_hash_algo.empty() ? "sha512" : img.os_hash_algo;
    if (!img.os_hash_value.empty() && hash::ImageHasher::algo_supported(algo))
      os_hash = std::make_unique<hash::Digester>(algo);
    bool complete = true;
    for (;;) {
      auto chunk = src.next();
      if (!chunk) {
        complete = false;
        break;
      }
      if (chunk->empty()) break;
      if (!ctx.take_bytes(chunk->size())) return out;
      whole.update(*chunk);
      if (os_hash) os_hash->update(*chunk);
      out.bytes += chunk->size();
    }
    if (!complete) {
      if (read_failed && (failure.outcome == peer::ReadOutcome::corrupt || failure.outcome == peer::ReadOutcome::missing)) {
        mark_bad(img.id, r.node, peer::outcome_name(failure.outcome), ctx);
        ++bad;
      } else {
        ++out.failed;  // unreachable or broken: not blamed, tried again by the next repair
      }
      continue;
    }
    const bool digest_ok = !r.digest || hash::digest_hex(whole.digest()) == *r.digest;
    const bool os_ok = !os_hash || os_hash->finish_hex() == img.os_hash_value;
    if (digest_ok && os_ok) {
      ++good;
      (void)db_.heal.mark_verified({img.id}, r.node, os_hash != nullptr);
    } else {
      mismatched.push_back(r.node);
    }
  }
  // A copy whose bytes disagree with the image is bad only if another copy agrees: never declare
  // the last copies bad on the strength of the catalogue alone.
  if (!mismatched.empty() && good == 0) {
    out.summary = "no copy matches the image's digests; nothing changed";
    ++out.failed;
    return out;
  }
  for (const auto& n : mismatched) {
    mark_bad(img.id, n, "corrupt", ctx);
    ++bad;
  }
  // Converge: this node acts now; the others were woken by replica.bad and by the change feed.
  events_.publish("replica.repair", {{"image", img.id}});
  const auto deadline = clock_.now() + opts_.repair_deadline;
  for (;;) {
    auto fresh = db_.heal.copies({img.id});
    if (!fresh) return fresh.error();
    if (fresh->empty()) break;
    if (in_place(fresh->front(), c->view, opts_.replicas)) break;
    std::vector<Work> work;
    if (Status s = plan_batch({img.id}, *c, work); !s) return s.error();
    worker::PassResult ignored;
    execute(work, *c, ctx, ignored);
    if (clock_.now() >= deadline) {
      out.summary = "verified=" + std::to_string(good) + " bad=" + std::to_string(bad) + " in_place=false";
      ++out.failed;
      return out;
    }
    if (!pause(ctx, clock_, opts_.job_poll)) return out;
  }
  out.summary = "verified=" + std::to_string(good) + " bad=" + std::to_string(bad) + " in_place=true";
  return out;
}

Expected<size_t> Replicator::misplaced(const Cluster& c) {
  size_t n = 0;
  std::string after;
  for (;;) {
    auto ids = db_.heal.images_with_data(after, opts_.page);
    if (!ids) return ids.error();
    if (ids->empty()) return n;
    after = ids->back();
    auto copies = db_.heal.copies(*ids);
    if (!copies) return copies.error();
    for (const auto& img : *copies) n += !in_place(img, c.view, opts_.replicas);
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
    for (const auto& r : *rows) n += r.state == "ok";
  }
}

Expected<worker::PassResult> Replicator::converge_until_none(const worker::PassContext& ctx,
                                                             const std::function<Expected<size_t>()>& left_fn) {
  worker::PassResult out;
  std::optional<size_t> initial;
  for (;;) {
    auto pass = converge(ctx, false);
    if (!pass) return pass;
    out.items += pass->items;
    out.bytes += pass->bytes;
    auto left = left_fn();
    if (!left) return left.error();
    if (!initial) initial = std::max<size_t>(*left, 1);
    ctx.report_progress(*initial - std::min(*initial, *left), *initial);
    if (*left == 0) return out;
    if (!pause(ctx, clock_, opts_.job_poll)) return out;
  }
}

Expected<worker::PassResult> Replicator::rebalance(const worker::PassContext& ctx) {
  // A new generation changes every replicator's cluster view: each scans everything next pass.
  if (Status s = db_.heal.save_checkpoint("*", "rebalance", random_uuid()); !s) return s.error();
  events_.publish("replica.rebalance", nlohmann::json::object());
  auto out = converge_until_none(ctx, [this]() -> Expected<size_t> {
    auto c = cluster();
    if (!c) return c.error();
    return misplaced(*c);
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
