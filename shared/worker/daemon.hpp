// The one daemon loop every worker runs in: jittered first start, run_once, sleep until the next
// scheduled start (ended early by stop or wake), per-worker metrics and one summary log line per
// pass. A failed pass is logged, counted and retried at the next scheduled time. run() on one thread.
#pragma once
#include <chrono>
#include <functional>

#include "shared/core/clock.hpp"
#include "shared/core/random.hpp"
#include "shared/db/repositories.hpp"
#include "shared/log/log.hpp"
#include "shared/metrics/metrics.hpp"
#include "shared/worker/rate_limiter.hpp"
#include "shared/worker/stop.hpp"
#include "shared/worker/worker.hpp"

namespace glint::worker {

struct DaemonOptions {
  // Given the wall time a pass ended, when the next may start (from the schedule); an earlier time
  // means "at once". Required unless `once`.
  std::function<std::chrono::system_clock::time_point(std::chrono::system_clock::time_point)> next_run = {};
  // The first pass starts after a uniformly random delay in [0, jitter] so that nodes restarted
  // together do not all start at once. Not applied with `once`.
  std::chrono::milliseconds jitter{0};
  // Also delay every later start by a fresh random [0, jitter]: for cron schedules, whose starts
  // would otherwise line up across nodes again at every match.
  bool jitter_each_pass = false;
  // Run one pass (at once) and return: 0 if it succeeded, 1 if it failed.
  bool once = false;
  // Limits handed to every pass (PassContext); not owned, nullptr = unlimited.
  TokenBucket* bytes = nullptr;
  TokenBucket* items = nullptr;
  // Told about every finished pass (not a cancelled one): worker, times, outcome, counts, summary
  // or error; node is left empty. worker_main records it in the worker_passes table.
  std::function<void(const db::WorkerPassRow&)> on_pass = {};
  // Least time between two pass.progress lines.
  std::chrono::milliseconds progress_interval{std::chrono::seconds(30)};
};

class Daemon {
 public:
  Daemon(Worker& worker, DaemonOptions options, const Clock& clock, Random& random /* jitter seam */,
         metrics::Metrics& metrics, log::Logger logger, StopToken stop);
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs passes until stop (returns 0), or one pass with `once` (0 ok, 1 failed; 1 also when
  // next_run is missing in daemon mode). Stop ends a sleep at once and a pass when the worker
  // next checks its token.
  int run();

 private:
  struct Series {
    prometheus::Histogram& pass_seconds;
    prometheus::Gauge& last_pass_timestamp;
    prometheus::Gauge& last_pass_success;
    prometheus::Counter& items;
    prometheus::Counter& items_failed;
    prometheus::Counter& bytes;
    prometheus::Gauge& backlog;
    prometheus::Counter& passes_ok;
    prometheus::Counter& passes_failed;
  };
  static Series make_series(metrics::Metrics& m, const std::string& worker);

  // One pass with metrics and its summary line; false when it failed.
  bool pass();
  Expected<PassResult> guarded_run_once(const PassContext& ctx);
  std::chrono::nanoseconds jitter_delay();
  std::chrono::steady_clock::time_point next_deadline() const;

  Worker& worker_;
  DaemonOptions opts_;
  const Clock& clock_;
  Random& random_;
  log::Logger log_;
  StopToken stop_;
  Series m_;
  std::chrono::steady_clock::time_point last_end_ = {};
  std::chrono::system_clock::time_point last_end_wall_ = {};
};

}  // namespace glint::worker
