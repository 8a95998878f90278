// Reservation-style token bucket: the balance is refilled lazily from the elapsed clock time,
// capped at `burst`, and may go negative; a negative balance is a queue of promised units, and
// its size divided by the rate is how long the newest reservation waits.
#include "shared/worker/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace glint::worker {

using std::chrono::steady_clock;

TokenBucket::TokenBucket(double rate_per_second, double burst, const Clock& clock)
    : rate_(rate_per_second > 0 && std::isfinite(rate_per_second) ? rate_per_second : 0),
      burst_(burst > 0 ? burst : std::max(rate_, 1.0)),
      clock_(clock),
      tokens_(burst_),
      last_(clock.now()) {}

steady_clock::time_point TokenBucket::reserve_until(double n) {
  std::lock_guard<std::mutex> lk(mu_);
  const auto now = clock_.now();
  if (unlimited()) return now;
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    last_ = now;
  }
  tokens_ -= std::max(n, 0.0);
  if (tokens_ >= 0) return now;
  // Rounded up (less a hair of float noise) so that waiting this long covers the debt; capped at
  // ~95 years so absurd requests cannot overflow the conversion.
  const double wait_s = std::min(-tokens_ / rate_, 3e9);
  return now + std::chrono::nanoseconds(static_cast<int64_t>(std::ceil(wait_s * 1e9 - 1e-3)));
}

std::chrono::nanoseconds TokenBucket::reserve(double n) {
  const auto now = clock_.now();
  const auto until = reserve_until(n);
  return until > now ? std::chrono::duration_cast<std::chrono::nanoseconds>(until - now)
                     : std::chrono::nanoseconds::zero();
}

void TokenBucket::acquire(double n, const StopToken& stop) {
  const auto until = reserve_until(n);
  if (until <= clock_.now()) return;
  (void)stop.wait_until(clock_, until, Wakeable::no);
}

}  // namespace glint::worker
