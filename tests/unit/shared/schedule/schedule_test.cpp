// Tests for worker schedules: cron parsing and matching, next_run across month/year boundaries and leap
// days, time windows, error reporting with file and line, overlays, and the shipped defaults.
#include "shared/schedule/schedule.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace glint::schedule {
namespace {

using namespace std::chrono_literals;
namespace ch = std::chrono;
namespace fs = std::filesystem;
using TimePoint = ch::system_clock::time_point;

TimePoint at(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return ch::sys_days{ch::year{y} / mo / d} + ch::hours{h} + ch::minutes{mi} + ch::seconds{s};
}

CronExpr cron_ok(std::string_view text) {
  std::string why;
  auto c = parse_cron(text, &why);
  if (!c) {
    ADD_FAILURE() << "'" << text << "' refused: " << why;
    return {};
  }
  return *c;
}

std::string cron_error(std::string_view text) {
  std::string why;
  if (parse_cron(text, &why)) {
    ADD_FAILURE() << "'" << text << "' accepted";
    return {};
  }
  return why;
}

Schedules parse_ok(std::string_view text) {
  auto r = parse_schedules(text, "test.conf", worker_names());
  if (auto* errs = std::get_if<std::vector<ScheduleError>>(&r)) {
    std::string all;
    for (const auto& e : *errs) all += e.to_string() + "\n";
    ADD_FAILURE() << "unexpected errors:\n" << all;
    return {};
  }
  return std::get<Schedules>(std::move(r));
}

std::vector<std::string> errors_of(const ScheduleResult& r) {
  std::vector<std::string> out;
  if (const auto* errs = std::get_if<std::vector<ScheduleError>>(&r)) {
    for (const auto& e : *errs) out.push_back(e.to_string());
  } else {
    ADD_FAILURE() << "expected errors, got schedules";
  }
  return out;
}

// The bits of a field as a list, for readable comparisons.
template <size_t N>
std::vector<int> bits(const std::bitset<N>& b) {
  std::vector<int> out;
  for (size_t i = 0; i < N; ++i) {
    if (b[i]) out.push_back(static_cast<int>(i));
  }
  return out;
}

TEST(CronTest, FieldsListsRangesStepsAndNames) {
  const CronExpr c = cron_ok("*/15 0-6/2,22 1,15 jan-mar,Dec mon-fri");
  EXPECT_EQ(bits(c.minutes), (std::vector<int>{0, 15, 30, 45}));
  EXPECT_EQ(bits(c.hours), (std::vector<int>{0, 2, 4, 6, 22}));
  EXPECT_EQ(bits(c.days_of_month), (std::vector<int>{1, 15}));
  EXPECT_EQ(bits(c.months), (std::vector<int>{1, 2, 3, 12}));
  EXPECT_EQ(bits(c.days_of_week), (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(c.day_of_month_restricted);
  EXPECT_TRUE(c.day_of_week_restricted);
  EXPECT_EQ(c.text, "*/15 0-6/2,22 1,15 jan-mar,Dec mon-fri");

  const CronExpr all = cron_ok("* * * * *");
  EXPECT_EQ(all.minutes.count(), 60u);
  EXPECT_EQ(all.hours.count(), 24u);
  EXPECT_EQ(bits(all.days_of_month).front(), 1);
  EXPECT_EQ(all.days_of_month.count(), 31u);
  EXPECT_EQ(all.months.count(), 12u);
  EXPECT_EQ(all.days_of_week.count(), 7u);
  EXPECT_FALSE(all.day_of_month_restricted);
  EXPECT_FALSE(all.day_of_week_restricted);

  EXPECT_EQ(bits(cron_ok("5-59/20 * * * *").minutes), (std::vector<int>{5, 25, 45}));
  EXPECT_EQ(bits(cron_ok("0 0 * * 7").days_of_week), (std::vector<int>{0}));  // 7 is Sunday
  EXPECT_EQ(bits(cron_ok("0 0 * * 5-7").days_of_week), (std::vector<int>{0, 5, 6}));
  EXPECT_EQ(bits(cron_ok("0 0 * * SUN,sat").days_of_week), (std::vector<int>{0, 6}));
  EXPECT_EQ(bits(cron_ok("\t0   12 * * *  ").hours), (std::vector<int>{12}));
  EXPECT_EQ(bits(cron_ok("@daily").minutes), (std::vector<int>{0}));
  EXPECT_EQ(bits(cron_ok("@weekly").days_of_week), (std::vector<int>{0}));
  EXPECT_EQ(bits(cron_ok("@yearly").months), (std::vector<int>{1}));
  // crontab(5): a day field starting with '*' is not "restricted", even with a step.
  EXPECT_FALSE(cron_ok("0 0 */2 * 1").day_of_month_restricted);
}

TEST(CronTest, BadExpressionsSayWhy) {
  EXPECT_EQ(cron_error("* * * *"), "expected 5 fields (minute hour day-of-month month day-of-week), got 4");
  EXPECT_EQ(cron_error("* * * * * *"), "expected 5 fields (minute hour day-of-month month day-of-week), got 6");
  EXPECT_EQ(cron_error(""), "expected 5 fields (minute hour day-of-month month day-of-week), got 0");
  EXPECT_EQ(cron_error("60 * * * *"), "minute: 60 is out of range 0-59");
  EXPECT_EQ(cron_error("* 24 * * *"), "hour: 24 is out of range 0-23");
  EXPECT_EQ(cron_error("* * 0 * *"), "day-of-month: 0 is out of range 1-31");
  EXPECT_EQ(cron_error("* * * 13 *"), "month: 13 is out of range 1-12");
  EXPECT_EQ(cron_error("* * * * 8"), "day-of-week: 8 is out of range 0-7");
  EXPECT_EQ(cron_error("* * * foo *"), "month: 'foo' is not a valid value");
  EXPECT_EQ(cron_error("* * * * mon-sunday"), "day-of-week: 'sunday' is not a valid value");
  EXPECT_EQ(cron_error("*/0 * * * *"), "minute: bad step '0'");
  EXPECT_EQ(cron_error("*/ * * * *"), "minute: bad step ''");
  EXPECT_EQ(cron_error("5/10 * * * *"), "minute: a step needs '*' or a range (e.g. */5 or 0-30/5)");
  EXPECT_EQ(cron_error("30-10 * * * *"), "minute: range '30-10' runs backwards");
  EXPECT_EQ(cron_error("1,,2 * * * *"), "minute: empty list item");
  EXPECT_EQ(cron_error("1x * * * *"), "minute: '1x' is not a number");
  EXPECT_EQ(cron_error("-1 * * * *"), "minute: '' is not a valid value");
  EXPECT_NE(cron_error("@reboot").find("unknown macro '@reboot'"), std::string::npos);
  EXPECT_NE(cron_error("0 0 30 2 *").find("never fires"), std::string::npos);
  EXPECT_NE(cron_error("0 0 31 4,6,9,11 *").find("never fires"), std::string::npos);
  // With the weekday restricted too, the OR rule makes it fire every Monday of February.
  EXPECT_TRUE(parse_cron("0 0 30 2 mon").has_value());
  EXPECT_TRUE(parse_cron("0 0 29 2 *").has_value());
  EXPECT_FALSE(parse_cron("61 * * * *").has_value());  // without a `why`
}

TEST(CronTest, DayOfMonthAndDayOfWeekMatchEitherWhenBothRestricted) {
  // 2024-07-01 is a Monday; 2024-07-15 a Monday; 2024-07-13 a Saturday.
  const CronExpr either = cron_ok("0 12 13 * mon");
  EXPECT_TRUE(either.matches(at(2024, 7, 13, 12, 0)));   // the 13th, a Saturday
  EXPECT_TRUE(either.matches(at(2024, 7, 15, 12, 0)));   // a Monday
  EXPECT_FALSE(either.matches(at(2024, 7, 16, 12, 0)));  // neither
  EXPECT_FALSE(either.matches(at(2024, 7, 15, 13, 0)));  // right day, wrong hour
  EXPECT_EQ(either.next_match(at(2024, 7, 13, 12, 0)), at(2024, 7, 15, 12, 0));

  // Day-of-month '*'-led: both must match (the 1st, 3rd, … that are Mondays).
  const CronExpr both = cron_ok("0 0 */2 * mon");
  EXPECT_EQ(both.next_match(at(2024, 7, 1, 0, 0)), at(2024, 7, 15));
  EXPECT_FALSE(both.matches(at(2024, 7, 8)));  // a Monday, but the 8th
  // Only the weekday restricted: every Sunday (written 7).
  EXPECT_EQ(cron_ok("30 6 * * 7").next_match(at(2024, 7, 1)), at(2024, 7, 7, 6, 30));
}

TEST(CronTest, NextMatchIsStrictlyLaterAndCrossesBoundaries) {
  const CronExpr every5 = cron_ok("*/5 * * * *");
  EXPECT_EQ(every5.next_match(at(2024, 1, 1, 10, 0)), at(2024, 1, 1, 10, 5));
  EXPECT_EQ(every5.next_match(at(2024, 1, 1, 10, 3, 59)), at(2024, 1, 1, 10, 5));
  EXPECT_EQ(every5.next_match(at(2024, 12, 31, 23, 58)), at(2025, 1, 1, 0, 0));
  EXPECT_EQ(every5.next_match(at(2024, 1, 1, 10, 0) - 1ns), at(2024, 1, 1, 10, 0));

  const CronExpr first = cron_ok("0 0 1 * *");
  EXPECT_EQ(first.next_match(at(2024, 1, 31, 12, 0)), at(2024, 2, 1));
  EXPECT_EQ(first.next_match(at(2024, 12, 1)), at(2025, 1, 1));
  EXPECT_EQ(cron_ok("0 0 31 * *").next_match(at(2024, 3, 31)), at(2024, 5, 31));  // April has no 31st
  EXPECT_EQ(cron_ok("30 23 31 12 *").next_match(at(2024, 12, 31, 23, 30)), at(2025, 12, 31, 23, 30));
  EXPECT_EQ(cron_ok("0 3 * * *").next_match(at(2024, 2, 28, 3, 0)), at(2024, 2, 29, 3, 0));
  EXPECT_EQ(cron_ok("0 3 * * *").next_match(at(2023, 2, 28, 3, 0)), at(2023, 3, 1, 3, 0));
}

// The month/day/hour skipping of next_match against the plain definition: the first matching minute.
TEST(CronTest, NextMatchAgreesWithAMinuteByMinuteScan) {
  for (const char* text : {"*/7 * * * *", "0 */5 * * *", "15 3 * * mon-fri", "0 0 13 * fri", "59 23 * * *",
                           "0 12 1,15 * *", "*/20 8-17 * * 1-5", "0 0 */2 * 0", "30 1 * feb,mar *"}) {
    const CronExpr c = cron_ok(text);
    for (const TimePoint start : {at(2024, 2, 27, 22, 13, 17), at(2023, 12, 31, 23, 59, 59), at(2024, 6, 30)}) {
      TimePoint expected = ch::floor<ch::minutes>(start) + 1min;
      for (int i = 0; i < 60 * 24 * 400 && !c.matches(expected); ++i) expected += 1min;
      EXPECT_EQ(c.next_match(start), expected) << text;
    }
  }
}

TEST(CronTest, LeapDaysAndNoMatch) {
  const CronExpr leap = cron_ok("0 0 29 2 *");
  EXPECT_EQ(leap.next_match(at(2024, 3, 1)), at(2028, 2, 29));
  EXPECT_EQ(leap.next_match(at(2024, 2, 28, 23, 59)), at(2024, 2, 29));
  EXPECT_EQ(leap.next_match(at(2096, 3, 1)), at(2104, 2, 29));  // 2100 is not a leap year
  EXPECT_TRUE(leap.matches(at(2024, 2, 29, 0, 0, 30)));

  CronExpr never;  // default-constructed: matches nothing
  EXPECT_EQ(never.next_match(at(2024, 1, 1)), TimePoint::max());
  EXPECT_EQ(cron_ok("* * * * *").next_match(TimePoint::max()), TimePoint::max());
  // The clock ends 16.85 s into its last minute: that minute still fits, the next one does not.
  const TimePoint last_minute{ch::floor<ch::minutes>(TimePoint::max())};
  EXPECT_EQ(cron_ok("* * * * *").next_match(TimePoint::max() - 30s), last_minute);
  EXPECT_EQ(cron_ok("* * * * *").next_match(TimePoint::max() - 10s), TimePoint::max());
  const TimePoint early = TimePoint::min() + 24h;
  EXPECT_GT(cron_ok("0 0 1 1 *").next_match(early), early);
}

TEST(ScheduleTest, IntervalsAndNextRun) {
  WorkerSchedule s;
  s.interval = 30s;
  EXPECT_EQ(s.next_run(at(2024, 1, 1)), at(2024, 1, 1, 0, 0, 30));
  EXPECT_EQ(s.next_run(TimePoint::max() - 10s), TimePoint::max());
  EXPECT_EQ(s.next_run(TimePoint::max()), TimePoint::max());
  EXPECT_EQ(s.next_run(TimePoint::min()), TimePoint::min() + 30s);
  s.interval = ch::seconds{std::numeric_limits<int64_t>::max() / 2};  // would overflow in nanoseconds
  EXPECT_EQ(s.next_run(at(2024, 1, 1)), TimePoint::max());
  WorkerSchedule none;
  EXPECT_EQ(none.next_run(at(2024, 1, 1)), TimePoint::max());

  const Schedules parsed = parse_ok("[updater]\ninterval = 10m\n[reaper]\ninterval = 1d\n[auditor]\ninterval = 90\n");
  ASSERT_EQ(parsed.size(), 3u);
  EXPECT_EQ(parsed.at("updater").interval, 600s);
  EXPECT_EQ(parsed.at("updater").worker, "updater");
  EXPECT_EQ(parsed.at("reaper").interval, 86400s);
  EXPECT_EQ(parsed.at("auditor").interval, 90s);  // a bare number is seconds
  EXPECT_FALSE(parsed.at("auditor").cron.has_value());
}

TEST(ScheduleTest, WindowsIncludingWrapPastMidnight) {
  EXPECT_FALSE(parse_window("06:00-06:00").has_value());
  EXPECT_FALSE(parse_window("25:00-06:00").has_value());
  EXPECT_FALSE(parse_window("22:00-24:01").has_value());
  EXPECT_FALSE(parse_window("22:60-23:00").has_value());
  EXPECT_FALSE(parse_window("2200-0600").has_value());
  EXPECT_FALSE(parse_window("22:00").has_value());
  EXPECT_FALSE(parse_window("-1:00-02:00").has_value());
  EXPECT_FALSE(parse_window("1:5-02:00").has_value());
  ASSERT_TRUE(parse_window("1:00 - 02:30").has_value());
  EXPECT_EQ(parse_window("1:00 - 02:30")->end_minute, 150);
  EXPECT_EQ(parse_window("22:00-24:00")->end_minute, 1440);

  WorkerSchedule night;
  night.window = parse_window("22:00-06:00");
  ASSERT_TRUE(night.window.has_value());
  EXPECT_EQ(night.window->start_minute, 22 * 60);
  EXPECT_EQ(night.window->end_minute, 6 * 60);
  EXPECT_TRUE(night.in_window(at(2024, 1, 1, 23, 0)));
  EXPECT_TRUE(night.in_window(at(2024, 1, 1, 22, 0)));
  EXPECT_TRUE(night.in_window(at(2024, 1, 1, 0, 0)));
  EXPECT_TRUE(night.in_window(at(2024, 1, 1, 5, 59, 59)));
  EXPECT_FALSE(night.in_window(at(2024, 1, 1, 6, 0)));
  EXPECT_FALSE(night.in_window(at(2024, 1, 1, 12, 0)));
  EXPECT_FALSE(night.in_window(at(2024, 1, 1, 21, 59, 59)));

  WorkerSchedule late;
  late.window = parse_window("22:00-24:00");
  EXPECT_TRUE(late.in_window(at(2024, 1, 1, 23, 59)));
  EXPECT_FALSE(late.in_window(at(2024, 1, 1, 0, 0)));
  WorkerSchedule whole;
  whole.window = parse_window("00:00-24:00");
  EXPECT_TRUE(whole.in_window(at(2024, 1, 1, 13, 0)));
  EXPECT_TRUE(WorkerSchedule{}.in_window(at(2024, 1, 1, 13, 0)));  // no window: any time
}

TEST(ScheduleTest, NextRunMovesIntoTheWindow) {
  WorkerSchedule s;
  s.interval = 30s;
  s.window = parse_window("01:00-06:00");
  EXPECT_EQ(s.next_run(at(2024, 1, 1, 2, 0)), at(2024, 1, 1, 2, 0, 30));  // inside: unchanged
  EXPECT_EQ(s.next_run(at(2024, 1, 1, 5, 59, 45)), at(2024, 1, 2, 1, 0));  // would land at 06:00:15
  EXPECT_EQ(s.next_run(at(2024, 1, 1, 0, 30)), at(2024, 1, 1, 1, 0));  // same day, before the opening
  EXPECT_EQ(s.next_run(at(2024, 12, 31, 7, 0)), at(2025, 1, 1, 1, 0));

  s.window = parse_window("22:00-06:00");
  s.interval = 1h;
  EXPECT_EQ(s.next_run(at(2024, 1, 1, 6, 30)), at(2024, 1, 1, 22, 0));
  EXPECT_EQ(s.next_run(at(2024, 1, 1, 23, 30)), at(2024, 1, 2, 0, 30));  // inside across midnight
  EXPECT_EQ(s.next_run(at(2024, 1, 1, 5, 30)), at(2024, 1, 1, 22, 0));

  WorkerSchedule deep;
  deep.cron = cron_ok("0 3 * * *");
  deep.window = parse_window("01:00-06:00");
  EXPECT_EQ(deep.next_run(at(2024, 2, 28, 3, 0)), at(2024, 2, 29, 3, 0));
  deep.cron = cron_ok("*/5 * * * *");
  EXPECT_EQ(deep.next_run(at(2024, 1, 1, 5, 58)), at(2024, 1, 2, 1, 0));
  deep.cron = cron_ok("0 12 * * *");  // never inside: every pass waits for the next opening
  EXPECT_EQ(deep.next_run(at(2024, 1, 1, 0, 0)), at(2024, 1, 2, 1, 0));
}

TEST(ScheduleTest, EveryKeyParses) {
  const Schedules s = parse_ok(
      "\xEF\xBB\xBF# comment\n"
      "; another\n"
      "[replicator]\r\n"
      "  interval=45s  \n"
      "jitter = 5s\n"
      "window = 22:00-06:00\n"
      "concurrency = 8\n"
      "bytes_per_second = 200M\n"
      "items_per_second = 2.5\n"
      "enabled = no\n"
      "[auditor-deep]\n"
      "cron = \"0 3 * * sun\"\n");
  const WorkerSchedule& r = s.at("replicator");
  EXPECT_EQ(r.interval, 45s);
  EXPECT_EQ(r.jitter, 5s);
  ASSERT_TRUE(r.window.has_value());
  EXPECT_EQ(r.window->start_minute, 1320);
  EXPECT_EQ(r.concurrency, 8);
  EXPECT_DOUBLE_EQ(r.bytes_per_second, 200.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(r.items_per_second, 2.5);
  EXPECT_FALSE(r.enabled);
  const WorkerSchedule& d = s.at("auditor-deep");
  ASSERT_TRUE(d.cron.has_value());
  EXPECT_EQ(d.cron->text, "0 3 * * sun");
  EXPECT_EQ(d.jitter, 0s);
  EXPECT_EQ(d.concurrency, 1);
  EXPECT_DOUBLE_EQ(d.bytes_per_second, 0);
  EXPECT_TRUE(d.enabled);
  EXPECT_FALSE(d.window.has_value());
}

TEST(ScheduleTest, EveryBadLineIsReportedWithFileAndLine) {
  const auto errs = errors_of(parse_schedules(
      "interval = 1m\n"                  // 1: before any section
      "[replicator]\n"                   // 2
      "interval = 30s\n"                 // 3
      "cron = */5 * * * *\n"             // 4: both interval and cron
      "speed = 3\n"                      // 5: unknown key
      "jitter = soon\n"                  // 6
      "jitter = 5s\n"                    // 7: set twice
      "this is garbage\n"                // 8
      "window = 25:00-01:00\n"           // 9
      "concurrency = 0\n"                // 10
      "bytes_per_second = 10X\n"         // 11
      "items_per_second = -1\n"          // 12
      "enabled = perhaps\n"              // 13
      "[auditor]\n"                      // 14: neither interval nor cron
      "cron = 61 * * * *\n"              // 15: bad cron (so still neither)
      "[replicatr]\n"                    // 16: unknown worker
      "interval = 500ms\n"               // 17: not whole seconds
      "[broken\n"                        // 18
      "interval = 1m\n"                  // 19: under a broken header: not reported again
      "[updater]\n"                      // 20
      "interval: 1m\n"                   // 21: ':' instead of '='
      "[reaper]\n"                       // 22
      "interval = 1m\n"                  // 23
      "[reaper]\n"                       // 24: reopened...
      "interval = 2m\n",                 // 25: ...but the key may not repeat
      "bad.conf", worker_names()));
  const std::vector<std::string> expected = {
      "bad.conf:1: key 'interval' appears before any [worker] header",
      "bad.conf:4: [replicator] sets both interval and cron (the other on line 3); use one",
      "bad.conf:5: unknown key 'speed' in [replicator] (known: interval, cron, jitter, window, concurrency, "
      "bytes_per_second, items_per_second, enabled)",
      "bad.conf:6: bad value 'soon' for [replicator] jitter: expected a duration in whole seconds, up to 3650d, "
      "such as 0, 5s, 5m",
      "bad.conf:7: key 'jitter' in [replicator] is set twice (first on line 6)",
      "bad.conf:8: expected '[worker]', 'key = value' or a comment",
      "bad.conf:9: bad value '25:00-01:00' for [replicator] window: expected HH:MM-HH:MM (UTC, 00:00 to 23:59; "
      "24:00 as the end), such as 22:00-06:00",
      "bad.conf:10: bad value '0' for [replicator] concurrency: expected an integer from 1 to 65536",
      "bad.conf:11: bad value '10X' for [replicator] bytes_per_second: expected a size such as 512K, 50M, 1G "
      "(binary units); 0 = unlimited",
      "bad.conf:12: bad value '-1' for [replicator] items_per_second: expected a number >= 0; 0 = unlimited",
      "bad.conf:13: bad value 'perhaps' for [replicator] enabled: expected true or false",
      "bad.conf:14: [auditor] needs an interval or a cron expression",
      "bad.conf:15: bad value '61 * * * *' for [auditor] cron: minute: 61 is out of range 0-59",
      "bad.conf:16: unknown worker [replicatr] (known: replicator, auditor, auditor-deep, updater, reaper, "
      "prefetcher)",
      "bad.conf:17: bad value '500ms' for [replicatr] interval: expected a duration of at least 1s in whole "
      "seconds, up to 3650d, such as 30s, 10m, 1h, 1d",
      "bad.conf:18: malformed section header; expected '[worker]'",
      "bad.conf:20: [updater] needs an interval or a cron expression",
      "bad.conf:21: expected '[worker]', 'key = value' or a comment (use '=' rather than ':')",
      "bad.conf:25: key 'interval' in [reaper] is set twice (first on line 23)",
  };
  EXPECT_EQ(errs, expected);
}

TEST(ScheduleTest, WithoutAKnownListAnyWorkerNameIsAccepted) {
  auto r = parse_schedules("[my-worker]\ninterval = 1m\n", "x.conf");
  ASSERT_TRUE(std::holds_alternative<Schedules>(r));
  EXPECT_EQ(std::get<Schedules>(r).at("my-worker").interval, 60s);
  EXPECT_EQ(errors_of(parse_schedules("[x]\ninterval = 0s\n", "x.conf")),
            (std::vector<std::string>{
                "x.conf:1: [x] needs an interval or a cron expression",
                "x.conf:2: bad value '0s' for [x] interval: expected a duration of at least 1s in whole seconds, "
                "up to 3650d, such as 30s, 10m, 1h, 1d"}));
  EXPECT_EQ(errors_of(parse_schedules("[x]\ninterval = 3651d\n", "x.conf")).size(), 2u);
  EXPECT_EQ((ScheduleError{"f", 0, "m"}.to_string()), "f: m");
}

// A scratch directory removed after each test.
class ScheduleFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "glint-schedule-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  fs::path dir_;
};

TEST_F(ScheduleFileTest, LaterFilesReplaceOnlyTheKeysTheyName) {
  const auto base = write("default.conf",
                          "[replicator]\ninterval = 30s\njitter = 5s\nconcurrency = 4\nwindow = 01:00-06:00\n"
                          "[auditor]\ninterval = 1h\nitems_per_second = 200\n"
                          "[reaper]\ninterval = 5m\n");
  const auto site = write("site.conf",
                          "[replicator]\nconcurrency = 8\nwindow =\n"
                          "[auditor]\ncron = 0 2 * * sat,sun\n"
                          "[prefetcher]\ninterval = 10s\n");
  auto r = load_schedules({base, site}, worker_names());
  ASSERT_TRUE(std::holds_alternative<Schedules>(r)) << errors_of(r).front();
  const auto& s = std::get<Schedules>(r);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s.at("replicator").interval, 30s);
  EXPECT_EQ(s.at("replicator").jitter, 5s);
  EXPECT_EQ(s.at("replicator").concurrency, 8);
  EXPECT_FALSE(s.at("replicator").window.has_value());
  EXPECT_FALSE(s.at("auditor").interval.has_value());  // cron replaced the interval
  ASSERT_TRUE(s.at("auditor").cron.has_value());
  EXPECT_EQ(s.at("auditor").cron->text, "0 2 * * sat,sun");
  EXPECT_DOUBLE_EQ(s.at("auditor").items_per_second, 200);
  EXPECT_EQ(s.at("reaper").interval, 300s);
  EXPECT_EQ(s.at("prefetcher").interval, 10s);
}

TEST_F(ScheduleFileTest, ErrorsFromEveryFileAreCollected) {
  const auto base = write("a.conf", "[replicator]\ninterval = 30s\n[updater]\njitter = 1s\n");
  const auto site = write("b.conf", "[replicator]\njitter = 1s\n\nconcurrency = none\n[reaper]\njitter = 1s\n");
  const std::string missing = (dir_ / "missing.conf").string();
  EXPECT_EQ(errors_of(load_schedules({base, missing, site}, worker_names())),
            (std::vector<std::string>{
                missing + ": cannot read file: No such file or directory",
                site + ":4: bad value 'none' for [replicator] concurrency: expected an integer from 1 to 65536",
                site + ":5: [reaper] needs an interval or a cron expression",
                base + ":3: [updater] needs an interval or a cron expression",
            }));
}

TEST(DefaultScheduleTest, ShippedDefaultsParse) {
  const std::string path = std::string(GLINT_TEST_SOURCE_DIR) + "/schedules/default.conf";
  auto r = load_schedules({path}, worker_names());
  ASSERT_TRUE(std::holds_alternative<Schedules>(r)) << errors_of(r).front();
  const auto& s = std::get<Schedules>(r);
  for (const auto& name : worker_names()) EXPECT_EQ(s.count(name), 1u) << name;
  EXPECT_EQ(s.size(), worker_names().size());
  EXPECT_EQ(s.at("replicator").interval, 30s);
  EXPECT_EQ(s.at("replicator").jitter, 5s);
  EXPECT_EQ(s.at("replicator").concurrency, 4);
  EXPECT_DOUBLE_EQ(s.at("replicator").bytes_per_second, 200.0 * (1 << 20));
  EXPECT_EQ(s.at("auditor").interval, 1h);
  EXPECT_EQ(s.at("auditor").jitter, 5min);
  EXPECT_DOUBLE_EQ(s.at("auditor").bytes_per_second, 50.0 * (1 << 20));
  EXPECT_DOUBLE_EQ(s.at("auditor").items_per_second, 200);
  const WorkerSchedule& deep = s.at("auditor-deep");
  ASSERT_TRUE(deep.cron.has_value());
  ASSERT_TRUE(deep.window.has_value());
  EXPECT_EQ(deep.window->start_minute, 60);
  EXPECT_EQ(deep.window->end_minute, 360);
  EXPECT_DOUBLE_EQ(deep.bytes_per_second, 50.0 * (1 << 20));
  EXPECT_EQ(deep.next_run(at(2024, 12, 31, 4, 0)), at(2025, 1, 1, 3, 0));
  EXPECT_EQ(s.at("updater").interval, 60s);
  EXPECT_EQ(s.at("reaper").interval, 5min);
  EXPECT_DOUBLE_EQ(s.at("reaper").items_per_second, 50);
  EXPECT_EQ(s.at("prefetcher").interval, 30s);
  for (const auto& [name, w] : s) EXPECT_TRUE(w.enabled) << name;
}

}  // namespace
}  // namespace glint::schedule
