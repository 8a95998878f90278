// A simulated clock for unit tests: time moves only when the test calls advance() (or, with
// auto-advance, when a thread waits on it). Waits on it (StopToken::wait_until) end when simulated
// time passes their deadline. Thread-safe.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>

#include "shared/core/clock.hpp"
#include "shared/worker/clock_waiters.hpp"

namespace glint::testing {

class FakeClock final : public Clock, public worker::ClockWaiters {
 public:
  std::chrono::steady_clock::time_point now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(mono_.load()));
  }
  std::chrono::system_clock::time_point wall() const override {
    return std::chrono::system_clock::time_point(std::chrono::nanoseconds(wall_.load()));
  }
  void advance(std::chrono::nanoseconds d) {
    std::lock_guard<std::mutex> lk(mu_);
    advance_locked(d);
  }
  void set_wall(std::chrono::system_clock::time_point t) {
    std::lock_guard<std::mutex> lk(mu_);
    wall_ = t.time_since_epoch().count();
    notify_locked();
  }

  // With auto-advance on, a thread that starts waiting moves time straight to its deadline: a
  // single-threaded simulation (e.g. Daemon::run on the test thread) then runs without any real wait.
  void set_auto_advance(bool on) {
    std::lock_guard<std::mutex> lk(mu_);
    auto_advance_ = on;
  }
  // How many threads wait on this clock now, and the earliest deadline among them.
  size_t waiters() const {
    std::lock_guard<std::mutex> lk(mu_);
    return waiters_.size();
  }
  std::optional<std::chrono::steady_clock::time_point> next_deadline() const {
    std::lock_guard<std::mutex> lk(mu_);
    std::optional<std::chrono::steady_clock::time_point> out;
    for (const auto& [id, w] : waiters_) {
      if (!out || w.deadline < *out) out = w.deadline;
    }
    return out;
  }
  // Blocks until at least `n` threads wait on this clock, for at most `timeout` of real time.
  bool wait_for_waiters(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    std::unique_lock<std::mutex> lk(mu_);
    return waiters_cv_.wait_for(lk, timeout, [&] { return waiters_.size() >= n; });
  }

  uint64_t add_waiter(std::chrono::steady_clock::time_point deadline,
                      std::function<void()> time_moved) const override {
    std::lock_guard<std::mutex> lk(mu_);
    const uint64_t id = ++next_id_;
    waiters_.emplace(id, Waiter{deadline, std::move(time_moved)});
    if (auto_advance_ && deadline > now()) advance_locked(deadline - now());
    waiters_cv_.notify_all();
    return id;
  }
  void remove_waiter(uint64_t id) const override {
    std::lock_guard<std::mutex> lk(mu_);
    waiters_.erase(id);
    waiters_cv_.notify_all();
  }

 private:
  struct Waiter {
    std::chrono::steady_clock::time_point deadline = {};
    std::function<void()> time_moved = {};
  };

  void advance_locked(std::chrono::nanoseconds d) const {
    mono_ += d.count();
    wall_ += d.count();
    notify_locked();
  }
  // Called with mu_ held, so a waiter cannot be removed (and its state freed) while it is told.
  void notify_locked() const {
    for (const auto& [id, w] : waiters_) w.time_moved();
  }

  mutable std::atomic<int64_t> mono_{1'000'000'000};
  mutable std::atomic<int64_t> wall_{1'767'225'600LL * 1'000'000'000LL};  // 2026-01-01T00:00:00Z
  mutable std::mutex mu_;
  mutable std::condition_variable waiters_cv_;
  mutable std::map<uint64_t, Waiter> waiters_;
  mutable uint64_t next_id_ = 0;
  bool auto_advance_ = false;
};

}  // namespace glint::testing
