// Cron expressions: parsing into per-field bit sets, matching, and a next-match search that skips whole
// months and days so that sparse expressions ("0 0 29 2 *") are found in a few hundred steps.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>

#include "shared/schedule/schedule.hpp"

namespace glint::schedule {
namespace {

namespace ch = std::chrono;
using Minutes = ch::sys_time<ch::minutes>;

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kDayNames = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
// The longest each month can be (February: 29), for refusing dates that never occur.
constexpr std::array<unsigned, 13> kMaxDays = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

struct Field {
  const char* name;
  int lo;
  int hi;
  const std::string_view* names;  // names[i] stands for lo + i (months) or i (weekdays); may be null
  size_t name_count;
  int name_base;
};

constexpr std::array<Field, 5> kFields = {{
    {"minute", 0, 59, nullptr, 0, 0},
    {"hour", 0, 23, nullptr, 0, 0},
    {"day-of-month", 1, 31, nullptr, 0, 0},
    {"month", 1, 12, kMonthNames.data(), kMonthNames.size(), 1},
    {"day-of-week", 0, 7, kDayNames.data(), kDayNames.size(), 0},
}};

bool fail(std::string* why, std::string message) {
  if (why != nullptr) *why = std::move(message);
  return false;
}

// One number or name of `f`.
bool parse_value(const Field& f, std::string_view text, int& out, std::string* why) {
  if (!text.empty() && text[0] >= '0' && text[0] <= '9') {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return fail(why, std::string(f.name) + ": '" + std::string(text) + "' is not a number");
    }
    if (out < f.lo || out > f.hi) {
      return fail(why, std::string(f.name) + ": " + std::string(text) + " is out of range " + std::to_string(f.lo) +
                           "-" + std::to_string(f.hi));
    }
    return true;
  }
  for (size_t i = 0; i < f.name_count && text.size() == 3; ++i) {
    bool same = true;
    for (size_t k = 0; k < 3; ++k) {
      same = same && std::tolower(static_cast<unsigned char>(text[k])) == f.names[i][k];
    }
    if (same) {
      out = f.name_base + static_cast<int>(i);
      return true;
    }
  }
  return fail(why, std::string(f.name) + ": '" + std::string(text) + "' is not a valid value");
}

// A comma-separated list of '*', a, a-b, optionally followed by /step (not after a single value).
bool parse_field(const Field& f, std::string_view text, uint64_t& bits, std::string* why) {
  bits = 0;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    if (item.empty()) return fail(why, std::string(f.name) + ": empty list item");
    const size_t slash = item.find('/');
    const std::string_view base = item.substr(0, slash);
    int step = 1;
    if (slash != std::string_view::npos) {
      const std::string_view s = item.substr(slash + 1);
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), step);
      if (s.empty() || ec != std::errc() || end != s.data() + s.size() || step < 1) {
        return fail(why, std::string(f.name) + ": bad step '" + std::string(s) + "'");
      }
    }
    int lo = f.lo;
    int hi = f.hi;
    if (base != "*") {
      const size_t dash = base.find('-');
      if (!parse_value(f, base.substr(0, dash), lo, why)) return false;
      hi = lo;
      if (dash != std::string_view::npos) {
        if (!parse_value(f, base.substr(dash + 1), hi, why)) return false;
        if (hi < lo) return fail(why, std::string(f.name) + ": range '" + std::string(base) + "' runs backwards");
      } else if (slash != std::string_view::npos) {
        return fail(why, std::string(f.name) + ": a step needs '*' or a range (e.g. */5 or 0-30/5)");
      }
    }
    for (int64_t v = lo; v <= hi; v += step) bits |= uint64_t{1} << v;  // int64: a huge step cannot overflow
    if (comma == std::string_view::npos) return true;
    text.remove_prefix(comma + 1);
  }
}

std::string_view expand_macro(std::string_view text) {
  if (text == "@hourly") return "0 * * * *";
  if (text == "@daily" || text == "@midnight") return "0 0 * * *";
  if (text == "@weekly") return "0 0 * * 0";
  if (text == "@monthly") return "0 0 1 * *";
  if (text == "@yearly" || text == "@annually") return "0 0 1 1 *";
  return text;
}

// False when no selected month has a selected day-of-month: such an expression can never fire unless
// the OR rule lets the weekday alone select days.
bool some_date_exists(const CronExpr& c) {
  if (c.day_of_month_restricted && c.day_of_week_restricted) return true;
  for (unsigned m = 1; m <= 12; ++m) {
    if (!c.months[m]) continue;
    for (unsigned d = 1; d <= kMaxDays[m]; ++d) {
      if (c.days_of_month[d]) return true;
    }
  }
  return false;
}

bool day_matches(const CronExpr& c, ch::sys_days day) {
  const ch::year_month_day ymd{day};
  const bool dom = c.days_of_month[static_cast<unsigned>(ymd.day())];
  const bool dow = c.days_of_week[ch::weekday{day}.c_encoding()];
  return c.day_of_month_restricted && c.day_of_week_restricted ? dom || dow : dom && dow;
}

}  // namespace

std::optional<CronExpr> parse_cron(std::string_view text, std::string* why) {
  const std::string_view spec = expand_macro(text);
  if (spec.starts_with('@')) {
    fail(why, "unknown macro '" + std::string(spec) + "' (known: @hourly, @daily, @midnight, @weekly, @monthly, "
                                                      "@yearly, @annually)");
    return std::nullopt;
  }
  std::array<std::string_view, 5> parts;
  size_t count = 0;
  size_t pos = 0;
  while (true) {
    pos = spec.find_first_not_of(" \t", pos);
    if (pos == std::string_view::npos) break;
    const size_t end = std::min(spec.find_first_of(" \t", pos), spec.size());
    if (count < parts.size()) parts[count] = spec.substr(pos, end - pos);
    ++count;
    pos = end;
  }
  if (count != parts.size()) {
    fail(why, "expected 5 fields (minute hour day-of-month month day-of-week), got " + std::to_string(count));
    return std::nullopt;
  }
  std::array<uint64_t, 5> bits = {};
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!parse_field(kFields[i], parts[i], bits[i], why)) return std::nullopt;
  }
  if (bits[4] & (uint64_t{1} << 7)) bits[4] = (bits[4] | 1) & ~(uint64_t{1} << 7);  // 7 is Sunday, as 0
  CronExpr c;
  c.minutes = std::bitset<60>(bits[0]);
  c.hours = std::bitset<24>(bits[1]);
  c.days_of_month = std::bitset<32>(bits[2]);
  c.months = std::bitset<13>(bits[3]);
  c.days_of_week = std::bitset<7>(bits[4]);
  c.day_of_month_restricted = !parts[2].starts_with('*');
  c.day_of_week_restricted = !parts[4].starts_with('*');
  c.text = std::string(text);
  if (!some_date_exists(c)) {
    fail(why, "never fires: no selected month has any of the selected days of the month");
    return std::nullopt;
  }
  return c;
}

bool CronExpr::matches(ch::system_clock::time_point t) const {
  const Minutes m = ch::floor<ch::minutes>(t);
  const ch::sys_days day = ch::floor<ch::days>(m);
  const auto minute_of_day = (m - day).count();
  const ch::year_month_day ymd{day};
  return minutes[static_cast<size_t>(minute_of_day % 60)] && hours[static_cast<size_t>(minute_of_day / 60)] &&
         months[static_cast<unsigned>(ymd.month())] && day_matches(*this, day);
}

ch::system_clock::time_point CronExpr::next_match(ch::system_clock::time_point after) const {
  constexpr auto kNever = ch::system_clock::time_point::max();
  // Work in whole minutes: nanosecond time points overflow in 2262, minutes do not.
  const Minutes last = ch::floor<ch::minutes>(kNever);
  Minutes t = ch::floor<ch::minutes>(after) + ch::minutes{1};
  const ch::sys_days limit = ch::floor<ch::days>(t) + ch::days{366 * kSearchYears};
  while (t <= last) {
    const ch::sys_days day = ch::floor<ch::days>(t);
    if (day > limit) break;
    const ch::year_month_day ymd{day};
    if (!months[static_cast<unsigned>(ymd.month())]) {
      t = ch::sys_days{ch::year_month_day{ymd.year(), ymd.month(), ch::day{1}} + ch::months{1}};
      continue;
    }
    if (day_matches(*this, day)) {
      const auto start = (t - day).count();  // minute of the day to search from
      for (auto h = start / 60; h < 24; ++h) {
        if (!hours[static_cast<size_t>(h)]) continue;
        for (auto m = h == start / 60 ? start % 60 : 0; m < 60; ++m) {
          if (!minutes[static_cast<size_t>(m)]) continue;
          const Minutes found = day + ch::hours{h} + ch::minutes{m};
          return found <= last ? ch::system_clock::time_point{found} : kNever;
        }
      }
    }
    t = day + ch::days{1};
  }
  return kNever;
}

}  // namespace glint::schedule
