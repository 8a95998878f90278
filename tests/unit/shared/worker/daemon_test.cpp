// The daemon loop on simulated time: jittered first start, passes at next_run after each pass's
// end, failed passes counted and retried on schedule, once mode, stop and wake during the sleep
// (driven from the test thread against a daemon thread, waited for with deadlines), metrics and
// the pass.done summary line.
#include "shared/worker/daemon.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "tests/support/fake_clock.hpp"

namespace glint::worker {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;
using std::chrono::system_clock;
using testing::FakeClock;

class FixedRandom final : public Random {
 public:
  explicit FixedRandom(double v) : v_(v) {}
  double uniform01() override { return v_; }

 private:
  double v_ = 0;
};

// Records when each pass started and runs `body` (1-based pass number) for its outcome; each pass
// takes `pass_time` of simulated time.
class FakeWorker final : public Worker {
 public:
  using Body = std::function<Expected<PassResult>(int pass, const PassContext& ctx)>;
  FakeWorker(FakeClock& clock, Body body, std::chrono::nanoseconds pass_time = 0ns)
      : clock_(clock), body_(std::move(body)), pass_time_(pass_time) {}

  std::string name() const override { return "fake"; }
  Expected<PassResult> run_once(const PassContext& ctx) override {
    int n = 0;
    {
      std::lock_guard<std::mutex> lk(mu_);
      starts_.push_back(clock_.now());
      wall_starts_.push_back(clock_.wall());
      n = static_cast<int>(starts_.size());
    }
    clock_.advance(pass_time_);
    auto result = body_(n, ctx);
    {
      std::lock_guard<std::mutex> lk(mu_);
      ++finished_;
    }
    cv_.notify_all();
    return result;
  }

  bool wait_for_passes(int n) {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(lk, 10s, [&] { return finished_ >= n; });
  }
  std::vector<steady_clock::time_point> starts() {
    std::lock_guard<std::mutex> lk(mu_);
    return starts_;
  }
  std::vector<system_clock::time_point> wall_starts() {
    std::lock_guard<std::mutex> lk(mu_);
    return wall_starts_;
  }

 private:
  FakeClock& clock_;
  Body body_;
  std::chrono::nanoseconds pass_time_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<steady_clock::time_point> starts_;
  std::vector<system_clock::time_point> wall_starts_;
  int finished_ = 0;
};

PassResult items(uint64_t n) {
  PassResult r;
  r.items = n;
  return r;
}

auto every(std::chrono::nanoseconds gap) {
  return [gap](system_clock::time_point end) { return end + std::chrono::duration_cast<system_clock::duration>(gap); };
}

// The value of one series in the text exposition, NaN if absent.
double metric(const metrics::Metrics& m, const std::string& series) {
  std::istringstream in(m.render());
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nan("");
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override { t0_ = clock_.now(); }

  Daemon make(FakeWorker& w, DaemonOptions opts, log::Logger logger = log::Logger::null()) {
    return Daemon(w, std::move(opts), clock_, random_, metrics_, std::move(logger), source_.token());
  }

  FakeClock clock_;
  FixedRandom random_{0.5};
  metrics::Metrics metrics_;
  StopSource source_;
  steady_clock::time_point t0_;
};

TEST_F(DaemonTest, OnceRunsOnePassWithoutJitter) {
  FakeWorker w(clock_, [](int, const PassContext&) -> Expected<PassResult> { return items(1); });
  DaemonOptions opts;
  opts.once = true;
  opts.jitter = 10s;
  EXPECT_EQ(make(w, opts).run(), 0);
  ASSERT_EQ(w.starts().size(), 1u);
  EXPECT_EQ(w.starts()[0], t0_);
}

TEST_F(DaemonTest, OnceReturnsOneWhenThePassFails) {
  FakeWorker w(clock_, [](int, const PassContext&) -> Expected<PassResult> {
    return Error{Errc::unavailable, "database down"};
  });
  DaemonOptions opts;
  opts.once = true;
  EXPECT_EQ(make(w, opts).run(), 1);
  EXPECT_EQ(metric(metrics_, "glint_worker_last_pass_success{worker=\"fake\"}"), 0);
}

TEST_F(DaemonTest, EveryFinishedPassIsReportedForTheWorkerPassesTable) {
  int n = 0;
  FakeWorker w(
      clock_,
      [&](int, const PassContext&) -> Expected<PassResult> {
        if (++n == 2) return Error{Errc::unavailable, "database down"};
        PassResult r = items(4);
        r.bytes = 99;
        r.summary = "quick";
        return r;
      },
      1500ms);
  std::vector<db::WorkerPassRow> seen;
  DaemonOptions opts;
  opts.once = true;
  opts.on_pass = [&](const db::WorkerPassRow& r) { seen.push_back(r); };
  EXPECT_EQ(make(w, opts).run(), 0);
  EXPECT_EQ(make(w, opts).run(), 1);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].worker, "fake");
  EXPECT_TRUE(seen[0].ok);
  EXPECT_EQ(seen[0].items, 4u);
  EXPECT_EQ(seen[0].bytes, 99u);
  EXPECT_EQ(seen[0].note, "quick");
  EXPECT_EQ(seen[0].finished_at - seen[0].started_at, 1500ms);
  EXPECT_FALSE(seen[1].ok);
  EXPECT_EQ(seen[1].note, "database down");
}

TEST_F(DaemonTest, DaemonModeWithoutScheduleFails) {
  FakeWorker w(clock_, [](int, const PassContext&) -> Expected<PassResult> { return items(1); });
  EXPECT_EQ(make(w, DaemonOptions{}).run(), 1);
  EXPECT_TRUE(w.starts().empty());
}

TEST_F(DaemonTest, FirstStartIsJitteredWithinJitter) {
  clock_.set_auto_advance(true);
  for (double u : {0.0, 0.25, 0.999999}) {
    const auto start = clock_.now();
    FixedRandom random(u);
    StopSource source;
    FakeWorker w(clock_, [&](int, const PassContext&) -> Expected<PassResult> {
      source.stop();
      return items(0);
    });
    DaemonOptions opts;
    opts.next_run = every(1min);
    opts.jitter = 8s;
    Daemon d(w, opts, clock_, random, metrics_, log::Logger::null(), source.token());
    EXPECT_EQ(d.run(), 0);
    ASSERT_EQ(w.starts().size(), 1u);
    const auto delay = w.starts()[0] - start;
    EXPECT_GE(delay, 0ns);
    EXPECT_LE(delay, 8s);
    EXPECT_NEAR(std::chrono::duration<double>(delay).count(), u * 8, 1e-6) << u;
  }
}

TEST_F(DaemonTest, PassesStartAtNextRunAfterEachPassEnd) {
  clock_.set_auto_advance(true);
  FakeWorker w(
      clock_,
      [&](int n, const PassContext&) -> Expected<PassResult> {
        if (n == 4) source_.stop();
        return items(1);
      },
      3s);
  DaemonOptions opts;
  opts.next_run = every(10s);
  EXPECT_EQ(make(w, opts).run(), 0);
  const auto s = w.starts();
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0], t0_);
  EXPECT_EQ(s[1], t0_ + 13s);  // ended at 3 s, next_run says 10 s after the end
  EXPECT_EQ(s[2], t0_ + 26s);
  EXPECT_EQ(s[3], t0_ + 39s);
}

TEST_F(DaemonTest, JitterEachPassDelaysEveryStart) {
  clock_.set_auto_advance(true);
  FakeWorker w(
      clock_,
      [&](int n, const PassContext&) -> Expected<PassResult> {
        if (n == 3) source_.stop();
        return items(1);
      },
      1s);
  DaemonOptions opts;
  opts.next_run = every(1min);
  opts.jitter = 10s;
  opts.jitter_each_pass = true;
  EXPECT_EQ(make(w, opts).run(), 0);
  const auto s = w.starts();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], t0_ + 5s);  // FixedRandom 0.5 of 10 s
  EXPECT_EQ(s[1], t0_ + 5s + 1s + 1min + 5s);
  EXPECT_EQ(s[2], t0_ + 2 * (5s + 1s + 1min) + 5s);
}

TEST_F(DaemonTest, WallClockScheduleIsFollowed) {
  clock_.set_auto_advance(true);
  const auto midnight = clock_.wall();
  clock_.set_wall(midnight + 7s);
  FakeWorker w(
      clock_,
      [&](int n, const PassContext&) -> Expected<PassResult> {
        if (n == 3) source_.stop();
        return items(1);
      },
      3s);
  DaemonOptions opts;
  // Cron-like: the next whole minute after the pass ended.
  opts.next_run = [](system_clock::time_point end) { return std::chrono::floor<std::chrono::minutes>(end) + 1min; };
  EXPECT_EQ(make(w, opts).run(), 0);
  const auto s = w.wall_starts();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], midnight + 7s);
  EXPECT_EQ(s[1], midnight + 1min);
  EXPECT_EQ(s[2], midnight + 2min);
}

TEST_F(DaemonTest, FailedPassIsCountedAndRetriedAtTheNextScheduledTime) {
  clock_.set_auto_advance(true);
  std::vector<double> success_seen;
  FakeWorker w(
      clock_,
      [&](int n, const PassContext&) -> Expected<PassResult> {
        if (n > 1) success_seen.push_back(metric(metrics_, "glint_worker_last_pass_success{worker=\"fake\"}"));
        if (n == 1) return Error{Errc::unavailable, "database down"};
        if (n == 2) throw std::runtime_error("bug");
        if (n == 4) source_.stop();
        return items(2);
      },
      1s);
  DaemonOptions opts;
  opts.next_run = every(30s);
  EXPECT_EQ(make(w, opts).run(), 0);
  const auto s = w.starts();
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[1], t0_ + 31s);
  EXPECT_EQ(s[2], t0_ + 62s);
  EXPECT_EQ(s[3], t0_ + 93s);
  EXPECT_EQ(success_seen, (std::vector<double>{0, 0, 1}));
  EXPECT_EQ(metric(metrics_, "glint_worker_passes_total{outcome=\"failed\",worker=\"fake\"}"), 2);
  EXPECT_EQ(metric(metrics_, "glint_worker_passes_total{outcome=\"ok\",worker=\"fake\"}"), 2);
  EXPECT_EQ(metric(metrics_, "glint_worker_last_pass_success{worker=\"fake\"}"), 1);
  EXPECT_EQ(metric(metrics_, "glint_worker_items_total{worker=\"fake\"}"), 4);
  EXPECT_EQ(metric(metrics_, "glint_worker_pass_seconds_count{worker=\"fake\"}"), 4);
}

TEST_F(DaemonTest, MetricsAfterPasses) {
  clock_.set_auto_advance(true);
  FakeWorker w(
      clock_,
      [&](int n, const PassContext&) -> Expected<PassResult> {
        PassResult r;
        if (n == 1) {
          r.items = 5;
          r.failed = 1;
          r.bytes = 1000;
          r.backlog = 7;
        } else {
          r.items = 3;
          r.bytes = 24;
          source_.stop();
        }
        return r;
      },
      3s);
  DaemonOptions opts;
  opts.next_run = every(1min);
  EXPECT_EQ(make(w, opts).run(), 0);
  const std::string lbl = "{worker=\"fake\"}";
  EXPECT_EQ(metric(metrics_, "glint_worker_items_total" + lbl), 8);
  EXPECT_EQ(metric(metrics_, "glint_worker_items_failed_total" + lbl), 1);
  EXPECT_EQ(metric(metrics_, "glint_worker_bytes_total" + lbl), 1024);
  EXPECT_EQ(metric(metrics_, "glint_worker_backlog" + lbl), 7);  // the second pass did not report one
  EXPECT_EQ(metric(metrics_, "glint_worker_last_pass_success" + lbl), 1);
  EXPECT_EQ(metric(metrics_, "glint_worker_pass_seconds_count" + lbl), 2);
  EXPECT_EQ(metric(metrics_, "glint_worker_pass_seconds_sum" + lbl), 6);
  const double end_wall = std::chrono::duration<double>(clock_.wall().time_since_epoch()).count();
  EXPECT_EQ(metric(metrics_, "glint_worker_last_pass_timestamp_seconds" + lbl), end_wall);
}

// Log lines written to a scratch file.
class DaemonLogTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    std::string tmpl = (std::filesystem::temp_directory_path() / "glint-daemon-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    logger_ = log::Logger::make("worker", log::Level::debug, (dir_ / "w.log").string());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::vector<std::string> lines(const std::string& event) const {
    std::ifstream in(dir_ / "w.log");
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
      if (line.find(" event=" + event + " ") != std::string::npos) out.push_back(line);
    }
    return out;
  }

  std::filesystem::path dir_;
  log::Logger logger_;
};

TEST_F(DaemonLogTest, EachPassEndsWithOneSummaryLine) {
  FakeWorker w(
      clock_,
      [](int, const PassContext&) -> Expected<PassResult> {
        PassResult r;
        r.items = 3;
        r.failed = 1;
        r.bytes = 100;
        r.backlog = 9;
        r.summary = "2 copied, 1 unreachable";
        return r;
      },
      2500ms);
  DaemonOptions opts;
  opts.once = true;
  EXPECT_EQ(make(w, opts, logger_).run(), 0);
  const auto done = lines("pass.done");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NE(done[0].find(" comp=worker event=pass.done worker=fake items=3 failed=1 bytes=100 ms=2500 backlog=9 "
                         "summary=\"2 copied, 1 unreachable\""),
            std::string::npos)
      << done[0];
}

TEST_F(DaemonLogTest, FailedPassLogsCodeAndError) {
  FakeWorker w(clock_, [](int, const PassContext&) -> Expected<PassResult> {
    return Error{Errc::unavailable, "database down"};
  });
  DaemonOptions opts;
  opts.once = true;
  EXPECT_EQ(make(w, opts, logger_).run(), 1);
  const auto failed = lines("pass.failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0].find("level=error"), std::string::npos);
  EXPECT_NE(failed[0].find(" worker=fake ms=0 code=unavailable error=\"database down\""), std::string::npos)
      << failed[0];
  EXPECT_TRUE(lines("pass.done").empty());
}

TEST_F(DaemonLogTest, PassContextCarriesLimitsLoggerAndProgress) {
  clock_.set_auto_advance(true);
  TokenBucket bytes(1000, 1000, clock_);
  DaemonOptions opts;
  opts.once = true;
  opts.bytes = &bytes;
  opts.progress_interval = 10s;
  FakeWorker w(clock_, [&](int, const PassContext& ctx) -> Expected<PassResult> {
    EXPECT_EQ(ctx.bytes, &bytes);
    EXPECT_EQ(ctx.items, nullptr);
    ctx.logger.info("item.done");
    for (uint64_t i = 1; i <= 25; ++i) {
      EXPECT_TRUE(ctx.take_bytes(1000));  // 1 s each at 1000 B/s (the first is the burst)
      EXPECT_TRUE(ctx.take_item());       // no item limit
      ctx.report_progress(i, 25);
    }
    return items(25);
  });
  EXPECT_EQ(make(w, opts, logger_).run(), 0);
  EXPECT_EQ(clock_.now() - t0_, 24s);
  const auto item = lines("item.done");
  ASSERT_EQ(item.size(), 1u);
  EXPECT_NE(item[0].find(" worker=fake"), std::string::npos);
  const auto progress = lines("pass.progress");
  ASSERT_EQ(progress.size(), 2u);  // at 10 s and 20 s
  EXPECT_NE(progress[0].find(" worker=fake done=11 total=25 percent=44.0 rate=1.1 eta_s=13"), std::string::npos)
      << progress[0];
}

TEST_F(DaemonTest, StopDuringSleepEndsRunPromptly) {
  FakeWorker w(clock_, [](int, const PassContext&) -> Expected<PassResult> { return items(1); }, 5s);
  DaemonOptions opts;
  opts.next_run = every(1min);
  Daemon d = make(w, opts);
  auto ran = std::async(std::launch::async, [&] { return d.run(); });
  ASSERT_TRUE(w.wait_for_passes(1));
  ASSERT_TRUE(clock_.wait_for_waiters(1));
  EXPECT_EQ(clock_.next_deadline(), t0_ + 5s + 1min);  // sleeping until next_run after the pass's end
  source_.stop();
  ASSERT_EQ(ran.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(ran.get(), 0);
  EXPECT_EQ(w.starts().size(), 1u);
  EXPECT_EQ(clock_.now(), t0_ + 5s);  // no simulated time was needed to stop
}

TEST_F(DaemonTest, StopDuringJitterRunsNoPass) {
  FakeWorker w(clock_, [](int, const PassContext&) -> Expected<PassResult> { return items(1); });
  DaemonOptions opts;
  opts.next_run = every(1min);
  opts.jitter = 10s;
  Daemon d = make(w, opts);
  auto ran = std::async(std::launch::async, [&] { return d.run(); });
  ASSERT_TRUE(clock_.wait_for_waiters(1));
  EXPECT_EQ(clock_.next_deadline(), t0_ + 5s);  // FixedRandom 0.5 of 10 s
  source_.stop();
  ASSERT_EQ(ran.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(ran.get(), 0);
  EXPECT_TRUE(w.starts().empty());
}

TEST_F(DaemonTest, AdvancingToTheDeadlineStartsTheNextPass) {
  FakeWorker w(clock_, [](int, const PassContext&) -> Expected<PassResult> { return items(1); }, 2s);
  DaemonOptions opts;
  opts.next_run = every(1min);
  Daemon d = make(w, opts);
  auto ran = std::async(std::launch::async, [&] { return d.run(); });
  ASSERT_TRUE(w.wait_for_passes(1));
  ASSERT_TRUE(clock_.wait_for_waiters(1));
  clock_.advance(1min - 1ns);
  EXPECT_EQ(w.starts().size(), 1u);
  clock_.advance(1ns);
  ASSERT_TRUE(w.wait_for_passes(2));
  source_.stop();
  ASSERT_EQ(ran.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(ran.get(), 0);
  EXPECT_EQ(w.starts().at(1), t0_ + 2s + 1min);
}

TEST_F(DaemonTest, WakeRunsTheNextPassNowWithoutStopping) {
  FakeWorker w(clock_, [](int, const PassContext&) -> Expected<PassResult> { return items(1); });
  DaemonOptions opts;
  opts.next_run = every(1h);
  Daemon d = make(w, opts);
  auto ran = std::async(std::launch::async, [&] { return d.run(); });
  ASSERT_TRUE(w.wait_for_passes(1));
  ASSERT_TRUE(clock_.wait_for_waiters(1));
  source_.wake();
  ASSERT_TRUE(w.wait_for_passes(2));
  EXPECT_EQ(w.starts().at(1), t0_);  // no simulated time passed
  ASSERT_TRUE(clock_.wait_for_waiters(1));
  EXPECT_EQ(clock_.next_deadline(), t0_ + 1h);
  source_.stop();
  ASSERT_EQ(ran.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(ran.get(), 0);
}

TEST_F(DaemonTest, StopDuringPassEndsRunAfterIt) {
  clock_.set_auto_advance(true);
  int handled = 0;
  FakeWorker w(clock_, [&](int, const PassContext& ctx) -> Expected<PassResult> {
    for (int i = 0; i < 10 && !ctx.stop.stop_requested(); ++i) {
      if (++handled == 3) source_.stop();  // e.g. SIGTERM arrives mid-pass
    }
    return items(static_cast<uint64_t>(handled));
  });
  DaemonOptions opts;
  opts.next_run = every(1min);
  EXPECT_EQ(make(w, opts).run(), 0);
  EXPECT_EQ(handled, 3);
  EXPECT_EQ(w.starts().size(), 1u);
  EXPECT_EQ(metric(metrics_, "glint_worker_items_total{worker=\"fake\"}"), 3);
}

TEST_F(DaemonTest, CancelledPassAfterStopIsNotAFailure) {
  FakeWorker w(clock_, [&](int, const PassContext&) -> Expected<PassResult> {
    source_.stop();
    return Error{Errc::cancelled, "stopped"};
  });
  DaemonOptions opts;
  opts.once = true;
  EXPECT_EQ(make(w, opts).run(), 0);
  EXPECT_EQ(metric(metrics_, "glint_worker_passes_total{outcome=\"failed\",worker=\"fake\"}"), 0);
}

}  // namespace
}  // namespace glint::worker
