#include "shared/worker/daemon.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <map>

#include "shared/worker/progress.hpp"

namespace glint::worker {

namespace {

using std::chrono::duration;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

// Passes last from milliseconds (nothing to do) to many hours (a deep audit of a full node).
prometheus::Histogram::BucketBoundaries pass_buckets() {
  return {0.01, 0.1, 1, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400};
}

// A schedule that answers "never" (time_point::max) must not overflow the deadline arithmetic.
constexpr auto kMaxSleep = std::chrono::hours(24 * 365 * 10);

int64_t to_ms(nanoseconds d) { return duration_cast<milliseconds>(d).count(); }

}  // namespace

Daemon::Series Daemon::make_series(metrics::Metrics& m, const std::string& worker) {
  const std::map<std::string, std::string> w{{"worker", worker}};
  auto& passes = m.counter("glint_worker_passes_total", "Worker passes, by outcome (ok, failed).");
  auto ok = w;
  ok["outcome"] = "ok";
  auto failed = w;
  failed["outcome"] = "failed";
  return Series{
      m.histogram("glint_worker_pass_seconds", "Duration of worker passes.").Add(w, pass_buckets()),
      m.gauge("glint_worker_last_pass_timestamp_seconds", "Wall time (unix seconds) at which the last pass ended.")
          .Add(w),
      m.gauge("glint_worker_last_pass_success", "1 if the last pass succeeded, 0 if it failed.").Add(w),
      m.counter("glint_worker_items_total", "Items handled by worker passes (including failed ones).").Add(w),
      m.counter("glint_worker_items_failed_total", "Items that failed in worker passes.").Add(w),
      m.counter("glint_worker_bytes_total", "Bytes handled by worker passes.").Add(w),
      m.gauge("glint_worker_backlog", "Work left at the end of the last pass that could tell.").Add(w),
      passes.Add(ok),
      passes.Add(failed),
  };
}

Daemon::Daemon(Worker& worker, DaemonOptions options, const Clock& clock, Random& random,
               metrics::Metrics& metrics, log::Logger logger, StopToken stop)
    : worker_(worker),
      opts_(std::move(options)),
      clock_(clock),
      random_(random),
      log_(logger.with({{"worker", worker.name()}})),
      stop_(std::move(stop)),
      m_(make_series(metrics, worker.name())) {}

int Daemon::run() {
  if (opts_.once) return pass() ? 0 : 1;
  if (!opts_.next_run) {
    log_.error("daemon.no_schedule");
    return 1;
  }
  const nanoseconds delay = jitter_delay();
  log_.info("daemon.start", {{"jitter_ms", opts_.jitter.count()}, {"first_pass_in_ms", to_ms(delay)}});
  if (stop_.wait_for(clock_, delay, Wakeable::yes) != WaitResult::stopped) {
    for (;;) {
      pass();
      if (stop_.stop_requested()) break;
      auto deadline = next_deadline();
      if (opts_.jitter_each_pass) deadline += jitter_delay();
      log_.debug("daemon.sleep", {{"sleep_ms", to_ms(std::max(deadline - clock_.now(), nanoseconds::zero()))}});
      if (stop_.wait_until(clock_, deadline, Wakeable::yes) == WaitResult::stopped) break;
    }
  }
  log_.info("daemon.stopped");
  return 0;
}

nanoseconds Daemon::jitter_delay() {
  if (opts_.jitter <= milliseconds::zero()) return nanoseconds::zero();
  const double u = std::clamp(random_.uniform01(), 0.0, 1.0);
  const auto span = duration_cast<nanoseconds>(opts_.jitter);
  return nanoseconds(std::llround(u * static_cast<double>(span.count())));
}

// "next_run minus elapsed": the schedule's gap after the pass's end, counted on the monotonic clock
// from that end, so time spent since (metrics, logging) is not slept again and wall clock steps
// during the sleep do not stretch it.
std::chrono::steady_clock::time_point Daemon::next_deadline() const {
  const auto next_wall = opts_.next_run(last_end_wall_);
  auto gap = duration_cast<nanoseconds>(kMaxSleep);
  if (next_wall <= last_end_wall_) {
    gap = nanoseconds::zero();
  } else if (next_wall - last_end_wall_ < kMaxSleep) {
    gap = duration_cast<nanoseconds>(next_wall - last_end_wall_);
  }
  return last_end_ + gap;
}

Expected<PassResult> Daemon::guarded_run_once(const PassContext& ctx) {
  // Expected trouble is an Error value; an exception is a bug or resource exhaustion, and it still
  // must not end the daemon: the pass counts as failed and is retried next time.
  try {
    return worker_.run_once(ctx);
  } catch (const std::exception& e) {
    return Error{Errc::io_error, std::string("unexpected exception: ") + e.what()};
  } catch (...) {
    return Error{Errc::io_error, "unexpected exception"};
  }
}

bool Daemon::pass() {
  const auto start = clock_.now();
  const auto start_wall = clock_.wall();
  ProgressReporter progress(clock_, log_, opts_.progress_interval);
  PassContext ctx;
  ctx.stop = stop_;
  ctx.bytes = opts_.bytes;
  ctx.items = opts_.items;
  ctx.logger = log_;
  ctx.progress = [&progress](uint64_t done, uint64_t total) { progress.update(done, total); };

  Expected<PassResult> result = guarded_run_once(ctx);

  last_end_ = clock_.now();
  last_end_wall_ = clock_.wall();
  const nanoseconds took = last_end_ - start;
  m_.pass_seconds.Observe(duration<double>(took).count());
  m_.last_pass_timestamp.Set(duration<double>(last_end_wall_.time_since_epoch()).count());
  db::WorkerPassRow record;
  record.worker = worker_.name();
  record.started_at = start_wall;
  record.finished_at = last_end_wall_;
  if (!result) {
    if (result.code() == Errc::cancelled && stop_.stop_requested()) {
      // Stopped before it could report anything: not a failure, the next run resumes the work.
      log_.info("pass.cancelled", {{"ms", to_ms(took)}});
      return true;
    }
    record.ok = false;
    record.note = result.error().message;
    if (opts_.on_pass) opts_.on_pass(record);
    m_.last_pass_success.Set(0);
    m_.passes_failed.Increment();
    log_.error("pass.failed",
               {{"ms", to_ms(took)}, {"code", errc_name(result.code())}, {"error", result.error().message}});
    return false;
  }
  const PassResult& r = *result;
  m_.last_pass_success.Set(1);
  m_.passes_ok.Increment();
  m_.items.Increment(static_cast<double>(r.items));
  m_.items_failed.Increment(static_cast<double>(r.failed));
  m_.bytes.Increment(static_cast<double>(r.bytes));
  if (r.backlog) m_.backlog.Set(static_cast<double>(*r.backlog));

  log::Logger line = log_.with({{"items", r.items}, {"failed", r.failed}, {"bytes", r.bytes}, {"ms", to_ms(took)}});
  if (r.backlog) line = line.with({{"backlog", *r.backlog}});
  if (stop_.stop_requested()) line = line.with({{"stopped", "true"}});
  if (!r.summary.empty()) line = line.with({{"summary", r.summary}});
  line.info("pass.done");
  record.items = r.items;
  record.failed = r.failed;
  record.bytes = r.bytes;
  record.note = r.summary;
  record.backlog = r.backlog;
  if (opts_.on_pass) opts_.on_pass(record);
  return true;
}

}  // namespace glint::worker
