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
#include "shared/blob/read_ahead.hpp"
#include "workers/store/write_behind.hpp"

namespace glint::store {

// Called when a read finds corruption (quarantines the blob, counts, logs).
// A corrupt block found in the file `file_id` (BlobReader::file_id) of the blob.
using CorruptHandler = std::function<void(const std::string& image_id, const std::string& why, uint64_t file_id)>;

// Streams bytes [first, last] of a blob, verifying every block before any of its bytes leave; the
// next block is read and verified ahead (ReadAhead) while the current one is sent. As a FileBody
// a verified block goes out by sendfile from the file (the page cache) instead of a second copy.
class RangeSource final : public http::BodySource, public http::FileBody {
 public:
  RangeSource(std::unique_ptr<blob::BlobReader> reader, BufferPool* buffers, std::string image_id, uint64_t first, uint64_t last,
              CorruptHandler on_corrupt);
  Expected<std::span<const std::byte>> next() override;
  Expected<http::FileRange> next_range() override;

 private:
  // Reads the block holding pos_ into buf and returns the part inside the range (helper thread).
  Expected<std::span<const std::byte>> fill(std::vector<std::byte>& buf);

  std::unique_ptr<blob::BlobReader> reader_;
  std::string image_id_;
  uint64_t pos_;   // next byte to read
  uint64_t end_;   // one past the last byte
  uint64_t sent_;  // file offset of the next verified piece handed out (the consumer's thread)
  CorruptHandler on_corrupt_;
  std::unique_ptr<blob::ReadAhead> ahead_;  // last: its thread stops before the members it uses go
};

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
