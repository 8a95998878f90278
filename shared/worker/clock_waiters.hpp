// Seam for simulated clocks: a Clock that also implements ClockWaiters tells threads waiting on it
// (StopToken::wait_until) when its time moves, so such waits end as soon as simulated time passes
// their deadline instead of after real time. Implementations must be thread-safe.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>

namespace glint::worker {

class ClockWaiters {
 public:
  virtual ~ClockWaiters() = default;
  // A thread is about to wait until `deadline` (on the clock's now()). `time_moved` is called after
  // every change of time until remove_waiter(id); it must be quick and must not call back into the clock.
  virtual uint64_t add_waiter(std::chrono::steady_clock::time_point deadline,
                              std::function<void()> time_moved) const = 0;
  virtual void remove_waiter(uint64_t id) const = 0;
};

}  // namespace glint::worker
