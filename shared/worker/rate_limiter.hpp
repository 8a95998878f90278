// Token bucket for worker rate limits (bytes/s, items/s): callers reserve units and learn how long
// to wait before using them; the long-run rate is exact, bursts are bounded. Thread-safe.
#pragma once
#include <chrono>
#include <mutex>

#include "shared/core/clock.hpp"
#include "shared/worker/stop.hpp"

namespace glint::worker {

class TokenBucket {
 public:
  // `rate_per_second` 0 (or less) means unlimited. `burst` is how many units may be used at once
  // after idling (the bucket's size); 0 or less means one second's worth. The bucket starts full.
  TokenBucket(double rate_per_second, double burst, const Clock& clock);

  // Takes `n` units now and returns how long the caller must wait before using them (zero when
  // they are available). Never blocks. Requests larger than `burst` are allowed: they wait longer.
  // Later callers queue behind earlier reservations, so concurrent users share the rate.
  std::chrono::nanoseconds reserve(double n);
  // reserve(n) and wait for it on the clock; returns early (the units stay used) when `stop` is
  // requested. Wake-ups do not end the wait.
  void acquire(double n, const StopToken& stop);

  bool unlimited() const { return rate_ <= 0; }
  double rate() const { return rate_; }
  double burst() const { return burst_; }

 private:
  // The time at which `n` units reserved now may be used.
  std::chrono::steady_clock::time_point reserve_until(double n);

  const double rate_;
  const double burst_;
  const Clock& clock_;
  std::mutex mu_;
  double tokens_;  // may go negative: units promised to callers that are still waiting
  std::chrono::steady_clock::time_point last_;
};

}  // namespace glint::worker
