// Schedule files: INI sections per worker, checked line by line, every error collected with file and
// line so an operator fixes a broken file in one go. Values reuse the config parsers (durations, sizes).
#include <algorithm>

#include "shared/config/config.hpp"
#include "shared/config/ini.hpp"
#include "shared/schedule/sections.hpp"

namespace glint::schedule {
namespace detail {
namespace {

namespace ch = std::chrono;

// A duration in whole seconds within [min_ms, kMaxDurationMs].
bool parse_seconds(std::string_view text, int64_t min_ms, ch::seconds& out) {
  ch::milliseconds ms{};
  if (!config::parse_duration(text, ms) || ms.count() < min_ms || ms.count() > kMaxDurationMs) return false;
  if (ms.count() % 1000 != 0) return false;
  out = ch::duration_cast<ch::seconds>(ms);
  return true;
}

// Applies one key's value; false with what was expected in `why`.
bool apply(WorkerSchedule& s, Key key, std::string_view value, std::string& why) {
  switch (key) {
    case kInterval: {
      ch::seconds v{};
      why = "expected a duration of at least 1s in whole seconds, up to 3650d, such as 30s, 10m, 1h, 1d";
      if (!parse_seconds(value, 1000, v)) return false;
      s.interval = v;
      return true;
    }
    case kCron: {
      auto c = parse_cron(value, &why);
      if (!c) return false;
      s.cron = std::move(c);
      return true;
    }
    case kJitter:
      why = "expected a duration in whole seconds, up to 3650d, such as 0, 5s, 5m";
      return parse_seconds(value, 0, s.jitter);
    case kWindow: {
      if (value.empty()) {  // lets a later file remove an earlier file's window
        s.window.reset();
        return true;
      }
      auto w = parse_window(value, &why);
      if (!w) return false;
      s.window = w;
      return true;
    }
    case kConcurrency: {
      int64_t v = 0;
      why = "expected an integer from 1 to 65536";
      if (!config::parse_int(value, v) || v < 1 || v > 65536) return false;
      s.concurrency = static_cast<int>(v);
      return true;
    }
    case kBytes: {
      uint64_t v = 0;
      why = "expected a size such as 512K, 50M, 1G (binary units); 0 = unlimited";
      if (!config::parse_size(value, v)) return false;
      s.bytes_per_second = static_cast<double>(v);
      return true;
    }
    case kItems: {
      double v = 0;
      why = "expected a number >= 0; 0 = unlimited";
      if (!config::parse_double(value, v) || v < 0) return false;
      s.items_per_second = v;
      return true;
    }
    case kEnabled:
      why = "expected true or false";
      return config::parse_bool(value, s.enabled);
    case kKeyCount: break;
  }
  return false;
}

// kKeyNames as operators read it in the unknown-key message.
constexpr std::string_view kKnownKeys =
    "interval, cron, jitter, window, concurrency, bytes_per_second, items_per_second, enabled";

}  // namespace

void parse_file(std::string_view text, const std::string& file, const std::vector<std::string>& known_workers,
                Sections& out, std::vector<ScheduleError>& errors) {
  const auto add = [&](int line, std::string message) { errors.push_back({file, line, std::move(message)}); };
  Section* current = nullptr;
  std::string current_name;
  bool after_bad_header = false;
  config::scan_ini(text, [&](const config::IniLine& l) {
    const int line_no = l.line;
    switch (l.kind) {
      case config::IniLine::Kind::malformed_header:
        add(line_no, "malformed section header; expected '[worker]'");
        current = nullptr;
        after_bad_header = true;  // its keys belong to no section; one error is enough
        return;
      case config::IniLine::Kind::section: {
        after_bad_header = false;
        current_name = l.name;
        auto [it, inserted] = out.try_emplace(current_name);
        current = &it->second;
        if (!inserted) return;  // a section may be reopened; its keys still may not repeat
        current->value.worker = current_name;
        current->file = file;
        current->header_line = line_no;
        if (!known_workers.empty() &&
            std::find(known_workers.begin(), known_workers.end(), current_name) == known_workers.end()) {
          std::string list;
          for (const auto& w : known_workers) list += (list.empty() ? "" : ", ") + w;
          add(line_no, "unknown worker [" + current_name + "] (known: " + list + ")");
          current->known = false;
        }
        return;
      }
      case config::IniLine::Kind::malformed_line:
        add(line_no, std::string("expected '[worker]', 'key = value' or a comment") +
                         (l.colon_hint ? " (use '=' rather than ':')" : ""));
        return;
      case config::IniLine::Kind::entry: break;
    }
    const std::string_view key = l.name;
    if (current == nullptr) {
      if (!after_bad_header) add(line_no, "key '" + std::string(key) + "' appears before any [worker] header");
      return;
    }
    const auto k = std::find(kKeyNames.begin(), kKeyNames.end(), key);
    if (k == kKeyNames.end()) {
      add(line_no,
          "unknown key '" + std::string(key) + "' in [" + current_name + "] (known: " + std::string(kKnownKeys) + ")");
      return;
    }
    const Key id = static_cast<Key>(k - kKeyNames.begin());
    if (current->line[id] != 0) {
      add(line_no, "key '" + std::string(key) + "' in [" + current_name + "] is set twice (first on line " +
                       std::to_string(current->line[id]) + ")");
      return;
    }
    current->line[id] = line_no;
    const Key other = id == kInterval ? kCron : id == kCron ? kInterval : kKeyCount;
    if (other != kKeyCount && current->line[other] != 0) {
      add(line_no, "[" + current_name + "] sets both interval and cron (the other on line " +
                       std::to_string(current->line[other]) + "); use one");
      return;
    }
    std::string_view value = l.value;
    // cron = "*/5 * * * *" reads naturally, so one pair of surrounding quotes is allowed on any value.
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    std::string why;
    if (!apply(current->value, id, value, why)) {
      add(line_no,
          "bad value '" + std::string(value) + "' for [" + current_name + "] " + std::string(key) + ": " + why);
    }
  });
}

// Every known section needs a trigger; reported at the header of the section that introduced it.
ScheduleResult finish(Sections&& sections, std::vector<ScheduleError>&& errors) {
  for (const auto& [name, s] : sections) {
    if (s.known && !s.value.interval && !s.value.cron) {
      errors.push_back({s.file, s.header_line, "[" + name + "] needs an interval or a cron expression"});
    }
  }
  if (!errors.empty()) return std::move(errors);
  Schedules out;
  for (auto& [name, s] : sections) out.emplace(name, std::move(s.value));
  return out;
}

}  // namespace detail

ScheduleResult parse_schedules(std::string_view text, const std::string& file_name,
                               const std::vector<std::string>& known_workers) {
  detail::Sections sections;
  std::vector<ScheduleError> errors;
  detail::parse_file(text, file_name, known_workers, sections, errors);
  auto result = detail::finish(std::move(sections), std::move(errors));
  if (auto* errs = std::get_if<std::vector<ScheduleError>>(&result)) {
    // One file: report in line order. The line errors already are; the few missing-trigger errors that
    // finish() appended at the end move to their header's place.
    const auto by_line = [](const ScheduleError& a, const ScheduleError& b) { return a.line < b.line; };
    const auto tail = std::is_sorted_until(errs->begin(), errs->end(), by_line);
    std::stable_sort(tail, errs->end(), by_line);
    std::inplace_merge(errs->begin(), tail, errs->end(), by_line);
  }
  return result;
}

}  // namespace glint::schedule
