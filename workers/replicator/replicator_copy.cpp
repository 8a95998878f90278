// Copying one replica to this node and removing this node's excess copy.
#include "shared/peer/failover_source.hpp"
#include "workers/replicator/replicator.hpp"

namespace glint::replicator {

namespace {

// The copy's body: bytes from the failover source, paced by the pass's bytes/s bucket and cut
// short (an error, so the store discards the partial upload) when the pass is stopped.
class PacedSource final : public http::BodySource {
 public:
  PacedSource(http::BodySource& inner, const worker::PassContext& ctx) : inner_(inner), ctx_(ctx) {}
  Expected<std::span<const std::byte>> next() override {
    auto chunk = inner_.next();
    if (chunk && !chunk->empty() && !ctx_.take_bytes(chunk->size()))
      return Error{Errc::cancelled, "replicator stopping"};
    return chunk;
  }

 private:
  http::BodySource& inner_;
  const worker::PassContext& ctx_;
};

class EmptySource final : public http::BodySource {
 public:
  Expected<std::span<const std::byte>> next() override { return std::span<const std::byte>(); }
};

}  // namespace

std::optional<peer::Endpoint> Replicator::endpoint(const Cluster& c, const std::string& node) const {
  for (const auto& n : c.rows) {
    if (n.name != node) continue;
    auto ep = peer::endpoint_of(n.name, n.address);
    if (ep) return *ep;
  }
  return std::nullopt;
}

void Replicator::mark_bad(const std::string& image_id, const std::string& node, const std::string& state,
                          const worker::PassContext& ctx) {
  ctx.logger.warn("replica.bad", {{"image", image_id}, {"node", node}, {"state", state}});
  if (Status s = db_.replicas.set_state(image_id, node, state); !s && s.code() != Errc::not_found)
    ctx.logger.warn("db.failed", {{"image", image_id}, {"error", s.message()}});
  events_.publish("replica.bad", {{"image", image_id}, {"node", node}, {"state", state}});
}

Replicator::Outcome Replicator::pull(const Work& w, const Cluster& c, const worker::PassContext& ctx,
                                     uint64_t& bytes) {
  const auto& img = w.image;
  const auto self = endpoint(c, opts_.node);
  std::vector<peer::Endpoint> sources;
  std::string digest;
  for (const auto& name : w.decision.sources) {
    if (auto ep = endpoint(c, name)) sources.push_back(*ep);
    for (const auto& r : img.replicas)
      if (r.node == name && r.state == "ok" && r.digest && digest.empty()) digest = *r.digest;
  }
  if (!self || sources.empty() || digest.empty()) {
    ctx.logger.warn("copy.no_source", {{"image", img.id}, {"reason", w.decision.reason}});
    return Outcome::failed;
  }
  const uint64_t size = static_cast<uint64_t>(img.size);
  const auto started = clock_.now();
  for (int attempt = 0; attempt < 2; ++attempt) {
    peer::FailoverHooks hooks;
    hooks.on_source = [&](const peer::Endpoint& n, uint64_t offset, bool) {
      ctx.logger.info("copy.source", {{"image", img.id}, {"node", n.node}, {"offset", offset}});
    };
    hooks.on_failed = [&](const peer::Endpoint& n, const peer::ReadResult& r) {
      if (r.outcome == peer::ReadOutcome::corrupt || r.outcome == peer::ReadOutcome::missing)
        mark_bad(img.id, n.node, peer::outcome_name(r.outcome), ctx);
    };
    EmptySource empty;
    std::unique_ptr<peer::FailoverSource> from;
    if (size > 0) from = std::make_unique<peer::FailoverSource>(peer_, img.id, sources, 0, size - 1, hooks);
    http::BodySource& raw = from ? static_cast<http::BodySource&>(*from) : empty;
    PacedSource body(raw, ctx);
    auto stored = peer_.put(*self, img.id, body, size);
    if (stored.code() == Errc::conflict && attempt == 0) {
      // A copy nobody counts (a broken upload's leftover, or a stale one): replace it.
      ctx.logger.info("copy.replace_uncounted", {{"image", img.id}});
      if (Status s = peer_.remove(*self, img.id); !s) return Outcome::failed;
      continue;
    }
    if (!stored) {
      if (ctx.stop.stop_requested()) return Outcome::stopped;
      ctx.logger.warn("copy.failed", {{"image", img.id}, {"error", stored.error().message}});
      return Outcome::failed;
    }
    if (stored->size != size || stored->digest != digest) {
      // Never counted: the bytes are not the image's.
      ctx.logger.error("copy.digest_mismatch", {{"image", img.id}, {"digest", stored->digest}, {"want", digest}});
      (void)peer_.remove(*self, img.id);
      return Outcome::failed;
    }
    db::ReplicaRow row;
    row.image_id = img.id;
    row.node = opts_.node;
    row.state = "ok";
    row.size = img.size;
    row.digest = digest;
    // Every block was verified by the source and hashed by this store; the same digest as a
    // verified copy means its os_hash holds as of now too (upsert sets hash_verified_at with it).
    row.verified_at = clock_.wall();
    if (Status s = db_.replicas.upsert(row); !s) {
      ctx.logger.warn("db.failed", {{"image", img.id}, {"error", s.message()}});
      return Outcome::failed;
    }
    bytes += size;
    copied_.Increment();
    copied_bytes_.Increment(static_cast<double>(size));
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - started).count();
    ctx.logger.info("copy.done", {{"image", img.id}, {"bytes", size}, {"ms", static_cast<int64_t>(ms)}});
    return Outcome::done;
  }
  return Outcome::failed;
}

Replicator::Outcome Replicator::remove_excess(const Work& w, const Cluster& c, const worker::PassContext& ctx) {
  // Decide again on fresh rows: another node may have lost its copy since the batch was planned.
  auto fresh = db_.heal.copies({w.image.id});
  if (!fresh) return Outcome::failed;
  if (fresh->empty()) return Outcome::done;
  const Decision d = decide(fresh->front(), c.view, opts_.node, opts_.replicas);
  if (d.action != Action::remove) return Outcome::done;
  if (opts_.dry_run) {
    ctx.logger.info("excess.would_remove", {{"image", w.image.id}, {"ok_assigned", d.ok_assigned}});
    return Outcome::done;
  }
  if (!ctx.take_item()) return Outcome::stopped;
  const auto self = endpoint(c, opts_.node);
  if (!self) return Outcome::failed;
  // The row goes first: from then on nobody reads or counts this copy; then the bytes.
  if (Status s = db_.replicas.remove(w.image.id, opts_.node); !s) return Outcome::failed;
  if (Status s = peer_.remove(*self, w.image.id); !s) {
    ctx.logger.warn("excess.remove_failed", {{"image", w.image.id}, {"error", s.message()}});
    db::ReplicaRow row;
    row.image_id = w.image.id;
    row.node = opts_.node;
    row.state = "excess";  // left for the reaper
    (void)db_.replicas.upsert(row);
    return Outcome::failed;
  }
  removed_.Increment();
  ctx.logger.info("excess.removed", {{"image", w.image.id}});
  return Outcome::done;
}

}  // namespace glint::replicator
