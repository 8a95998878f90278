// libFuzzer target for the schedule parser, cron expressions and windows: arbitrary bytes yield
// schedules or errors, never a crash, hang or undefined behaviour, and every accepted schedule answers
// next_run(t) > t (or time_point::max()) inside its window, from the start to the end of the clock.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "shared/schedule/schedule.hpp"

namespace {

using TimePoint = std::chrono::system_clock::time_point;

// A time anywhere in the clock's range, derived from the input (FNV-1a) so the fuzzer explores it.
TimePoint time_from(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (const char c : text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return TimePoint(std::chrono::nanoseconds(static_cast<int64_t>(h)));
}

void check_schedule(const glint::schedule::WorkerSchedule& s, TimePoint t) {
  const TimePoint next = s.next_run(t);
  if (next == TimePoint::max()) return;
  if (next <= t || !s.in_window(next)) std::abort();
  if (s.cron) {
    const TimePoint match = s.cron->next_match(t);
    if (match != TimePoint::max() && (match <= t || !s.cron->matches(match))) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const TimePoint hashed = time_from(text);
  const TimePoint times[] = {
      TimePoint{},
      std::chrono::sys_days{std::chrono::year{2024} / 2 / 28} + std::chrono::hours{23} + std::chrono::minutes{59},
      TimePoint::min(),
      TimePoint::max() - std::chrono::minutes{1},
      TimePoint::max(),
      hashed,
  };
  // With or without the list of known workers (the second accepts any section name), picked by the
  // input's hash: parsing twice would halve the runs per second for little extra coverage.
  const bool known = (hashed.time_since_epoch().count() & 1) != 0;
  const auto result = glint::schedule::parse_schedules(
      text, "fuzz.conf", known ? glint::schedule::worker_names() : std::vector<std::string>{});
  if (const auto* schedules = std::get_if<glint::schedule::Schedules>(&result)) {
    for (const auto& [name, s] : *schedules) {
      if (s.interval.has_value() == s.cron.has_value()) std::abort();  // exactly one trigger
      for (const TimePoint t : times) check_schedule(s, t);
    }
  } else {
    const auto& errors = std::get<std::vector<glint::schedule::ScheduleError>>(result);
    if (errors.empty()) std::abort();
    for (const auto& e : errors) (void)e.to_string();
  }
  std::string why;
  if (const auto cron = glint::schedule::parse_cron(text, &why)) {
    glint::schedule::WorkerSchedule s;
    s.cron = *cron;
    for (const TimePoint t : times) check_schedule(s, t);
  } else if (why.empty()) {
    std::abort();  // a refusal always says why
  }
  if (const auto window = glint::schedule::parse_window(text)) {
    glint::schedule::WorkerSchedule s;
    s.interval = std::chrono::seconds{1 + static_cast<int64_t>(size)};
    s.window = *window;
    for (const TimePoint t : times) check_schedule(s, t);
  }
  return 0;
}
