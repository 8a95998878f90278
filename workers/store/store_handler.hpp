// glint-store's request handler: signed blob PUT/GET/HEAD/DELETE (with Range) over one BlobStore,
// plus /healthcheck and /metrics. Called concurrently from server threads; thread-safe.
#pragma once
#include <chrono>
#include <optional>
#include <string>

#include "shared/blob/blob_store.hpp"
#include "shared/core/buffer_pool.hpp"
#include "shared/bus/publisher.hpp"
#include "shared/core/clock.hpp"
#include "shared/http/auth.hpp"
#include "shared/http/message.hpp"
#include "shared/log/log.hpp"
#include "shared/metrics/metrics.hpp"
#include "workers/store/store_metrics.hpp"

namespace glint::store {

struct HandlerOptions {
  std::string shared_secret;
  std::chrono::seconds max_clock_skew{300};
  std::string node;             // this node's name: requests must be signed for it
  size_t nonce_cache = 200000;  // signed requests remembered within the skew window (replays refused)
  // Requests signed before this (unix seconds; the process start, less a little clock slack) are
  // refused: the nonces seen before a restart are gone, so such a request may be a replay.
  int64_t not_before = 0;
};

class StoreHandler final : public http::Handler {
 public:
  StoreHandler(HandlerOptions opts, blob::BlobStore& blobs, metrics::Metrics& metrics, StoreMetrics& store_metrics,
               const Clock& clock, log::Logger logger, bus::Publisher* events = nullptr);
  http::Reply handle_request(const http::Request& req) override;
  void on_complete(const http::Request& req, int status, uint64_t bytes_in, uint64_t bytes_out,
                   double seconds) override;

  // Quarantines a blob found corrupt (idempotent), counting and logging it. With file_id, only if
  // that file is still the blob (a slow reader's finding never moves a copy that replaced it).
  void report_corrupt(const std::string& image_id, const std::string& why, std::optional<uint64_t> file_id = std::nullopt);
  // Block buffers shared with the HTTP server's upload chunks (they are swapped between the two).
  BufferPool& buffers() { return buffers_; }

 private:
  http::Reply put(const http::Request& req, const std::string& id);
  http::Response get(const http::Request& req, const std::string& id, bool head);
  http::Response del(const http::Request& req, const std::string& id);
  // 401 (or 503 when the replay cache is full) unless the request is signed for this node and new.
  std::optional<http::Response> refuse_unsigned(const http::Request& req);
  http::Response render_metrics();

  HandlerOptions opts_;
  blob::BlobStore& blobs_;
  metrics::Metrics& metrics_;
  StoreMetrics& m_;
  const Clock& clock_;
  log::Logger log_;
  bus::Publisher* events_;  // replica.bad after a corrupt read; may be null
  http::NonceCache nonces_;
  BufferPool buffers_{16};  // block buffers of downloads (4 each) and uploads (3 each), reused
};

}  // namespace glint::store
