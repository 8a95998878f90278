// Structured key=value logging on top of spdlog: we render the whole line ourselves (UTC timestamp,
// level, component, event, fields) and use spdlog only for thread-safe sinks and flushing.
#include "shared/log/log.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace glint::log {
namespace {

spdlog::level::level_enum to_spdlog(Level l) {
  switch (l) {
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

const char* level_name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

// "2026-11-26T19:45:23.123Z": UTC so lines from different nodes sort and compare directly.
std::string timestamp_now() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto secs = floor<seconds>(now);
  const auto ms = duration_cast<milliseconds>(now - secs).count();
  const std::time_t t = system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];  // roomy enough that the compiler can prove no truncation
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

bool is_special(unsigned char c) { return c <= ' ' || c == 0x7f || c == '"' || c == '=' || c == '\\'; }

// Appends a value, quoted and escaped when a logfmt reader could otherwise misparse it. Escapes only
// mean something inside quotes, so anything needing one (backslash, control characters) is quoted too.
void append_value(std::string& out, std::string_view v) {
  bool quote = v.empty();
  for (unsigned char c : v) quote = quote || is_special(c);
  if (!quote) {
    out += v;
    return;
  }
  out += '"';
  for (unsigned char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < ' ' || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// Keys come from code, but a stray space or '=' would still break every reader of the line.
void append_key(std::string& out, std::string_view k) {
  if (k.empty()) {
    out += '_';
    return;
  }
  for (unsigned char c : k) out += is_special(c) ? '_' : static_cast<char>(c);
}

}  // namespace

std::string render_fields(Fields fields) {
  std::string out;
  for (const auto& f : fields) {
    out += ' ';
    append_key(out, f.key);
    out += '=';
    append_value(out, f.value);
  }
  return out;
}

bool Throttle::allow(std::chrono::steady_clock::time_point now, uint64_t* suppressed) {
  std::lock_guard<std::mutex> lk(mu_);
  if (now - window_start_ >= window_) {
    window_start_ = now;
    written_ = 0;
  }
  if (written_ >= burst_) {
    ++suppressed_;
    return false;
  }
  ++written_;
  *suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

bool parse_level(std::string_view text, Level& out) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "debug") {
    out = Level::debug;
  } else if (t == "info") {
    out = Level::info;
  } else if (t == "warn" || t == "warning") {
    out = Level::warn;
  } else if (t == "error") {
    out = Level::error;
  } else {
    return false;
  }
  return true;
}

Logger Logger::make(std::string component, Level level, const std::string& file) {
  spdlog::sink_ptr sink;
  std::string open_error;
  if (!file.empty()) {
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, /*truncate=*/false);
    } catch (const spdlog::spdlog_ex& e) {
      open_error = e.what();
    }
  }
  // A log file that cannot be opened must not stop the service: fall back to stderr and say so.
  if (!sink) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  // Created directly (not via spdlog's registry) so loggers are plain values without global names.
  auto lg = std::make_shared<spdlog::logger>(std::move(component), std::move(sink));
  lg->set_pattern("%v");
  lg->set_level(to_spdlog(level));
  // Every line is written at once: operators (and tests) tail logs of running processes, and a
  // crash must not eat the lines before it. One write per event is cheap next to the work logged.
  lg->flush_on(spdlog::level::trace);
  Logger out;
  out.sink_ = std::move(lg);
  if (!open_error.empty()) out.error("log.file_open_failed", {{"file", file}, {"error", open_error}});
  return out;
}

Logger Logger::null() { return Logger{}; }

Logger Logger::with(Fields fields) const {
  Logger child = *this;
  child.bound_ += render_fields(fields);
  return child;
}

void Logger::log(Level lvl, std::string_view event, Fields fields) const {
  const auto sl = to_spdlog(lvl);
  if (!sink_ || !sink_->should_log(sl)) return;
  std::string line = "ts=" + timestamp_now() + " level=" + level_name(lvl) + " comp=";
  append_value(line, sink_->name());
  line += " event=";
  append_value(line, event);
  line += bound_;
  line += render_fields(fields);
  sink_->log(sl, spdlog::string_view_t(line.data(), line.size()));
}

}  // namespace glint::log
