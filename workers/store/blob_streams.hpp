// Adapters between the blob store and HTTP bodies: a verified range reader (GET) and an upload sink
// (PUT). Each object serves one request; not thread-safe.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "shared/blob/blob_store.hpp"
#include "shared/http/message.hpp"
#include "workers/store/store_metrics.hpp"

namespace glint::store {

// Called when a read finds corruption (quarantines the blob, counts, logs).
using CorruptHandler = std::function<void(const std::string& image_id, const std::string& why)>;

// Streams bytes [first, last] of a blob, verifying every block before any of its bytes leave.
class RangeSource final : public http::BodySource {
 public:
  RangeSource(std::unique_ptr<blob::BlobReader> reader, std::string image_id, uint64_t first, uint64_t last,
              CorruptHandler on_corrupt);
  Expected<std::span<const std::byte>> next() override;

 private:
  std::unique_ptr<blob::BlobReader> reader_;
  std::string image_id_;
  uint64_t pos_;   // next byte to send
  uint64_t end_;   // one past the last byte
  CorruptHandler on_corrupt_;
  std::vector<std::byte> buf_;
};

// Feeds a request body into a BlobWriter; answers 201 with size, digest and block count.
class PutSink final : public http::BodySink {
 public:
  PutSink(std::unique_ptr<blob::BlobWriter> writer, std::string image_id, StoreMetrics& metrics);
  Status write(std::span<const std::byte> chunk) override;
  http::Response finish() override;
  http::Response failed(const Status& why) override;
  void abort() override;

 private:
  std::unique_ptr<blob::BlobWriter> writer_;
  std::string image_id_;
  StoreMetrics& metrics_;
};

// Maps a blob-store error to an HTTP error response.
http::Response error_response(const Error& e);

}  // namespace glint::store
