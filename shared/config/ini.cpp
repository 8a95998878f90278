// INI scanning and whole-file reading; see ini.hpp.
#include "shared/config/ini.hpp"

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace glint::config {

std::string_view trim(std::string_view s) {
  constexpr std::string_view ws = " \t\r\n\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

void scan_ini(std::string_view text, const std::function<void(const IniLine&)>& on_line) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 BOM from some editors
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    const std::string_view line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    IniLine out;
    out.line = line_no;
    if (line[0] == '[') {
      const std::string_view name =
          line.size() >= 2 && line.back() == ']' ? trim(line.substr(1, line.size() - 2)) : std::string_view{};
      if (name.empty() || name.find_first_of("[]") != std::string_view::npos) {
        out.kind = IniLine::Kind::malformed_header;
      } else {
        out.kind = IniLine::Kind::section;
        out.name = name;
      }
      on_line(out);
      continue;
    }
    const size_t eq = line.find('=');
    const std::string_view key = eq == std::string_view::npos ? std::string_view{} : trim(line.substr(0, eq));
    if (key.empty()) {
      out.kind = IniLine::Kind::malformed_line;
      out.colon_hint = line.find(':') != std::string_view::npos;
    } else {
      out.kind = IniLine::Kind::entry;
      out.name = key;
      out.value = trim(line.substr(eq + 1));
    }
    on_line(out);
  }
}

bool read_text_file(const std::string& path, std::string& out, std::string& why) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    why = std::generic_category().message(errno);
    return false;
  }
  char buf[8192];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) why = std::generic_category().message(err);
  return !failed;
}

}  // namespace glint::config
