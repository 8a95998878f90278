// Runs BlobWriter::write (hashing + copy into the page cache) on a helper thread, so it overlaps
// with receiving the next chunk from the socket. One chunk is buffered ahead: memory stays at two
// chunks per upload and the caller blocks when it gets further ahead (back-pressure).
// Used by one caller thread at a time.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "shared/blob/blob_store.hpp"
#include "shared/core/buffer_pool.hpp"

namespace glint::store {

class WriteBehind {
 public:
  // Its two buffers come from `pool` (and go back) when one is given, so an upload's chunks are
  // not freshly allocated and zeroed for each upload.
  explicit WriteBehind(blob::BlobWriter& writer, BufferPool* pool = nullptr);
  ~WriteBehind();
  WriteBehind(const WriteBehind&) = delete;
  WriteBehind& operator=(const WriteBehind&) = delete;

  // Copies `data` and queues it; returns the first write error seen so far (then nothing is queued).
  Status submit(std::span<const std::byte> data);
  // Queues the first n bytes of buf without copying: buf's storage is swapped for a free buffer.
  Status submit_owned(std::vector<std::byte>& buf, size_t n);
  // Waits until everything queued is written; returns the first error.
  Status drain();

 private:
  void run();

  blob::BlobWriter& writer_;
  BufferPool* pool_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::byte> pending_;  // filled by the caller
  size_t pending_len_ = 0;
  std::vector<std::byte> working_;  // being written by the helper thread
  size_t working_len_ = 0;
  bool has_pending_ = false;
  bool busy_ = false;
  bool stop_ = false;
  Status error_;
  std::thread thread_;
};

}  // namespace glint::store
