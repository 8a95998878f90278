// Reads and verifies the next chunk of a blob on a helper thread while the current one is being
// used (sent by glint-store, hashed by the auditor), so disk reads overlap with the rest. Four
// chunk buffers per reader. next() is called by one thread at a time.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "shared/core/buffer_pool.hpp"
#include "shared/core/result.hpp"

namespace glint::blob {

class ReadAhead {
 public:
  // fill(buf) reads the next chunk into buf and returns the bytes to send (empty at the end), or
  // an error, after which nothing more is read. It runs on the helper thread.
  using Fill = std::function<Expected<std::span<const std::byte>>(std::vector<std::byte>& buf)>;
  // Slot buffers come from `pool` (and go back to it) when one is given.
  explicit ReadAhead(Fill fill, BufferPool* pool = nullptr);
  ~ReadAhead();
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // The next chunk in order; valid until the following call.
  Expected<std::span<const std::byte>> next();

 private:
  struct Slot {
    std::vector<std::byte> buf;
    std::optional<Expected<std::span<const std::byte>>> result;
  };
  void run();

  Fill fill_;
  BufferPool* pool_;
  std::mutex mu_;
  std::condition_variable cv_;
  // Four blocks: with direct I/O there is no kernel readahead, so the next reads queue up here.
  Slot slots_[4];
  std::deque<Slot*> free_;
  std::deque<Slot*> ready_;
  Slot* held_ = nullptr;  // handed to the caller by the last next()
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace glint::blob
