#include "shared/worker/progress.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace glint::worker {

namespace {

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

ProgressReporter::ProgressReporter(const Clock& clock, log::Logger logger, std::chrono::nanoseconds interval)
    : clock_(clock), log_(std::move(logger)), interval_(interval), start_(clock.now()), last_(start_) {}

bool ProgressReporter::update(uint64_t done, uint64_t total) {
  const auto now = clock_.now();
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (now - last_ < interval_) return false;
    last_ = now;
  }
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const uint64_t left = total > done ? total - done : 0;
  // ETA in whole seconds; -1 while there is no rate to extrapolate from.
  const int64_t eta = rate > 0 ? static_cast<int64_t>(std::ceil(static_cast<double>(left) / rate)) : -1;
  const double percent = total > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 0.0;
  log_.info("pass.progress", {{"done", done},
                              {"total", total},
                              {"percent", fixed1(percent)},
                              {"rate", fixed1(rate)},
                              {"eta_s", eta}});
  return true;
}

}  // namespace glint::worker
