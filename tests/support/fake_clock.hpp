// A simulated clock for unit tests: time moves only when the test calls advance(). Thread-safe.
#pragma once
#include <atomic>
#include <chrono>

#include "shared/core/clock.hpp"

namespace glint::testing {

class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(mono_.load()));
  }
  std::chrono::system_clock::time_point wall() const override {
    return std::chrono::system_clock::time_point(std::chrono::nanoseconds(wall_.load()));
  }
  void advance(std::chrono::nanoseconds d) {
    mono_ += d.count();
    wall_ += d.count();
  }
  void set_wall(std::chrono::system_clock::time_point t) { wall_ = t.time_since_epoch().count(); }

 private:
  std::atomic<int64_t> mono_{1'000'000'000};
  std::atomic<int64_t> wall_{1'767'225'600LL * 1'000'000'000LL};  // 2026-01-01T00:00:00Z
};

}  // namespace glint::testing
