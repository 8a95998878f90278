// Worker schedules: when each background worker may start a pass (interval or cron, optional UTC
// time window) and how hard it may push (concurrency, bytes/s, items/s), read from schedules/*.conf.
// Plain values; const member functions are safe to call from any thread.
#pragma once
#include <bitset>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace glint::schedule {

// A five-field cron expression (minute hour day-of-month month day-of-week), evaluated in UTC.
// Built by parse_cron (a default-constructed one matches nothing). Plain value; thread-compatible.
struct CronExpr {
  std::bitset<60> minutes = {};
  std::bitset<24> hours = {};
  std::bitset<32> days_of_month = {};  // bits 1..31
  std::bitset<13> months = {};         // bits 1..12
  std::bitset<7> days_of_week = {};    // bits 0..6, 0 = Sunday (7 in the text is Sunday too)
  // crontab(5): a day field that does not start with '*' is restricted; when both are, a day matches
  // if EITHER matches ("0 0 1 * mon" = the 1st and every Monday), otherwise both must.
  bool day_of_month_restricted = false;
  bool day_of_week_restricted = false;
  std::string text = {};  // as written, for logs

  // True when the minute containing `t` matches.
  bool matches(std::chrono::system_clock::time_point t) const;
  // The first matching minute strictly after `after`; time_point::max() when there is none within
  // kSearchYears (or before the clock's range ends).
  std::chrono::system_clock::time_point next_match(std::chrono::system_clock::time_point after) const;

  // Long enough for the sparsest expression parse_cron accepts: "0 0 29 2 *" after 2096-03-01 next
  // fires in 2104 (2100 is not a leap year); a fixed date on a fixed weekday recurs within 28 years.
  static constexpr int kSearchYears = 30;
};

// A daily time window in minutes after midnight UTC; end < start wraps past midnight
// ("22:00-06:00"); start == end means the whole day.
struct Window {
  int start_minute = 0;
  int end_minute = 0;
};

struct WorkerSchedule {
  std::string worker;
  std::optional<std::chrono::seconds> interval;  // exactly one of interval / cron
  std::optional<CronExpr> cron;
  std::chrono::seconds jitter{0};
  std::optional<Window> window;
  int concurrency = 1;
  double bytes_per_second = 0;  // 0 = unlimited
  double items_per_second = 0;  // 0 = unlimited
  bool enabled = true;          // the runtime's to check; next_run ignores it

  // The next time a pass may start strictly after `after`: the next cron match (or after + interval),
  // moved to the window's next opening if it falls outside the window. Jitter is NOT applied here (the
  // runtime adds it). time_point::max() when there is none (no trigger, or past the clock's range).
  std::chrono::system_clock::time_point next_run(std::chrono::system_clock::time_point after) const;
  // True when `t` is inside the window; always true without a window.
  bool in_window(std::chrono::system_clock::time_point t) const;
};

struct ScheduleError {
  std::string file;
  int line = 0;  // 1-based; 0 when not tied to a line (unreadable file)
  std::string message;
  std::string to_string() const;  // "file:line: message"
};

using Schedules = std::map<std::string, WorkerSchedule>;  // by section name
using ScheduleResult = std::variant<Schedules, std::vector<ScheduleError>>;

// The section names glint's workers read: replicator, auditor, auditor-deep, updater, reaper,
// prefetcher. Pass it as `known_workers` to reject misspelt sections.
const std::vector<std::string>& worker_names();

// Parses a schedule file: INI sections, one per worker ([replicator] …) with keys interval (duration:
// 30s, 10m, 1h, 1d), cron ("*/5 * * * *"), jitter (duration), window ("HH:MM-HH:MM", UTC; empty = none),
// concurrency (int >= 1), bytes_per_second (size: 50M), items_per_second (number), enabled (bool);
// '#'/';' comment lines. Every bad line (malformed line, unknown key, bad value, interval and cron both
// set, neither set, a key set twice in a section, a worker not in a non-empty `known_workers`) is
// reported with file and line; all errors are collected, not just the first.
ScheduleResult parse_schedules(std::string_view text, const std::string& file_name,
                               const std::vector<std::string>& known_workers = {});

// Loads the defaults file then overlays later files: a later section replaces the keys it names and
// keeps the others (interval and cron are one setting: naming either replaces the other). A section a
// later file introduces must be complete on its own.
ScheduleResult load_schedules(const std::vector<std::string>& files,
                              const std::vector<std::string>& known_workers = {});

// "m h dom mon dow" with '*', lists a,b, ranges a-b, steps */5 and a-b/2, month and weekday names
// (jan..dec, sun..sat), dow 0-7 (0 and 7 = Sunday), and @hourly/@daily/@midnight/@weekly/@monthly/
// @yearly/@annually. Expressions that can never fire ("0 0 30 2 *") are refused. nullopt with the
// reason in *why on bad input.
std::optional<CronExpr> parse_cron(std::string_view text, std::string* why = nullptr);

// "HH:MM-HH:MM" (UTC; 24:00 allowed as the end). nullopt with the reason in *why on bad input.
std::optional<Window> parse_window(std::string_view text, std::string* why = nullptr);

}  // namespace glint::schedule
