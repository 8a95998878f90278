// Loading schedule files: the defaults first, then each later file overlays the keys it names, so an
// operator's file only needs the few settings it changes.
#include <utility>

#include "shared/config/ini.hpp"
#include "shared/schedule/sections.hpp"

namespace glint::schedule {
namespace {

using detail::kBytes;
using detail::kConcurrency;
using detail::kCron;
using detail::kEnabled;
using detail::kInterval;
using detail::kItems;
using detail::kJitter;
using detail::kKeyCount;
using detail::kWindow;
using detail::Section;
using detail::Sections;

// Later sections replace the keys they name; interval and cron replace each other.
void overlay(Sections& base, Sections&& later) {
  for (auto& [name, s] : later) {
    auto it = base.find(name);
    if (it == base.end()) {
      base.emplace(name, std::move(s));
      continue;
    }
    Section& b = it->second;
    WorkerSchedule& v = b.value;
    if (s.line[kInterval] != 0 || s.line[kCron] != 0) {
      v.interval = s.value.interval;
      v.cron = std::move(s.value.cron);
    }
    if (s.line[kJitter] != 0) v.jitter = s.value.jitter;
    if (s.line[kWindow] != 0) v.window = s.value.window;
    if (s.line[kConcurrency] != 0) v.concurrency = s.value.concurrency;
    if (s.line[kBytes] != 0) v.bytes_per_second = s.value.bytes_per_second;
    if (s.line[kItems] != 0) v.items_per_second = s.value.items_per_second;
    if (s.line[kEnabled] != 0) v.enabled = s.value.enabled;
    for (size_t k = 0; k < kKeyCount; ++k) {
      if (s.line[k] != 0) b.line[k] = s.line[k];
    }
    b.known = b.known && s.known;
  }
}

}  // namespace

ScheduleResult load_schedules(const std::vector<std::string>& files, const std::vector<std::string>& known_workers) {
  Sections merged;
  std::vector<ScheduleError> errors;
  for (const auto& path : files) {
    std::string text;
    std::string why;
    if (!config::read_text_file(path, text, why)) {
      errors.push_back({path, 0, "cannot read file: " + why});
      continue;
    }
    Sections sections;
    detail::parse_file(text, path, known_workers, sections, errors);
    overlay(merged, std::move(sections));
  }
  return detail::finish(std::move(merged), std::move(errors));
}

}  // namespace glint::schedule
