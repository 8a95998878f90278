// Copying one replica to this node and removing this node's excess copy. Every replica row write
// is a compare-and-set on the row as read; local bytes are never deleted to make room for a copy.
#include "shared/hash/hash.hpp"
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

const db::ReplicaRow* row_of(const db::ImageCopies& img, const std::string& node) {
  for (const auto& r : img.replicas)
    if (r.node == node) return &r;
  return nullptr;
}

}  // namespace

std::optional<peer::Endpoint> Replicator::endpoint(const View& v, const std::string& node) const {
  const db::NodeRow* n = v.row(node);
  if (!n) return std::nullopt;
  auto ep = peer::endpoint_of(n->name, n->address);
  if (!ep) return std::nullopt;
  return *ep;
}

void Replicator::lost_race(const std::string& image_id, const std::string& what, const Status& s,
                           const worker::PassContext& ctx) {
  races_lost_.Increment();
  ctx.logger.info("replica.race_lost", {{"image", image_id}, {"write", what}, {"detail", s.message()}});
}

void Replicator::mark_bad(const db::ReplicaRow& seen, ReplicaState state, const worker::PassContext& ctx) {
  ctx.logger.warn("replica.bad", {{"image", seen.image_id}, {"node", seen.node}, {"state", to_text(state)}});
  Status s = db_.replicas.set_state(seen, state);
  if (s.code() == Errc::conflict) {
    lost_race(seen.image_id, "mark " + to_string(state), s, ctx);
  } else if (!s && s.code() != Errc::not_found) {
    ctx.logger.warn("db.failed", {{"image", seen.image_id}, {"error", s.message()}});
  }
  events_.publish("replica.bad", {{"image", seen.image_id}, {"node", seen.node}, {"state", to_text(state)}});
}

Replicator::Outcome Replicator::record(const Work& w, const peer::Endpoint& self, const std::string& digest,
                                       const worker::PassContext& ctx) {
  const auto& img = w.image;
  const db::ReplicaRow* mine = row_of(img, opts_.node);
  db::ReplicaRow row;
  row.image_id = img.id;
  row.node = opts_.node;
  row.state = ReplicaState::ok;
  row.size = img.size;
  row.digest = digest;
  // Every block was verified by the source and hashed by this store; the same digest as a
  // verified copy means its os_hash holds as of now too.
  row.verified_at = clock_.wall();
  Status s = db_.replicas.record_copy(row, mine ? std::optional(mine->version) : std::nullopt);
  if (s.code() == Errc::not_found) {
    // Deleted while we copied: the copy we just made is nobody's; remove exactly it.
    ctx.logger.info("copy.image_gone", {{"image", img.id}});
    (void)peer_.remove(self, img.id, digest);
    return Outcome::done;
  }
  if (s.code() == Errc::conflict) {
    lost_race(img.id, "record copy", s, ctx);  // the feed brings the image back with fresh rows
    return Outcome::raced;
  }
  if (!s) {
    ctx.logger.warn("db.failed", {{"image", img.id}, {"error", s.message()}});
    return Outcome::failed;
  }
  return Outcome::done;
}

Replicator::Outcome Replicator::resolve_existing(
    const Work& w, const peer::Endpoint& self, const std::string& digest,
    const std::function<Expected<peer::StoredBlob>(const peer::PutOptions&)>& put, const worker::PassContext& ctx) {
  const auto& img = w.image;
  auto local = peer_.stat(self, img.id);
  if (!local) {
    ctx.logger.warn("copy.failed", {{"image", img.id}, {"error", local.error().message}});
    return Outcome::failed;
  }
  if (*local && (*local)->size == static_cast<uint64_t>(img.size) && (*local)->digest == digest) {
    // The sidecar says these are the image's bytes (a lost upload answer, a row wrongly missing).
    // Counted only once read in full: the node verifies every block, we recompute the digest.
    if (reads_as(self, img, digest, ctx)) {
      ctx.logger.info("copy.adopted", {{"image", img.id}});
      return record(w, self, digest, ctx);
    }
    local = peer_.stat(self, img.id);  // a bad copy was quarantined by the read: look again
    if (!local) return Outcome::failed;
  }
  // Other bytes: never deleted to make room. The new copy is written aside and swapped in only
  // once the store has proven its digest; the old bytes go to the node's quarantine.
  peer::PutOptions o;
  o.expect_digest = digest;
  if (*local) o.replace_digest = (*local)->digest;
  ctx.logger.info("copy.replace_uncounted", {{"image", img.id}, {"old_digest", *local ? (*local)->digest : ""}});
  auto stored = put(o);
  if (!stored) {
    if (ctx.stop.stop_requested()) return Outcome::stopped;
    ctx.logger.warn("copy.failed", {{"image", img.id}, {"error", stored.error().message}});
    return Outcome::failed;
  }
  return record(w, self, digest, ctx);
}

bool Replicator::reads_as(const peer::Endpoint& node, const db::ImageCopies& img, const std::string& digest,
                          const worker::PassContext& ctx) {
  if (img.size == 0) return digest == hash::digest_hex(hash::Xxh128Stream().digest());
  peer::FailoverSource src(peer_, img.id, {node}, 0, static_cast<uint64_t>(img.size) - 1, {});
  hash::Xxh128Stream whole;
  for (;;) {
    auto chunk = src.next();
    if (!chunk) return false;
    if (chunk->empty()) break;
    if (!ctx.take_bytes(chunk->size())) return false;
    whole.update(*chunk);
  }
  return hash::digest_hex(whole.digest()) == digest;
}

Replicator::Outcome Replicator::pull(const Work& w, const View& v, const worker::PassContext& ctx, uint64_t& bytes) {
  const auto& img = w.image;
  const auto self = endpoint(v, opts_.node);
  std::vector<peer::Endpoint> sources;
  std::string digest;
  for (const auto& name : w.decision.sources) {
    const db::ReplicaRow* r = row_of(img, name);
    if (name == opts_.node || !r) continue;
    if (auto ep = endpoint(v, name)) sources.push_back(*ep);
    if (r->digest && digest.empty()) digest = *r->digest;
  }
  if (!self || sources.empty() || digest.empty()) {
    ctx.logger.warn("copy.no_source", {{"image", img.id}, {"reason", w.decision.reason}});
    return Outcome::failed;
  }
  const uint64_t size = static_cast<uint64_t>(img.size);
  const auto started = clock_.now();
  auto put = [&](const peer::PutOptions& o) -> Expected<peer::StoredBlob> {
    peer::FailoverHooks hooks;
    hooks.on_source = [&](const peer::Endpoint& n, uint64_t offset, bool) {
      ctx.logger.info("copy.source", {{"image", img.id}, {"node", n.node}, {"offset", offset}});
    };
    hooks.on_failed = [&](const peer::Endpoint& n, const peer::ReadResult& r) {
      const db::ReplicaRow* seen = row_of(img, n.node);
      if (seen && (r.outcome == peer::ReadOutcome::corrupt || r.outcome == peer::ReadOutcome::missing))
        mark_bad(*seen, r.outcome == peer::ReadOutcome::corrupt ? ReplicaState::corrupt : ReplicaState::missing, ctx);
    };
    EmptySource empty;
    std::unique_ptr<peer::FailoverSource> from;
    if (size > 0) from = std::make_unique<peer::FailoverSource>(peer_, img.id, sources, 0, size - 1, hooks);
    http::BodySource& raw = from ? static_cast<http::BodySource&>(*from) : empty;
    PacedSource body(raw, ctx);
    return peer_.put(*self, img.id, body, size, o);
  };
  peer::PutOptions o;
  o.expect_digest = digest;  // the store keeps nothing that does not hash to the image's digest
  auto stored = put(o);
  Outcome result;
  if (!stored && stored.code() == Errc::conflict) {
    result = resolve_existing(w, *self, digest, put, ctx);
  } else if (!stored) {
    if (ctx.stop.stop_requested()) return Outcome::stopped;
    ctx.logger.warn("copy.failed", {{"image", img.id}, {"error", stored.error().message}});
    return Outcome::failed;
  } else {
    result = record(w, *self, digest, ctx);
  }
  if (result != Outcome::done) return result;
  bytes += size;
  copied_.Increment();
  copied_bytes_.Increment(static_cast<double>(size));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - started).count();
  ctx.logger.info("copy.done", {{"image", img.id}, {"bytes", size}, {"ms", static_cast<int64_t>(ms)}});
  return Outcome::done;
}

Replicator::Outcome Replicator::remove_excess(const Work& w, const worker::PassContext& ctx) {
  // Decide again on fresh rows and a fresh view of the nodes: another node may have lost its copy
  // or gone silent since the batch was planned.
  auto v = cluster();
  auto fresh = db_.heal.copies({w.image.id});
  if (!v || !fresh) return Outcome::failed;
  if (fresh->empty()) return Outcome::done;
  const db::ImageCopies& img = fresh->front();
  if (!v->may_remove_excess(img, opts_.node)) {
    ctx.logger.debug("excess.kept", {{"image", img.id}, {"live_assigned_ok", v->live_assigned_ok(img)}});
    return Outcome::done;
  }
  const db::ReplicaRow* mine = row_of(img, opts_.node);
  const auto self = endpoint(*v, opts_.node);
  if (!mine || !mine->digest || !self) return Outcome::failed;
  if (opts_.dry_run) {
    ctx.logger.info("excess.would_remove", {{"image", img.id}, {"live_assigned_ok", v->live_assigned_ok(img)}});
    return Outcome::done;
  }
  if (!ctx.take_item()) return Outcome::stopped;
  // The copies that make ours excess must really be on their nodes (a store that quarantined a
  // blob does not tell the database): each is asked for its size and digest.
  const std::vector<db::ReplicaRow> counted = v->live_assigned_ok_rows(img);
  for (const auto& r : counted) {
    const auto ep = endpoint(*v, r.node);
    auto there = ep ? peer_.stat(*ep, img.id) : Expected<std::optional<peer::StoredBlob>>(Error{Errc::invalid, "no address"});
    const bool present = there && *there && (*there)->digest == r.digest.value_or("") &&
                         (*there)->size == static_cast<uint64_t>(img.size);
    if (present) continue;
    if (there && !*there) mark_bad(r, ReplicaState::missing, ctx);  // gone: repaired from the others
    ctx.logger.info("excess.kept", {{"image", img.id}, {"reason", "counted copy on " + r.node + " not confirmed"}});
    return Outcome::failed;  // retried next pass: nothing else may bring this image back

  }
  // The row goes first, in the transaction that re-checks the counted rows as read: from then on
  // nobody reads or counts this copy; then exactly these bytes.
  if (Status s = db_.replicas.remove_excess(*mine, counted); !s) {
    if (s.code() != Errc::conflict) return Outcome::failed;
    lost_race(img.id, "remove excess", s, ctx);
    return Outcome::raced;
  }
  if (Status s = peer_.remove(*self, img.id, *mine->digest); !s) {
    ctx.logger.warn("excess.remove_failed", {{"image", img.id}, {"error", s.message()}});
    if (Status m = db_.replicas.mark_excess(img.id, opts_.node); !m)  // left for the reaper
      ctx.logger.warn("excess.not_recorded", {{"image", img.id}, {"error", m.message()}});
    return Outcome::failed;
  }
  removed_.Increment();
  ctx.logger.info("excess.removed", {{"image", img.id}});
  return Outcome::done;
}

}  // namespace glint::replicator
