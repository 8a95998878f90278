// Adapters between the blob store and HTTP bodies: the upload sink (PUT; GETs are
// blob::VerifiedSource). Each object serves one request; not thread-safe.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "shared/blob/blob_store.hpp"
#include "shared/http/message.hpp"
#include "workers/store/store_metrics.hpp"
#include "workers/store/write_behind.hpp"

namespace glint::store {

// Feeds a request body into a BlobWriter (through a WriteBehind thread); answers 201 with size,
// digest and block count.
class PutSink final : public http::BodySink {
 public:
  PutSink(std::unique_ptr<blob::BlobWriter> writer, BufferPool* buffers, std::string image_id, StoreMetrics& metrics);
  Status write(std::span<const std::byte> chunk) override;
  Status write_owned(std::vector<std::byte>& buf, size_t n) override;
  http::Response finish() override;
  http::Response failed(const Status& why) override;
  void abort() override;

 private:
  std::unique_ptr<blob::BlobWriter> writer_;
  std::string image_id_;
  StoreMetrics& metrics_;
  std::unique_ptr<WriteBehind> behind_;  // declared after writer_: stopped before it is destroyed
};

// Maps a blob-store error to an HTTP error response.
http::Response error_response(const Error& e);

}  // namespace glint::store
