// Runs fn(0..n-1) on up to `threads` threads (the calling one included), each taking the next
// index until all are taken or stop is requested. For a worker pass's independent items (copies
// to make or delete); fn must be thread-safe.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

#include "shared/worker/stop.hpp"

namespace glint::worker {

template <class F>
void parallel_for(size_t n, int threads, const StopToken& stop, F&& fn) {
  std::atomic<size_t> next{0};
  auto run = [&] {
    for (size_t i = next++; i < n; i = next++) {
      if (stop.stop_requested()) return;
      fn(i);
    }
  };
  const size_t k = std::min<size_t>(static_cast<size_t>(std::max(1, threads)), n);
  std::vector<std::thread> pool;
  for (size_t t = 1; t < k; ++t) pool.emplace_back(run);
  run();
  for (auto& t : pool) t.join();
}

}  // namespace glint::worker
