// A few reusable block buffers: a request's buffers come from here and go back when it ends, so
// block-sized buffers are not freshly mapped, faulted in and zeroed for every small blob (which
// dominated the cost of serving 1 MiB blobs). Bounded: at most `max_buffers` are kept. Thread-safe.
#pragma once
#include <cstddef>
#include <mutex>
#include <vector>

namespace glint {

class BufferPool {
 public:
  explicit BufferPool(size_t max_buffers) : max_(max_buffers) {}
  // A buffer that keeps the size it had (resize() within it neither allocates nor zeroes).
  std::vector<std::byte> take() {
    std::lock_guard lk(mu_);
    if (free_.empty()) return {};
    std::vector<std::byte> b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void give(std::vector<std::byte> b) {
    if (b.capacity() == 0) return;
    std::lock_guard lk(mu_);
    if (free_.size() < max_) free_.push_back(std::move(b));
  }

 private:
  const size_t max_;
  std::mutex mu_;
  std::vector<std::vector<std::byte>> free_;
};

}  // namespace glint
