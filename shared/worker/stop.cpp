// StopState is a mutex, a condition variable and two flags. Waits on a simulated clock register
// with it (ClockWaiters) and are notified when its time moves; waits on any other clock wait real
// time for the remaining duration, in bounded slices so far deadlines cannot overflow.
// StopSignals: the handler writes the signal number to a pipe; its thread reads it and stops.
#include "shared/worker/stop.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>

#include "shared/worker/clock_waiters.hpp"

namespace glint::worker {

namespace detail {
struct StopState {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> stopped{false};
  bool wake_pending = false;  // guarded by mu
};
}  // namespace detail

namespace {

using std::chrono::steady_clock;

constexpr std::chrono::hours kMaxRealSlice{1};

// The write end of StopSignals' pipe; -1 when none is installed.
std::atomic<int> g_signal_pipe{-1};
static_assert(std::atomic<int>::is_always_lock_free, "used from a signal handler");

// Async-signal-safe: one write(), errno preserved.
void on_stop_signal(int sig) {
  const int saved = errno;
  const int fd = g_signal_pipe.load();
  if (fd >= 0) {
    const auto b = static_cast<unsigned char>(sig);
    [[maybe_unused]] const ssize_t n = ::write(fd, &b, 1);
  }
  errno = saved;
}

steady_clock::time_point saturating_add(steady_clock::time_point t, std::chrono::nanoseconds d) {
  if (d <= std::chrono::nanoseconds::zero()) return t;
  if (t.time_since_epoch() > steady_clock::duration::max() - d) return steady_clock::time_point::max();
  return t + d;
}

}  // namespace

StopToken::StopToken() : state_(std::make_shared<detail::StopState>()) {}
StopToken::StopToken(std::shared_ptr<detail::StopState> state) : state_(std::move(state)) {}

bool StopToken::stop_requested() const { return state_->stopped.load(); }

WaitResult StopToken::wait_until(const Clock& clock, steady_clock::time_point deadline, Wakeable wakeable) const {
  detail::StopState& st = *state_;
  const auto* simulated = dynamic_cast<const ClockWaiters*>(&clock);
  uint64_t waiter = 0;
  if (simulated != nullptr) {
    // Locking before notifying means a wake-up cannot slip between our time check and our wait.
    waiter = simulated->add_waiter(deadline, [state = state_] {
      std::lock_guard<std::mutex> lk(state->mu);
      state->cv.notify_all();
    });
  }
  WaitResult result = WaitResult::deadline;
  {
    std::unique_lock<std::mutex> lk(st.mu);
    for (;;) {
      if (st.stopped.load()) {
        result = WaitResult::stopped;
        break;
      }
      if (wakeable == Wakeable::yes && st.wake_pending) {
        st.wake_pending = false;
        result = WaitResult::woken;
        break;
      }
      const auto now = clock.now();
      if (now >= deadline) break;
      if (simulated != nullptr) {
        st.cv.wait(lk);
      } else {
        st.cv.wait_for(lk, std::min<std::chrono::nanoseconds>(deadline - now, kMaxRealSlice));
      }
    }
  }
  if (simulated != nullptr) simulated->remove_waiter(waiter);
  return result;
}

WaitResult StopToken::wait_for(const Clock& clock, std::chrono::nanoseconds d, Wakeable wakeable) const {
  return wait_until(clock, saturating_add(clock.now(), d), wakeable);
}

WaitResult StopToken::wait_for(std::chrono::nanoseconds d, Wakeable wakeable) const {
  static const SystemClock system_clock;
  return wait_for(system_clock, d, wakeable);
}

StopSource::StopSource() : state_(std::make_shared<detail::StopState>()) {}

StopToken StopSource::token() const { return StopToken(state_); }

void StopSource::stop() const {
  {
    std::lock_guard<std::mutex> lk(state_->mu);
    state_->stopped = true;
  }
  state_->cv.notify_all();
}

void StopSource::wake() const {
  {
    std::lock_guard<std::mutex> lk(state_->mu);
    state_->wake_pending = true;
  }
  state_->cv.notify_all();
}

bool StopSource::stop_requested() const { return state_->stopped.load(); }

StopSignals::StopSignals(StopSource source, log::Logger logger) {
  // The write end is non-blocking: should the pipe ever be full, a stop is pending anyway.
  if (::pipe2(pipe_, O_CLOEXEC) != 0 || ::fcntl(pipe_[1], F_SETFL, O_NONBLOCK) != 0) {
    logger.error("signal.setup_failed", {{"error", std::strerror(errno)}});
    for (int& fd : pipe_) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
    return;  // the default actions stay: SIGTERM still ends the process, just not cleanly
  }
  g_signal_pipe.store(pipe_[1]);
  struct sigaction sa = {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGTERM, &sa, &old_term_);
  ::sigaction(SIGINT, &sa, &old_int_);
  thread_ = std::thread([fd = pipe_[0], source = std::move(source), logger = std::move(logger)] {
    for (;;) {
      unsigned char sig = 0;
      const ssize_t n = ::read(fd, &sig, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || sig == 0) return;  // 0: the destructor's quit byte
      logger.info("signal", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      source.stop();
    }
  });
}

StopSignals::~StopSignals() {
  if (!thread_.joinable()) return;
  ::sigaction(SIGTERM, &old_term_, nullptr);
  ::sigaction(SIGINT, &old_int_, nullptr);
  g_signal_pipe.store(-1);
  const unsigned char quit = 0;
  while (::write(pipe_[1], &quit, 1) < 0 && errno == EINTR) {
  }
  thread_.join();
  ::close(pipe_[0]);
  ::close(pipe_[1]);
}

}  // namespace glint::worker
