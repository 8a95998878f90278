// When a worker may start its next pass: the trigger (interval or cron) gated by the daily window.
// All arithmetic saturates at time_point::max() so that no input can overflow the nanosecond clock.
#include <algorithm>
#include <charconv>

#include "shared/schedule/schedule.hpp"

namespace glint::schedule {
namespace {

namespace ch = std::chrono;
using TimePoint = ch::system_clock::time_point;
constexpr int kMinutesPerDay = 24 * 60;

// Window ends as minutes in [0, 1440); "24:00" becomes 0, which the wrap rule reads correctly.
int normalize(int minute) { return ((minute % kMinutesPerDay) + kMinutesPerDay) % kMinutesPerDay; }

bool minute_in(const Window& w, int minute) {
  const int start = normalize(w.start_minute);
  const int end = normalize(w.end_minute);
  if (start == end) return true;
  if (start < end) return minute >= start && minute < end;
  return minute >= start || minute < end;  // wraps past midnight
}

// The first window opening at or after `t`, which lies outside the window.
TimePoint next_opening(const Window& w, TimePoint t) {
  const auto last = ch::floor<ch::minutes>(TimePoint::max());
  const ch::sys_days day = ch::floor<ch::days>(t);
  auto opening = day + ch::minutes{normalize(w.start_minute)};
  // Compared in minutes (t is outside the window, so it is not in the opening minute itself): near the
  // end of the clock's range the opening may not fit in nanoseconds.
  if (opening <= ch::floor<ch::minutes>(t)) opening += ch::days{1};
  return opening <= last ? TimePoint{opening} : TimePoint::max();
}

bool parse_clock(std::string_view text, bool allow_24, int& minute) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2 || text.size() != colon + 3) return false;
  int h = 0;
  int m = 0;
  const char* hb = text.data();
  const char* mb = text.data() + colon + 1;
  if (std::from_chars(hb, hb + colon, h).ptr != hb + colon || std::from_chars(mb, mb + 2, m).ptr != mb + 2) {
    return false;
  }
  if (text[0] == '-' || text[colon + 1] == '-' || m > 59) return false;
  if (h > 23 && !(allow_24 && h == 24 && m == 0)) return false;
  minute = h * 60 + m;
  return true;
}

}  // namespace

std::string ScheduleError::to_string() const {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ": " + message;
}

const std::vector<std::string>& worker_names() {
  static const std::vector<std::string> names = {"replicator", "auditor", "auditor-deep",
                                                 "updater",    "reaper",  "prefetcher"};
  return names;
}

std::optional<Window> parse_window(std::string_view text, std::string* why) {
  const auto bad = [&](std::string message) {
    if (why != nullptr) *why = std::move(message);
    return std::nullopt;
  };
  const size_t dash = text.find('-');
  if (dash == std::string_view::npos) return bad("expected HH:MM-HH:MM (UTC), such as 22:00-06:00");
  const auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  Window w;
  if (!parse_clock(trim(text.substr(0, dash)), false, w.start_minute) ||
      !parse_clock(trim(text.substr(dash + 1)), true, w.end_minute)) {
    return bad("expected HH:MM-HH:MM (UTC, 00:00 to 23:59; 24:00 as the end), such as 22:00-06:00");
  }
  if (w.start_minute == w.end_minute) {
    return bad("start and end are equal; leave the window out (or write 00:00-24:00) to allow any time");
  }
  return w;
}

bool WorkerSchedule::in_window(TimePoint t) const {
  if (!window) return true;
  const auto m = ch::floor<ch::minutes>(t);
  return minute_in(*window, static_cast<int>((m - ch::floor<ch::days>(m)).count()));
}

TimePoint WorkerSchedule::next_run(TimePoint after) const {
  TimePoint candidate = TimePoint::max();
  if (cron) {
    candidate = cron->next_match(after);
  } else if (interval) {
    // Compare in seconds: a long interval converted to nanoseconds could itself overflow.
    const ch::seconds step = std::max(*interval, ch::seconds{1});
    const TimePoint base = std::max(after, TimePoint{});  // max - after overflows for times before 1970
    const auto room = ch::floor<ch::seconds>(TimePoint::max() - base);
    if (step < room) candidate = after + step;
  }
  if (candidate == TimePoint::max() || in_window(candidate)) return candidate;
  return next_opening(*window, candidate);
}

}  // namespace glint::schedule
