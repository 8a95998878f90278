// The INI line scanner and file reader shared by the config loader and the schedule files: both read
// "[section]" headers and "key = value" lines with '#'/';' comments, and report errors by line.
// Pure functions; thread-safe.
#pragma once
#include <functional>
#include <string>
#include <string_view>

namespace glint::config {

// One meaningful line of an INI-style file (comments and blank lines are skipped).
struct IniLine {
  enum class Kind { section, entry, malformed_header, malformed_line };
  Kind kind = Kind::entry;
  int line = 0;                // 1-based
  std::string_view name;       // section name, or the entry's key
  std::string_view value;      // entry value, trimmed
  bool colon_hint = false;     // malformed_line that contains ':' (suggest '=')
};

// Calls on_line for every section header, key = value entry and malformed line, in order. Pure.
// A leading UTF-8 BOM is skipped; the views point into `text`. Any input is accepted.
void scan_ini(std::string_view text, const std::function<void(const IniLine&)>& on_line);

// Reads a whole file into out; false with the errno reason in why.
bool read_text_file(const std::string& path, std::string& out, std::string& why);

// `s` without leading and trailing ASCII whitespace.
std::string_view trim(std::string_view s);

}  // namespace glint::config
