// Token bucket tests on simulated time: the long-run rate within 5% over 10 s for steady and
// mixed-size requests, bounded bursts after idling, unlimited mode, and acquire() waiting on the
// clock (interruptible by stop).
#include "shared/worker/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <future>
#include <vector>

#include "tests/support/fake_clock.hpp"

namespace glint::worker {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;

constexpr double kMiB = 1024.0 * 1024.0;

struct Measured {
  double used_in_span = 0;  // units usable within the span
  double rate = 0;          // all units used / time at which the last became usable (>= span)
};

// A caller reserving `sizes` in turn, waiting as told, until the clock passes `span`.
Measured run_for(TokenBucket& bucket, FakeClock& clock, const std::vector<double>& sizes,
                 std::chrono::nanoseconds span) {
  const auto start = clock.now();
  Measured m;
  double used = 0;
  for (size_t i = 0;; ++i) {
    const double n = sizes[i % sizes.size()];
    clock.advance(bucket.reserve(n));
    used += n;
    if (clock.now() - start > span) break;
    m.used_in_span = used;
  }
  m.rate = used / std::chrono::duration<double>(clock.now() - start).count();
  return m;
}

TEST(TokenBucket, SteadyMebibytesAtFiftyMegabytesPerSecond) {
  FakeClock clock;
  TokenBucket bucket(50e6, kMiB, clock);
  const Measured m = run_for(bucket, clock, {kMiB}, 10s);
  EXPECT_NEAR(m.used_in_span, 500e6, 500e6 * 0.05);
  EXPECT_NEAR(m.rate, 50e6, 50e6 * 0.05);
}

TEST(TokenBucket, MixedSizesIncludingLargerThanBurst) {
  FakeClock clock;
  TokenBucket bucket(50e6, 4 * kMiB, clock);
  const std::vector<double> sizes = {4096, kMiB, 16 * kMiB, 64, 3 * kMiB, 40 * kMiB, 512 * 1024, 1};
  const Measured m = run_for(bucket, clock, sizes, 10s);
  EXPECT_NEAR(m.rate, 50e6, 50e6 * 0.05);
  // Within the span: at most rate x span + burst; short of it by at most the request in flight.
  EXPECT_LE(m.used_in_span, 500e6 + 4 * kMiB);
  EXPECT_GE(m.used_in_span, 500e6 - 40 * kMiB);
}

TEST(TokenBucket, ItemsPerSecondWithFractionalWaits) {
  FakeClock clock;
  TokenBucket bucket(7, 1, clock);  // 1/7 s does not divide into whole nanoseconds
  const Measured m = run_for(bucket, clock, {1}, 10s);
  EXPECT_NEAR(m.used_in_span, 70, 70 * 0.05);
  EXPECT_NEAR(m.rate, 7, 7 * 0.05);
}

TEST(TokenBucket, IdleTimeBanksAtMostOneBurst) {
  FakeClock clock;
  TokenBucket bucket(1000, 100, clock);
  EXPECT_EQ(bucket.reserve(100), 0ns);  // starts full
  EXPECT_EQ(bucket.reserve(1), 1ms);
  clock.advance(1ms);
  clock.advance(1h);  // idle: the bucket refills to the burst, not to an hour's worth
  EXPECT_EQ(bucket.reserve(100), 0ns);
  EXPECT_EQ(bucket.reserve(50), 50ms);
}

TEST(TokenBucket, ReservationsQueueBehindEachOther) {
  FakeClock clock;
  TokenBucket bucket(100, 10, clock);
  EXPECT_EQ(bucket.reserve(10), 0ns);
  EXPECT_EQ(bucket.reserve(10), 100ms);
  EXPECT_EQ(bucket.reserve(10), 200ms);  // a second caller waits for the first one's share too
  clock.advance(200ms);
  EXPECT_EQ(bucket.reserve(0), 0ns);
  EXPECT_EQ(bucket.reserve(1), 10ms);
}

TEST(TokenBucket, BurstsOfVaryingSizesWithIdleGapsNeverExceedRatePlusBurst) {
  FakeClock clock;
  const double rate = 10e6;
  const double burst = 2 * kMiB;
  TokenBucket bucket(rate, burst, clock);
  const auto start = clock.now();
  double used = 0;
  const std::vector<double> sizes = {kMiB, 5 * kMiB, 100, 3 * kMiB};
  const std::vector<std::chrono::milliseconds> gaps = {0ms, 700ms, 30ms, 2s};
  for (size_t i = 0; clock.now() - start < 10s; ++i) {
    clock.advance(bucket.reserve(sizes[i % sizes.size()]));
    used += sizes[i % sizes.size()];
    const double elapsed = std::chrono::duration<double>(clock.now() - start).count();
    ASSERT_LE(used, burst + rate * elapsed + 1) << "at request " << i;
    clock.advance(gaps[i % gaps.size()]);
  }
}

TEST(TokenBucket, ZeroRateIsUnlimited) {
  FakeClock clock;
  TokenBucket bucket(0, 0, clock);
  EXPECT_TRUE(bucket.unlimited());
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(bucket.reserve(1e12), 0ns);
  const auto before = clock.now();
  bucket.acquire(1e15, StopToken());
  EXPECT_EQ(clock.now(), before);
}

TEST(TokenBucket, AcquireWaitsOnTheClock) {
  FakeClock clock;
  TokenBucket bucket(1000, 10, clock);
  bucket.acquire(10, StopToken());  // available at once: no wait, no waiter
  EXPECT_EQ(clock.waiters(), 0u);
  auto done = std::async(std::launch::async, [&] { bucket.acquire(100, StopToken()); });
  ASSERT_TRUE(clock.wait_for_waiters(1));
  EXPECT_EQ(clock.next_deadline(), clock.now() + 100ms);
  clock.advance(99ms);
  EXPECT_NE(done.wait_for(0s), std::future_status::ready);
  clock.advance(1ms);
  EXPECT_EQ(done.wait_for(10s), std::future_status::ready);
}

TEST(TokenBucket, AcquireEndsWhenStopped) {
  FakeClock clock;
  TokenBucket bucket(1, 1, clock);
  StopSource source;
  bucket.acquire(1, source.token());
  auto done = std::async(std::launch::async, [&] { bucket.acquire(1e6, source.token()); });
  ASSERT_TRUE(clock.wait_for_waiters(1));
  source.wake();  // wake-ups are for the daemon's sleep, not for rate limits
  EXPECT_NE(done.wait_for(0s), std::future_status::ready);
  source.stop();
  EXPECT_EQ(done.wait_for(10s), std::future_status::ready);
}

TEST(TokenBucket, AcquireAccurateWithAutoAdvancingClock) {
  FakeClock clock;
  clock.set_auto_advance(true);
  TokenBucket bucket(50e6, kMiB, clock);
  const auto end = clock.now() + 10s;
  double used = 0;
  for (;;) {
    bucket.acquire(kMiB, StopToken());
    if (clock.now() > end) break;
    used += kMiB;
  }
  EXPECT_NEAR(used, 500e6, 500e6 * 0.05);
}

}  // namespace
}  // namespace glint::worker
