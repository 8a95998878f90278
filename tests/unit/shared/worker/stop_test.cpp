// StopToken/StopSource: waits end at the deadline on a simulated clock, at stop (also from another
// thread), and at wake for wakeable waits only; SIGTERM through StopSignals requests stop.
#include "shared/worker/stop.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <future>

#include "tests/support/fake_clock.hpp"

namespace glint::worker {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;

TEST(StopToken, DefaultTokenIsNeverStopped) {
  StopToken t;
  EXPECT_FALSE(t.stop_requested());
  FakeClock clock;
  clock.set_auto_advance(true);
  EXPECT_EQ(t.wait_for(clock, 1h), WaitResult::deadline);
}

TEST(StopToken, WaitOnFakeClockEndsWhenTimePassesDeadline) {
  FakeClock clock;
  StopSource source;
  const auto deadline = clock.now() + 10s;
  auto waited = std::async(std::launch::async, [&] { return source.token().wait_until(clock, deadline); });
  ASSERT_TRUE(clock.wait_for_waiters(1));
  EXPECT_EQ(clock.next_deadline(), deadline);
  clock.advance(9s);
  EXPECT_NE(waited.wait_for(0s), std::future_status::ready);
  clock.advance(1s);
  ASSERT_EQ(waited.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(waited.get(), WaitResult::deadline);
  EXPECT_EQ(clock.waiters(), 0u);
}

TEST(StopToken, PastDeadlineReturnsAtOnce) {
  FakeClock clock;
  StopSource source;
  EXPECT_EQ(source.token().wait_until(clock, clock.now()), WaitResult::deadline);
  EXPECT_EQ(source.token().wait_for(clock, -5s), WaitResult::deadline);
  EXPECT_EQ(source.token().wait_for(0ns), WaitResult::deadline);
}

TEST(StopToken, StopFromAnotherThreadEndsWait) {
  FakeClock clock;
  StopSource source;
  auto waited = std::async(std::launch::async, [&] { return source.token().wait_for(clock, 1h); });
  ASSERT_TRUE(clock.wait_for_waiters(1));
  source.stop();
  ASSERT_EQ(waited.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(waited.get(), WaitResult::stopped);
  EXPECT_TRUE(source.token().stop_requested());
  // Every later wait returns at once, however long.
  EXPECT_EQ(source.token().wait_for(clock, std::chrono::nanoseconds::max()), WaitResult::stopped);
}

TEST(StopToken, StopEndsRealTimeWait) {
  StopSource source;
  auto waited = std::async(std::launch::async, [&] { return source.token().wait_for(24h); });
  source.stop();  // before or during the wait: either way it ends
  ASSERT_EQ(waited.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(waited.get(), WaitResult::stopped);
}

TEST(StopToken, WakeEndsOnlyWakeableWaitsAndIsUsedOnce) {
  FakeClock clock;
  StopSource source;
  const StopToken t = source.token();
  source.wake();  // nobody waits yet: kept for the next wakeable wait
  clock.set_auto_advance(true);
  EXPECT_EQ(t.wait_for(clock, 1s, Wakeable::no), WaitResult::deadline);
  EXPECT_EQ(t.wait_for(clock, 1s, Wakeable::yes), WaitResult::woken);
  EXPECT_EQ(t.wait_for(clock, 1s, Wakeable::yes), WaitResult::deadline);
  EXPECT_FALSE(t.stop_requested());
}

TEST(StopToken, WakeFromAnotherThreadEndsSleep) {
  FakeClock clock;
  StopSource source;
  auto waited = std::async(std::launch::async, [&] { return source.token().wait_for(clock, 1h, Wakeable::yes); });
  ASSERT_TRUE(clock.wait_for_waiters(1));
  source.wake();
  ASSERT_EQ(waited.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(waited.get(), WaitResult::woken);
}

TEST(StopSignals, SigtermRequestsStop) {
  StopSource source;
  FakeClock clock;
  {
    // A thread that already runs (and may be the one the kernel picks for the signal) is fine.
    auto waiting = std::async(std::launch::async, [&] { return source.token().wait_for(clock, 1h); });
    ASSERT_TRUE(clock.wait_for_waiters(1));
    StopSignals signals(source, log::Logger::null());
    ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
    ASSERT_EQ(waiting.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(waiting.get(), WaitResult::stopped);
  }
  // The destructor ended the signal thread and restored the mask; the process is still here.
  EXPECT_TRUE(source.stop_requested());
}

TEST(StopSignals, SigintRequestsStop) {
  StopSource source;
  StopSignals signals(source, log::Logger::null());
  ASSERT_EQ(::kill(::getpid(), SIGINT), 0);
  EXPECT_EQ(source.token().wait_for(10s), WaitResult::stopped);
}

}  // namespace
}  // namespace glint::worker
