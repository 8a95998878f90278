// Structured logging: one line per event, key=value ("ts=… level=info event=put.done req=… k=v").
// A Logger is a cheap value (shared sink + bound fields); copies may be used from any thread.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace spdlog { class logger; }

namespace glint::log {

enum class Level { debug, info, warn, error };

// One key=value pair; values are quoted when they contain spaces, quotes or '='.
struct Field {
  std::string key;
  std::string value;
  Field(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  Field(std::string k, const char* v) : key(std::move(k)), value(v) {}
  Field(std::string k, std::string_view v) : key(std::move(k)), value(v) {}
  template <class N, class = std::enable_if_t<std::is_arithmetic_v<N>>>
  Field(std::string k, N n) : key(std::move(k)), value(std::to_string(n)) {}
};
using Fields = std::initializer_list<Field>;

class Logger {
 public:
  // Writes to stderr (or `file` if non-empty); `component` becomes the comp= field.
  static Logger make(std::string component, Level level = Level::info, const std::string& file = {});
  // A logger that discards everything (tests).
  static Logger null();

  // A child logger with extra fields bound (e.g. req=<request id>).
  Logger with(Fields fields) const;

  void log(Level lvl, std::string_view event, Fields fields = {}) const;
  void debug(std::string_view event, Fields f = {}) const { log(Level::debug, event, f); }
  void info(std::string_view event, Fields f = {}) const { log(Level::info, event, f); }
  void warn(std::string_view event, Fields f = {}) const { log(Level::warn, event, f); }
  void error(std::string_view event, Fields f = {}) const { log(Level::error, event, f); }

 private:
  std::shared_ptr<spdlog::logger> sink_;
  std::string bound_;  // pre-rendered " k=v k=v"
};

// Bounds how often one kind of warning is written, since a port scanner or a misconfigured peer
// can cause thousands a second: at most `burst` lines per `window`; the next line written carries
// how many were left out. Counters (metrics) stay exact; only the log is thinned. Thread-safe.
class Throttle {
 public:
  Throttle(int burst, std::chrono::steady_clock::duration window) : burst_(burst), window_(window) {}
  // Whether to write a line at `now`; when it is, *suppressed is the count left out before it.
  bool allow(std::chrono::steady_clock::time_point now, uint64_t* suppressed);

 private:
  std::mutex mu_;
  const int burst_;
  const std::chrono::steady_clock::duration window_;
  std::chrono::steady_clock::time_point window_start_{};
  int written_ = 0;
  uint64_t suppressed_ = 0;
};

bool parse_level(std::string_view text, Level& out);
// Renders fields as " k=v k2=\"v 2\"" (exposed for tests).
std::string render_fields(Fields fields);

}  // namespace glint::log
