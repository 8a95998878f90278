#include "workers/store/store_handler.hpp"

#include "shared/blob/verified_source.hpp"
#include "shared/http/auth.hpp"
#include "shared/http/range.hpp"
#include "workers/store/blob_streams.hpp"
#include "workers/store/routes.hpp"

namespace glint::store {

StoreHandler::StoreHandler(HandlerOptions opts, blob::BlobStore& blobs, metrics::Metrics& metrics,
                           StoreMetrics& store_metrics, const Clock& clock, log::Logger logger, bus::Publisher* events)
    : opts_(std::move(opts)),
      blobs_(blobs),
      metrics_(metrics),
      m_(store_metrics),
      clock_(clock),
      log_(std::move(logger)),
      events_(events),
      nonces_(opts_.nonce_cache, opts_.max_clock_skew) {}

namespace {

// An If-Match / expected digest: a quoted (or bare) XXH3-128 hex. nullopt for "*" and for junk
// (the caller tells them apart by `ok`).
std::optional<hash::Digest128> parse_etag(std::string_view v, bool& ok) {
  ok = true;
  if (v == "*") return std::nullopt;
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  hash::Digest128 d{};
  ok = hash::parse_digest_hex(v, d);
  return ok ? std::optional(d) : std::nullopt;
}

}  // namespace

std::optional<http::Response> StoreHandler::refuse_unsigned(const http::Request& req) {
  auto v = http::verify(req, opts_.shared_secret, opts_.node, clock_.wall(), opts_.max_clock_skew);
  Status s = !v                              ? Status(v.error())
             : v->date < opts_.not_before    ? Status(Errc::unauthorized, "request signed before this node started")
                                             : nonces_.admit(v->nonce, v->date, clock_.wall());
  if (s) return std::nullopt;
  log_.warn("auth.rejected", {{"req", req.request_id}, {"remote", req.remote}, {"reason", s.message()}});
  m_.auth_rejected.Increment();
  if (s.code() == Errc::unavailable) return http::json_error(503, "Service Unavailable", s.message());
  auto resp = http::json_error(401, "Unauthorized", s.message());
  resp.headers.set("WWW-Authenticate", "GLINT-HMAC-SHA256");
  return resp;
}

http::Reply StoreHandler::handle_request(const http::Request& req) {
  const Route r = route(req.method, req.path);
  switch (r.kind) {
    case Route::Kind::not_found:
      return http::Reply::of(http::json_error(404, "Not Found", "no such resource"));
    case Route::Kind::method_not_allowed: {
      auto resp = http::json_error(405, "Method Not Allowed", "method not allowed on this resource");
      resp.headers.set("Allow", r.allow);
      return http::Reply::of(std::move(resp));
    }
    case Route::Kind::health: {
      auto resp = http::text_response(200, "OK");
      if (r.op == Route::Op::head) resp.content_length = 2;
      return http::Reply::of(std::move(resp));
    }
    case Route::Kind::metrics:
      return http::Reply::of(render_metrics());
    case Route::Kind::blob:
      break;
  }
  // Blob operations are signed; nothing is touched before the signature checks out.
  if (auto refused = refuse_unsigned(req)) return http::Reply::of(std::move(*refused));
  switch (r.op) {
    case Route::Op::put: return put(req, r.image_id);
    case Route::Op::get: return http::Reply::of(get(req, r.image_id, false));
    case Route::Op::head: return http::Reply::of(get(req, r.image_id, true));
    case Route::Op::del: return http::Reply::of(del(req, r.image_id));
    case Route::Op::none: break;
  }
  return http::Reply::of(http::json_error(404, "Not Found", "no such resource"));
}

http::Reply StoreHandler::put(const http::Request& req, const std::string& id) {
  if (!req.content_length && !req.chunked)
    return http::Reply::of(http::json_error(411, "Length Required", "PUT needs Content-Length or chunked encoding"));
  blob::WriteConditions cond;
  bool ok = true;
  if (auto h = req.headers.get(http::kExpectDigestHeader)) {
    cond.expect_digest = parse_etag(*h, ok);
    if (!ok || !cond.expect_digest)
      return http::Reply::of(http::json_error(400, "Bad Request", "X-Glint-Expect-Digest is not a digest"));
  }
  if (auto h = req.headers.get("If-Match")) {
    cond.replace_digest = parse_etag(*h, ok);
    if (!ok || !cond.replace_digest)
      return http::Reply::of(http::json_error(400, "Bad Request", "If-Match on PUT names the digest of the copy to replace"));
  }
  auto writer = blobs_.create(id, req.content_length, cond);
  if (!writer && writer.code() == Errc::conflict && cond.replace_digest)
    return http::Reply::of(http::json_error(412, "Precondition Failed", writer.error().message));
  if (!writer) {
    if (writer.code() == Errc::no_space) m_.no_space.Increment();
    log_.info("put.refused", {{"req", req.request_id}, {"image", id}, {"error", writer.error().message}});
    return http::Reply::of(error_response(writer.error()));
  }
  return http::Reply::upload(std::make_unique<PutSink>(std::move(writer.value()), &buffers_, id, m_));
}

http::Response StoreHandler::get(const http::Request& req, const std::string& id, bool head) {
  auto reader = blobs_.open(id);
  if (!reader) {
    if (reader.code() == Errc::corrupt) report_corrupt(id, reader.error().message);
    return error_response(reader.error());
  }
  const blob::BlobInfo info = (*reader)->info();
  http::Response resp;
  resp.headers.set("Content-Type", "application/octet-stream");
  resp.headers.set("Accept-Ranges", "bytes");
  resp.headers.set("X-Glint-Digest", hash::digest_hex(info.digest));
  resp.headers.set("X-Glint-Size", std::to_string(info.size));
  resp.headers.set("X-Glint-Block-Size", std::to_string(info.block_size));
  uint64_t first = 0, last = info.size == 0 ? 0 : info.size - 1;
  if (auto h = req.headers.get("Range")) {
    const auto range = http::parse_range(*h, info.size);
    if (range.kind == http::ByteRange::Kind::unsatisfiable) {
      auto e = http::json_error(416, "Requested Range Not Satisfiable", "requested range not satisfiable");
      e.headers.set("Content-Range", "bytes */" + std::to_string(info.size));
      return e;
    }
    if (range.kind == http::ByteRange::Kind::satisfiable) {
      first = range.first;
      last = range.last;
      resp.status = 206;
      resp.headers.set("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                                            std::to_string(info.size));
    }
  }
  const uint64_t length = info.size == 0 ? 0 : last - first + 1;
  resp.content_length = length;
  if (head || length == 0) return resp;
  // Every block verified before it leaves, read ahead on a helper thread (the blob may be on disk
  // only); no fallback here: a corrupt block quarantines the copy and cuts the body.
  blob::VerifiedHooks hooks;
  hooks.on_corrupt = [this, id](uint64_t file, const std::string& why) { report_corrupt(id, why, file); };
  resp.stream = std::make_unique<blob::VerifiedSource>(std::move(reader.value()), first, last, blob::RangeFallback{},
                                                       std::move(hooks), /*read_ahead=*/true, &buffers_);
  return resp;
}

http::Response StoreHandler::del(const http::Request& req, const std::string& id) {
  // A delete names the copy it means (its digest, or "*" for a cleanup of bytes nobody counts):
  // one meant for a stale copy can never remove a good one that replaced it.
  auto h = req.headers.get("If-Match");
  if (!h) return http::json_error(428, "Precondition Required", "DELETE needs If-Match: \"<digest>\" or *");
  bool ok = true;
  const auto digest = parse_etag(*h, ok);
  if (!ok) return http::json_error(400, "Bad Request", "If-Match is neither * nor a digest");
  Status s = blobs_.remove(id, digest);
  if (s.code() == Errc::conflict) return http::json_error(412, "Precondition Failed", s.message());
  if (!s) return error_response(s.error());
  log_.info("blob.deleted", {{"image", id}});
  http::Response resp;
  resp.status = 204;
  return resp;
}

void StoreHandler::report_corrupt(const std::string& image_id, const std::string& why, std::optional<uint64_t> file_id) {
  m_.corrupt_reads.Increment();
  Status q = file_id ? blobs_.quarantine_if(image_id, *file_id, why) : blobs_.quarantine(image_id, why);
  if (q) m_.quarantined.Increment();
  log_.error("blob.corrupt", {{"image", image_id}, {"reason", why}, {"quarantined", q ? "yes" : q.message()}});
  // The replicator repairs at once when told; otherwise the auditor finds it on its next pass.
  if (events_) events_->publish("replica.bad", {{"image", image_id}, {"state", "corrupt"}, {"reason", why}});
}

http::Response StoreHandler::render_metrics() {
  const auto space = blobs_.space();
  m_.free_bytes.Set(static_cast<double>(space.free));
  m_.capacity_bytes.Set(static_cast<double>(space.capacity));
  return http::text_response(200, metrics_.render(), "text/plain; version=0.0.4");
}

void StoreHandler::on_complete(const http::Request& req, int status, uint64_t bytes_in, uint64_t bytes_out,
                               double seconds) {
  m_.request_done(req.method, status);
  m_.bytes_in.Increment(static_cast<double>(bytes_in));
  m_.bytes_out.Increment(static_cast<double>(bytes_out));
  if (req.path == "/healthcheck" || req.path == "/metrics") return;  // keep the log about data
  log_.info("http.request", {{"req", req.request_id}, {"method", req.method}, {"path", req.path},
                             {"status", status}, {"in", bytes_in}, {"out", bytes_out},
                             {"ms", static_cast<int64_t>(seconds * 1000)}});
}

}  // namespace glint::store
