// Hands each chunk of an upload to several consumers (storage-node senders, hash threads), each on
// its own thread, in bounded memory: chunks are shared rather than copied and their buffers are
// recycled; push() waits while the slowest consumer still in the race is `depth` chunks behind,
// which pauses reading from the client (back-pressure). Thread-safe.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "shared/core/result.hpp"
#include "shared/http/message.hpp"

namespace glint::api {

class FanOut {
 public:
  using Chunk = std::shared_ptr<std::vector<std::byte>>;

  FanOut(size_t consumers, size_t depth);

  // Producer (one thread). Takes the first n bytes of buf, handing back a recycled buffer in its
  // place (the caller resizes it). cancelled after abort() or when every consumer has left.
  Status push(std::vector<std::byte>& buf, size_t n);
  void close();  // no more chunks: consumers drain their queue, then see the end
  void abort();  // consumers see cancelled at once

  // Consumer `lane`: the next chunk, nullptr at the end, cancelled after abort() or leave().
  Expected<Chunk> pop(size_t lane);
  // Consumer `lane` gives up: its queue is dropped and push() no longer waits for it.
  void leave(size_t lane);
  size_t buffers() const;  // distinct buffers ever allocated (the memory bound, for tests)

 private:
  struct Lane {
    std::deque<Chunk> queue;
    bool left = false;
  };
  Chunk recycled_locked();

  mutable std::mutex mu_;
  std::condition_variable space_;
  std::condition_variable data_;
  std::vector<Lane> lanes_;
  std::vector<Chunk> pool_;
  const size_t depth_;
  bool closed_ = false;
  bool aborted_ = false;
};

// Adapts one consumer lane to the pull-style body a client uploads. Keeps the current chunk alive
// until the next call. One thread.
class LaneSource final : public http::BodySource {
 public:
  LaneSource(FanOut& fan, size_t lane) : fan_(fan), lane_(lane) {}
  Expected<std::span<const std::byte>> next() override;

 private:
  FanOut& fan_;
  size_t lane_;
  FanOut::Chunk current_;
};

}  // namespace glint::api
