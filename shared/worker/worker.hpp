// The one worker skeleton: a worker implements an idempotent run_once() pass and the shared
// Daemon loop schedules it. Workers are called from one thread at a time (the daemon's).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "shared/core/job_target.hpp"
#include "shared/core/result.hpp"
#include "shared/log/log.hpp"
#include "shared/worker/rate_limiter.hpp"
#include "shared/worker/stop.hpp"

namespace glint::worker {

// What a pass did; the daemon turns it into metrics and the pass.done log line.
struct PassResult {
  uint64_t items = 0;     // items handled (including failed ones)
  uint64_t failed = 0;    // items that failed (retried by a later pass)
  uint64_t bytes = 0;     // bytes read, written or verified
  std::optional<uint64_t> backlog;  // work known to remain, when the worker can tell
  std::string summary;    // short free text for the log line (empty: none)
};

// Everything a pass may use besides the worker's own dependencies.
struct PassContext {
  StopToken stop = {};            // check between items; a stopped pass returns what it has done
  TokenBucket* bytes = nullptr;   // bytes/s limit, nullptr = unlimited
  TokenBucket* items = nullptr;   // items/s limit, nullptr = unlimited
  log::Logger logger = {};        // bound with worker=<name>
  std::function<void(uint64_t done, uint64_t total)> progress = {};  // rate-limited progress log
  // The operator job this pass serves (JobWorker sets it); nullopt in a plain scheduled pass.
  std::optional<JobTarget> job_target = {};

  void report_progress(uint64_t done, uint64_t total) const {
    if (progress) progress(done, total);
  }
  // Waits for `n` bytes / one item of budget (no-op without a limit); false once stop is requested.
  bool take_bytes(uint64_t n) const { return take(bytes, static_cast<double>(n)); }
  bool take_item() const { return take(items, 1); }

 private:
  bool take(TokenBucket* bucket, double n) const {
    if (bucket != nullptr) bucket->acquire(n, stop);
    return !stop.stop_requested();
  }
};

class Worker {
 public:
  virtual ~Worker() = default;
  // Stable name: metrics label worker=<name>, log field, instance lock file.
  virtual std::string name() const = 0;
  // One pass over the worker's work. Must be idempotent and safe to kill at any moment. Expected
  // trouble (database down, peer unreachable) is an Error: the daemon logs and counts it and retries
  // at the next scheduled time. Items that fail individually go in PassResult::failed instead.
  virtual Expected<PassResult> run_once(const PassContext& ctx) = 0;
};

}  // namespace glint::worker
