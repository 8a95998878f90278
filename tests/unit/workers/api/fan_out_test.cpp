// FanOut: every consumer sees every chunk in order, memory stays bounded by the queue depth, and a
// consumer that leaves or an abort never blocks the producer.
#include "workers/api/fan_out.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace glint::api {
namespace {

std::vector<std::byte> chunk_of(uint8_t v, size_t n = 1000) { return std::vector<std::byte>(n, std::byte{v}); }

TEST(FanOut, EveryConsumerSeesEveryChunkInOrderWithBoundedBuffers) {
  constexpr size_t kConsumers = 3, kDepth = 2, kChunks = 200;
  FanOut fan(kConsumers, kDepth);
  std::vector<std::vector<uint8_t>> seen(kConsumers);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kConsumers; ++i) {
    threads.emplace_back([&, i] {
      for (;;) {
        auto c = fan.pop(i);
        ASSERT_TRUE(c.ok());
        if (!*c) return;
        seen[i].push_back(static_cast<uint8_t>((**c)[0]));
      }
    });
  }
  for (size_t k = 0; k < kChunks; ++k) {
    auto buf = chunk_of(static_cast<uint8_t>(k));
    ASSERT_TRUE(fan.push(buf, buf.size()).ok());
  }
  fan.close();
  for (auto& t : threads) t.join();
  for (const auto& s : seen) {
    ASSERT_EQ(s.size(), kChunks);
    for (size_t k = 0; k < kChunks; ++k) EXPECT_EQ(s[k], static_cast<uint8_t>(k));
  }
  // depth queued per lane + one held per consumer + the one being pushed
  EXPECT_LE(fan.buffers(), kDepth + kConsumers + 2);
}

TEST(FanOut, LeavingConsumerDoesNotBlockTheProducer) {
  FanOut fan(2, 1);
  std::thread reader([&] {
    for (;;) {
      auto c = fan.pop(0);
      if (!c.ok() || !*c) return;
    }
  });
  fan.leave(1);  // lane 1 never reads
  for (int k = 0; k < 50; ++k) {
    auto buf = chunk_of(1);
    ASSERT_TRUE(fan.push(buf, buf.size()).ok());
  }
  fan.close();
  reader.join();
  EXPECT_EQ(fan.pop(1).code(), Errc::cancelled);
}

TEST(FanOut, AbortWakesABlockedProducerAndConsumers) {
  FanOut fan(1, 1);
  auto buf = chunk_of(1);
  ASSERT_TRUE(fan.push(buf, buf.size()).ok());  // the lane is now full
  std::thread aborter([&] { fan.abort(); });
  buf = chunk_of(2);
  EXPECT_EQ(fan.push(buf, buf.size()).code(), Errc::cancelled);  // returns once aborted
  aborter.join();
  EXPECT_EQ(fan.pop(0).code(), Errc::cancelled);
}

TEST(FanOut, NoConsumerLeftIsCancelled) {
  FanOut fan(1, 4);
  fan.leave(0);
  auto buf = chunk_of(1);
  EXPECT_EQ(fan.push(buf, buf.size()).code(), Errc::cancelled);
}

}  // namespace
}  // namespace glint::api
