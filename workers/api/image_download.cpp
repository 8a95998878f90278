// GET /v2/images/{id}/file: streams from one replica (the node verifies every block before it
// sends it) and, when that node dies or refuses a bad block, continues at the same byte offset
// from the next replica. Bad replicas are recorded for the workers. The bytes are spliced from the
// node's socket through a pipe to the client's socket: glint-api never copies image data. With
// [api] local_store_node, the copy of the store on this machine is read in place instead (verified
// block by block, sent with sendfile): one process and no loopback hop, as Glance reads its file.
#include <algorithm>

#include "shared/blob/fs_store.hpp"
#include "shared/blob/verified_source.hpp"
#include "shared/hash/hash.hpp"
#include "shared/http/range.hpp"
#include "shared/peer/failover_source.hpp"
#include "workers/api/image_data.hpp"
#include "workers/api/image_json.hpp"

namespace glint::api {

// The download's view of a failover read: which replica served which offset, bytes counted,
// replicas that refused corrupt or missing data recorded for the workers.
peer::FailoverHooks ImageData::download_hooks(const std::string& image_id, std::map<std::string, db::ReplicaRow> rows,
                                              log::Logger log) {
  peer::FailoverHooks h;
  h.on_source = [this, image_id, log](const peer::Endpoint& node, uint64_t offset, bool failover) {
    if (failover) m_.failovers.Increment();
    log.info("download.source", {{"image", image_id}, {"node", node.node}, {"offset", offset}});
  };
  h.on_bytes = [this](uint64_t n) { m_.download_bytes.Increment(static_cast<double>(n)); };
  h.on_failed = [this, image_id, log, rows = std::move(rows)](const peer::Endpoint& node, const peer::ReadResult& r) {
    log.warn("download.replica_failed", {{"image", image_id}, {"node", node.node}, {"outcome", peer::outcome_name(r.outcome)},
                                         {"detail", r.detail}});
    blame(image_id, node.node, r.outcome, rows, log);
  };
  h.on_exhausted = [image_id, log](uint64_t offset) {
    log.error("download.failed", {{"image", image_id}, {"offset", offset}});
  };
  return h;
}

void ImageData::blame(const std::string& image_id, const std::string& node, peer::ReadOutcome outcome,
                      const std::map<std::string, db::ReplicaRow>& rows, const log::Logger& log) {
  if (outcome != peer::ReadOutcome::corrupt && outcome != peer::ReadOutcome::missing) return;
  const char* name = peer::outcome_name(outcome);
  m_.bad_replicas.Add({{"state", name}}).Increment();
  events_.publish("replica.bad", {{"image", image_id}, {"node", node}, {"state", name}});
  auto seen = rows.find(node);
  if (seen == rows.end()) return;
  const auto state = outcome == peer::ReadOutcome::corrupt ? ReplicaState::corrupt : ReplicaState::missing;
  Status s = replicas_.set_state(seen->second, state);
  if (s.code() == Errc::conflict) {
    m_.races_lost.Increment();
    log.info("replica.race_lost", {{"image", image_id}, {"node", node}, {"write", "mark " + to_string(state)}});
  } else if (!s) {
    log.warn("replica.mark_failed", {{"image", image_id}, {"node", node}, {"error", s.message()}});
  }
}

cache::Upstream ImageData::upstream(const std::string& image_id, const ReadPlan& plan, log::Logger log) {
  cache::Upstream nodes = peer::open_ranges(
      peer_, image_id, plan.sources, [this, image_id, rows = plan.rows, log] { return download_hooks(image_id, rows, log); });
  // Only a copy the plan would read anyway: ok, on a live node (a store that is down may be down
  // because its disk is failing).
  const auto local = opts_.local_store_node.empty() ? plan.rows.end() : plan.rows.find(opts_.local_store_node);
  const bool readable = local != plan.rows.end() && local->second.state == ReplicaState::ok &&
                        std::any_of(plan.sources.begin(), plan.sources.end(),
                                    [&](const peer::Endpoint& e) { return e.node == opts_.local_store_node; });
  if (!readable) return nodes;
  // Short-circuit: the local store's ok copy is read in place; anything it cannot serve comes
  // from the nodes (the local one included, which then answers for its file itself).
  return [this, row = local->second, rows = plan.rows, nodes, log](uint64_t first, uint64_t last)
             -> Expected<std::unique_ptr<http::BodySource>> {
    if (auto src = open_local(row, first, last, nodes, rows, log)) return src;
    return nodes(first, last);
  };
}

std::unique_ptr<http::BodySource> ImageData::open_local(const db::ReplicaRow& row, uint64_t first, uint64_t last,
                                                        cache::Upstream nodes, const std::map<std::string, db::ReplicaRow>& rows,
                                                        const log::Logger& log) {
  auto reader = blob::open_foreign_blob(opts_.local_store_dir, row.image_id);
  // Only the bytes the row vouches for: a copy replaced or re-made since is the node's to serve.
  if (!reader || !row.digest || hash::digest_hex((*reader)->info().digest) != *row.digest ||
      (row.size && static_cast<uint64_t>(*row.size) != (*reader)->info().size)) {
    m_.local_reads.Add({{"outcome", "unreadable"}}).Increment();
    log.info("download.local_unreadable", {{"image", row.image_id},
                                           {"error", reader ? std::string("other bytes than the replica row") : reader.error().message}});
    return nullptr;
  }
  m_.local_reads.Add({{"outcome", "served"}}).Increment();
  blob::VerifiedHooks hooks;
  hooks.on_corrupt = [this, row, rows, log](uint64_t, const std::string& why) {
    m_.local_reads.Add({{"outcome", "corrupt"}}).Increment();
    log.warn("download.local_corrupt", {{"image", row.image_id}, {"node", row.node}, {"detail", why}});
    blame(row.image_id, row.node, peer::ReadOutcome::corrupt, rows, log);
  };
  hooks.on_bytes = [this](uint64_t n) {
    m_.local_bytes.Increment(static_cast<double>(n));
    m_.download_bytes.Increment(static_cast<double>(n));
  };
  // Read ahead: unlike a cache entry, a store's copy is often not in the page cache.
  return std::make_unique<blob::VerifiedSource>(std::move(*reader), first, last, std::move(nodes), std::move(hooks),
                                                 /*read_ahead=*/true);
}

http::Response ImageData::download(const http::Request& req, const db::ImageRow& img) {
  const uint64_t size = static_cast<uint64_t>(img.size.value_or(0));
  http::Response resp;
  resp.headers.set("Content-Type", "application/octet-stream");
  uint64_t first = 0, last = size == 0 ? 0 : size - 1;
  bool partial = false;
  if (auto h = req.headers.get("Range")) {
    const auto range = http::parse_range(*h, size);
    if (range.kind == http::ByteRange::Kind::unsatisfiable) {
      return glance_error(req, 416, "The Range requested is not available.",
                          "Invalid start position in Range header. Start position MUST be in the inclusive range [0, " +
                              std::to_string(size == 0 ? 0 : size - 1) + "].");
    }
    if (range.kind == http::ByteRange::Kind::satisfiable) {
      first = range.first;
      last = range.last;
      partial = true;
    }
  }
  if (size == 0) {
    resp.content_length = 0;
    return resp;
  }
  auto plan = read_sources(img.id);
  if (!plan) {
    log_.error("db.failed", {{"req", req.request_id}, {"error", plan.error().message}});
    return glance_error(req, 503, "The image catalog is unavailable; try again later.");
  }
  auto nodes = upstream(img.id, *plan, log_.with({{"req", req.request_id}}));
  // Only an active image, and only an entry with the bytes its replicas have now: a deactivated
  // image or a copy re-made differently is never served from the cache.
  const auto digest = cache_ && img.status == ImageStatus::active ? peer::agreed_digest(*plan, size) : std::nullopt;
  std::unique_ptr<http::BodySource> body;
  if (digest) {
    const cache::CacheKey key{img.id, size, *digest};
    body = cache_->serve(key, first, last, nodes);
    if (!body && !partial && !plan->sources.empty()) body = cache_->fetch(key, nodes);
  }
  if (!body) {
    if (plan->sources.empty()) log_.error("download.no_replica", {{"req", req.request_id}, {"image", img.id}});
    auto direct = nodes(first, last);
    if (!direct) return glance_error(req, 503, direct.error().message);
    body = std::move(*direct);
  }
  if (partial) {
    resp.status = 206;
    resp.headers.set("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                                          std::to_string(size));
  } else if (img.checksum) {
    resp.headers.set("Content-MD5", *img.checksum);
  }
  resp.content_length = last - first + 1;
  resp.stream = std::move(body);
  return resp;
}

}  // namespace glint::api
