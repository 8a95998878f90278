// Progress of a long pass as log lines (event=pass.progress done= total= rate= eta_s=), at most one
// every `interval` of clock time, so a pass can report after every item. Thread-safe.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

#include "shared/core/clock.hpp"
#include "shared/log/log.hpp"

namespace glint::worker {

class ProgressReporter {
 public:
  // The pass (and the rate's time base) starts at construction.
  ProgressReporter(const Clock& clock, log::Logger logger, std::chrono::nanoseconds interval);
  // Logs when `interval` has passed since the start or the previous line; returns whether it did.
  bool update(uint64_t done, uint64_t total);

 private:
  const Clock& clock_;
  log::Logger log_;
  const std::chrono::nanoseconds interval_;
  const std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace glint::worker
