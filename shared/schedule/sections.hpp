// Internal to shared/schedule: one worker section as read from one file (or the overlay of several),
// shared by the line parser (parse.cpp) and the file loader (load.cpp). Plain values; thread-compatible.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "shared/schedule/schedule.hpp"

namespace glint::schedule::detail {

enum Key : size_t { kInterval, kCron, kJitter, kWindow, kConcurrency, kBytes, kItems, kEnabled, kKeyCount };
constexpr std::array<std::string_view, kKeyCount> kKeyNames = {
    "interval", "cron", "jitter", "window", "concurrency", "bytes_per_second", "items_per_second", "enabled"};
// Ten years: far beyond any sensible pass interval, and small enough that the runtime can add jitter to
// a nanosecond clock without overflow.
constexpr int64_t kMaxDurationMs = int64_t{3650} * 86'400'000;

// One section of one file, or the overlay of several: the values and the line each key was set on.
struct Section {
  WorkerSchedule value;
  std::string file;
  int header_line = 0;
  bool known = true;                     // false: not in known_workers (reported at the header)
  std::array<int, kKeyCount> line = {};  // 0 = not named
};
using Sections = std::map<std::string, Section>;

// Parses one file's text into `out` (which starts empty), appending every error to `errors`.
void parse_file(std::string_view text, const std::string& file, const std::vector<std::string>& known_workers,
                Sections& out, std::vector<ScheduleError>& errors);

// Checks that every known section has a trigger and turns the sections into the result.
ScheduleResult finish(Sections&& sections, std::vector<ScheduleError>&& errors);

}  // namespace glint::schedule::detail
