// GET /v2/images/{id}/file: streams from one replica (the node verifies every block before it
// sends it) and, when that node dies or refuses a bad block, continues at the same byte offset
// from the next replica. Bad replicas are recorded for the workers. The bytes are spliced from the
// node's socket through a pipe to the client's socket: glint-api never copies image data.
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
    const char* outcome = peer::outcome_name(r.outcome);
    log.warn("download.replica_failed", {{"image", image_id}, {"node", node.node}, {"outcome", outcome},
                                         {"detail", r.detail}});
    if (r.outcome != peer::ReadOutcome::corrupt && r.outcome != peer::ReadOutcome::missing) return;
    m_.bad_replicas.Add({{"state", outcome}}).Increment();
    events_.publish("replica.bad", {{"image", image_id}, {"node", node.node}, {"state", outcome}});
    auto seen = rows.find(node.node);
    if (seen == rows.end()) return;
    // On the row as read when the download began: a copy re-made since is not blamed.
    const auto state = r.outcome == peer::ReadOutcome::corrupt ? ReplicaState::corrupt : ReplicaState::missing;
    Status s = replicas_.set_state(seen->second, state);
    if (s.code() == Errc::conflict) {
      m_.races_lost.Increment();
      log.info("replica.race_lost", {{"image", image_id}, {"node", node.node}, {"write", "mark " + to_string(state)}});
    } else if (!s) {
      log.warn("replica.mark_failed", {{"image", image_id}, {"node", node.node}, {"error", s.message()}});
    }
  };
  h.on_exhausted = [image_id, log](uint64_t offset) {
    log.error("download.failed", {{"image", image_id}, {"offset", offset}});
  };
  return h;
}

cache::Upstream ImageData::upstream(const std::string& image_id, const ReadPlan& plan, log::Logger log) {
  return peer::open_ranges(peer_, image_id, plan.sources,
                           [this, image_id, rows = plan.rows, log] { return download_hooks(image_id, rows, log); });
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
