// Cooperative stop for workers and the daemon loop: a StopSource requests stop (or wakes a sleep
// early); StopTokens observe it and wait interruptibly on a Clock. Thread-safe; stop() and wake()
// may be called from any thread, but not from a signal handler (StopSignals does that safely).
#pragma once
#include <signal.h>

#include <chrono>
#include <memory>
#include <thread>

#include "shared/core/clock.hpp"
#include "shared/log/log.hpp"

namespace glint::worker {

enum class WaitResult { deadline, stopped, woken };
// Whether wake() ends a wait. Only the daemon's sleep between passes is wakeable; waits inside a
// pass (rate limits) ignore wake-ups and leave them for that sleep.
enum class Wakeable { no, yes };

namespace detail {
struct StopState;
}

// The observing side: workers check stop_requested() between items and wait through it.
class StopToken {
 public:
  // A token nobody can stop (for tests and callers without a daemon).
  StopToken();
  bool stop_requested() const;
  // Waits until `deadline` on `clock` or until stop. With Wakeable::yes also until wake(); a wake
  // that came while nobody was waiting counts too, and each wake ends one wait. On a simulated clock
  // (one implementing ClockWaiters) the wait ends when simulated time passes the deadline.
  WaitResult wait_until(const Clock& clock, std::chrono::steady_clock::time_point deadline,
                        Wakeable wakeable = Wakeable::no) const;
  WaitResult wait_for(const Clock& clock, std::chrono::nanoseconds d, Wakeable wakeable = Wakeable::no) const;
  // Real time.
  WaitResult wait_for(std::chrono::nanoseconds d, Wakeable wakeable = Wakeable::no) const;

 private:
  friend class StopSource;
  explicit StopToken(std::shared_ptr<detail::StopState> state);
  std::shared_ptr<detail::StopState> state_;
};

// A handle: copies share one stop state.
class StopSource {
 public:
  StopSource();
  StopToken token() const;
  // Requests stop; every current and later wait returns WaitResult::stopped. Idempotent.
  void stop() const;
  // Ends the current (or next) wakeable wait early without stopping: "run the next pass now".
  void wake() const;
  bool stop_requested() const;

 private:
  std::shared_ptr<detail::StopState> state_;
};

// Turns SIGTERM and SIGINT into StopSource::stop(): the handler only writes the signal number to
// a pipe (self-pipe), and a thread of its own logs it and calls stop(). Works whenever it is
// installed, whatever threads exist. At most one at a time per process; the destructor puts the
// previous handlers back.
class StopSignals {
 public:
  StopSignals(StopSource source, log::Logger logger);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  int pipe_[2] = {-1, -1};
  struct sigaction old_term_ = {};
  struct sigaction old_int_ = {};
  std::thread thread_;
};

}  // namespace glint::worker
