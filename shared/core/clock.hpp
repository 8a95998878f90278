// Clock seam: every time-dependent decision asks a Clock so tests can use a simulated one.
// Implementations must be thread-safe.
#pragma once
#include <chrono>
#include <memory>

namespace glint {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time for intervals and deadlines.
  virtual std::chrono::steady_clock::time_point now() const = 0;
  // Wall time for timestamps that leave the process (signatures, database rows).
  virtual std::chrono::system_clock::time_point wall() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall() const override { return std::chrono::system_clock::now(); }
};

}  // namespace glint
