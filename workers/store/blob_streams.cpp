#include "workers/store/blob_streams.hpp"

#include <chrono>
#include <nlohmann/json.hpp>

namespace glint::store {

http::Response error_response(const Error& e) {
  switch (e.code) {
    case Errc::invalid: return http::json_error(400, "Bad Request", e.message);
    case Errc::not_found: return http::json_error(404, "Not Found", e.message);
    case Errc::conflict: return http::json_error(409, "Conflict", e.message);
    case Errc::unauthorized: return http::json_error(401, "Unauthorized", e.message);
    case Errc::too_large: return http::json_error(413, "Request Entity Too Large", e.message);
    case Errc::no_space: return http::json_error(507, "Insufficient Storage", e.message);
    case Errc::unavailable: return http::json_error(503, "Service Unavailable", e.message);
    default: return http::json_error(500, "Internal Server Error", e.message);
  }
}

PutSink::PutSink(std::unique_ptr<blob::BlobWriter> writer, BufferPool* buffers, std::string image_id,
                 StoreMetrics& metrics)
    : writer_(std::move(writer)),
      image_id_(std::move(image_id)),
      metrics_(metrics),
      behind_(std::make_unique<WriteBehind>(*writer_, buffers)) {}

Status PutSink::write(std::span<const std::byte> chunk) {
  if (!behind_) return Status(Errc::cancelled, "upload already failed");
  return behind_->submit(chunk);
}

Status PutSink::write_owned(std::vector<std::byte>& buf, size_t n) {
  if (!behind_) return Status(Errc::cancelled, "upload already failed");
  return behind_->submit_owned(buf, n);
}

http::Response PutSink::finish() {
  if (!behind_) return error_response(Error{Errc::cancelled, "upload already failed"});
  if (Status s = behind_->drain(); !s) return failed(s);
  const auto t0 = std::chrono::steady_clock::now();
  auto info = writer_->commit();
  metrics_.fsync_seconds.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  if (!info && info.code() == Errc::corrupt)  // missed X-Glint-Expect-Digest: nothing was kept
    return http::json_error(422, "Unprocessable Entity", info.error().message);
  if (!info) return error_response(info.error());
  nlohmann::json j = {{"id", image_id_},
                      {"size", info->size},
                      {"digest", hash::digest_hex(info->digest)},
                      {"block_size", info->block_size},
                      {"blocks", info->block_count}};
  auto r = http::text_response(201, j.dump(), "application/json");
  r.headers.set("X-Glint-Digest", hash::digest_hex(info->digest));
  return r;
}

http::Response PutSink::failed(const Status& why) {
  behind_.reset();  // stop the helper before touching the writer
  writer_->abort();
  if (why.code() == Errc::no_space) metrics_.no_space.Increment();
  return error_response(why.error());
}

void PutSink::abort() {
  behind_.reset();
  writer_->abort();
}

}  // namespace glint::store
