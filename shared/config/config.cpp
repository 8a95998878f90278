// Config loading: INI files and command-line overrides checked against the option specs, collecting
// every error (with file and line) so an operator can fix a broken file in one go.
#include "shared/config/config.hpp"

#include <sys/stat.h>

#include <cstdio>

#include <unistd.h>

#include <optional>
#include <stdexcept>

#include "shared/config/ini.hpp"

namespace glint::config {
namespace {

constexpr const char* kCommandLine = "<command line>";

std::string key_of(std::string_view section, std::string_view name) {
  std::string k(section);
  k += '.';
  k += name;
  return k;
}

const OptionSpec* find_spec(const std::vector<OptionSpec>& specs, std::string_view section, std::string_view name) {
  for (const auto& s : specs) {
    if (s.section == section && s.name == name) return &s;
  }
  return nullptr;
}

// " 'abc' for [store] io_threads: expected int (1..256)"; secrets never appear, not even in errors.
std::string bad_value_message(const OptionSpec& spec, std::string_view value) {
  const std::string shown = spec.secret || holds_secret(spec, value) ? "" : " '" + std::string(value) + "'";
  return shown + " for [" + spec.section + "] " + spec.name + ": expected " + describe(spec);
}

// Accumulates the values and errors of one load: defaults, then files in order, then overrides.
class Loader {
 public:
  explicit Loader(const std::vector<OptionSpec>& specs) : specs_(specs) {
    for (const auto& s : specs_) {
      // A bad default is a catalog bug; reporting it beats an exception from an accessor later.
      if (!valid_value(s, s.default_value)) {
        add("<catalog>", 0, "bad default" + bad_value_message(s, s.default_value));
      }
      values_[key_of(s.section, s.name)] = s.default_value;
    }
  }

  void read_file(const std::string& path) {
    std::string text;
    std::string why;
    if (!read_text_file(path, text, why)) {
      errors_.push_back({path, 0, "cannot read file: " + why});
      return;
    }
    parse_text(text, path);
  }

  void parse_text(std::string_view text, const std::string& file) {
    std::string section;
    bool in_section = false;
    bool section_known = false;
    std::map<std::string, int> first_line;  // "section.name" -> line it was set on in this file
    scan_ini(text, [&](const IniLine& l) {
      switch (l.kind) {
        case IniLine::Kind::malformed_header:
          add(file, l.line, "malformed section header; expected '[name]'");
          return;
        case IniLine::Kind::section:
          section = l.name;
          in_section = true;
          section_known = is_section(section);
          if (!section_known) add(file, l.line, "unknown section [" + section + "]" + known_sections());
          return;
        case IniLine::Kind::malformed_line:
          add(file, l.line,
              std::string("expected '[section]', 'key = value' or a comment") +
                  (l.colon_hint ? " (use '=' rather than ':')" : ""));
          return;
        case IniLine::Kind::entry: break;
      }
      const std::string_view key = l.name;
      if (!in_section) {
        add(file, l.line, "option '" + std::string(key) + "' appears before any [section] header");
        return;
      }
      if (!section_known) return;  // the header was reported once; its options would only add noise
      const OptionSpec* spec = find_spec(specs_, section, key);
      if (spec == nullptr) {
        add(file, l.line, "unknown option '" + std::string(key) + "' in section [" + section + "]");
        return;
      }
      auto [it, inserted] = first_line.emplace(key_of(section, key), l.line);
      if (!inserted) {
        add(file, l.line,
            "option '" + std::string(key) + "' in section [" + section + "] is set twice (first on line " +
                std::to_string(it->second) + ")");
        return;
      }
      set(*spec, l.value, file, l.line);
    });
  }

  void apply_override(std::string_view text, int line_no) {
    const size_t eq = text.find('=');
    const std::string_view lhs = eq == std::string_view::npos ? "" : trim(text.substr(0, eq));
    if (lhs.empty()) {
      add(kCommandLine, line_no, "malformed override; expected section.key=value (or key=value for [DEFAULT])");
      return;
    }
    const size_t dot = lhs.find('.');
    const std::string section(dot == std::string_view::npos ? "DEFAULT" : lhs.substr(0, dot));
    const std::string name(dot == std::string_view::npos ? lhs : lhs.substr(dot + 1));
    if (!is_section(section)) {
      add(kCommandLine, line_no, "unknown section [" + section + "]" + known_sections());
      return;
    }
    const OptionSpec* spec = find_spec(specs_, section, name);
    if (spec == nullptr) {
      add(kCommandLine, line_no, "unknown option '" + name + "' in section [" + section + "]");
      return;
    }
    set(*spec, trim(text.substr(eq + 1)), kCommandLine, line_no);
  }

  std::map<std::string, std::string>& values() { return values_; }
  std::vector<ConfigError>& errors() { return errors_; }

  // Files that set a secret and are readable by group or others: warnings, or errors when
  // [DEFAULT] strict_permissions is on. The value itself never appears.
  std::vector<ConfigError> check_secret_files() {
    std::vector<ConfigError> out;
    bool strict = false;
    parse_bool(values_[key_of("DEFAULT", "strict_permissions")], strict);
    for (const auto& [file, where] : secret_in_) {
      struct stat st {};
      if (::stat(file.c_str(), &st) != 0 || (st.st_mode & 077) == 0) continue;
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
      ConfigError e{file, where.second,
                    "holds a secret (" + where.first + ") but is readable by group or others (mode " + mode +
                        "); chmod 600 " + file};
      (strict ? errors_ : out).push_back(std::move(e));
    }
    return out;
  }

 private:
  void add(const std::string& file, int line, std::string message) {
    errors_.push_back({file, line, std::move(message)});
  }

  bool is_section(std::string_view name) const {
    for (const auto& s : specs_) {
      if (s.section == name) return true;
    }
    return false;
  }

  std::string known_sections() const {
    std::string out;
    for (const auto& s : specs_) {
      const std::string item = "[" + s.section + "]";
      if (out.find(item) == std::string::npos) out += (out.empty() ? "" : ", ") + item;
    }
    return " (known: " + out + ")";
  }

  void set(const OptionSpec& spec, std::string_view value, const std::string& file, int line) {
    if (!valid_value(spec, value)) {
      add(file, line, "bad value" + bad_value_message(spec, value));
      return;
    }
    values_[key_of(spec.section, spec.name)] = value;
    if (file != kCommandLine && holds_secret(spec, value))
      secret_in_.emplace(file, std::make_pair("[" + spec.section + "] " + spec.name, line));
  }

  const std::vector<OptionSpec>& specs_;
  std::map<std::string, std::string> values_;
  std::vector<ConfigError> errors_;
  std::map<std::string, std::pair<std::string, int>> secret_in_;  // file -> (option, line), first one
};

// The raw (validated) text of an option, checking that it exists and, unless `want` is empty, its type.
const std::string& raw_value(const std::vector<OptionSpec>& specs, const std::map<std::string, std::string>& values,
                             const std::string& section, const std::string& name, std::optional<Type> want,
                             const char* type_name) {
  const OptionSpec* spec = find_spec(specs, section, name);
  if (spec == nullptr) throw std::out_of_range("config: no option [" + section + "] " + name);
  if (want && spec->type != *want) {
    throw std::out_of_range("config: option [" + section + "] " + name + " is not of type " + type_name);
  }
  return values.at(key_of(section, name));
}

[[noreturn]] void unparsable(const std::string& section, const std::string& name) {
  throw std::out_of_range("config: option [" + section + "] " + name + " holds an unparsable value");
}

}  // namespace

bool holds_secret(const OptionSpec& spec, std::string_view value) {
  if (value.empty()) return false;
  if (spec.secret) return true;
  if (!spec.secret_if_password) return false;
  // URI: scheme://user:password@host...; DSN: ... password=...
  const size_t scheme = value.find("://");
  if (scheme != std::string_view::npos) {
    const std::string_view rest = value.substr(scheme + 3);
    const size_t at = rest.find('@');
    const size_t colon = rest.find(':');
    if (at != std::string_view::npos && colon != std::string_view::npos && colon < at) return true;
    return value.find("password=") != std::string_view::npos;
  }
  return value.find("password") != std::string_view::npos;
}

std::string ConfigError::to_string() const {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ": " + message;
}

std::variant<Config, std::vector<ConfigError>> Config::load(const std::vector<std::string>& files,
                                                            const std::vector<std::string>& overrides,
                                                            const std::vector<OptionSpec>& specs) {
  Loader loader(specs);
  for (const auto& f : files) loader.read_file(f);
  for (size_t i = 0; i < overrides.size(); ++i) loader.apply_override(overrides[i], static_cast<int>(i + 1));
  auto warnings = loader.check_secret_files();
  if (!loader.errors().empty()) return std::move(loader.errors());
  Config c;
  c.values_ = std::move(loader.values());
  c.specs_ = specs;
  c.warnings_ = std::move(warnings);
  return c;
}

std::variant<Config, std::vector<ConfigError>> Config::parse(std::string_view text, const std::string& file_name,
                                                             const std::vector<OptionSpec>& specs) {
  Loader loader(specs);
  loader.parse_text(text, file_name);
  if (!loader.errors().empty()) return std::move(loader.errors());
  Config c;
  c.values_ = std::move(loader.values());
  c.specs_ = specs;
  return c;
}

const std::string& Config::get_string(const std::string& section, const std::string& name) const {
  // Any option may be read as its raw text (e.g. to log the effective configuration).
  return raw_value(specs_, values_, section, name, std::nullopt, "string");
}

int64_t Config::get_int(const std::string& section, const std::string& name) const {
  int64_t v = 0;
  if (!parse_int(raw_value(specs_, values_, section, name, Type::Int, "int"), v)) unparsable(section, name);
  return v;
}

bool Config::get_bool(const std::string& section, const std::string& name) const {
  bool v = false;
  if (!parse_bool(raw_value(specs_, values_, section, name, Type::Bool, "bool"), v)) unparsable(section, name);
  return v;
}

uint64_t Config::get_size(const std::string& section, const std::string& name) const {
  uint64_t v = 0;
  if (!parse_size(raw_value(specs_, values_, section, name, Type::Size, "size"), v)) unparsable(section, name);
  return v;
}

double Config::get_double(const std::string& section, const std::string& name) const {
  double v = 0;
  if (!parse_double(raw_value(specs_, values_, section, name, Type::Double, "double"), v)) unparsable(section, name);
  return v;
}

std::chrono::milliseconds Config::get_duration(const std::string& section, const std::string& name) const {
  std::chrono::milliseconds v{};
  if (!parse_duration(raw_value(specs_, values_, section, name, Type::Duration, "duration"), v)) {
    unparsable(section, name);
  }
  return v;
}

std::string node_name(const Config& cfg) {
  std::string n = cfg.get_string("DEFAULT", "node_name");
  if (!n.empty()) return n;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

}  // namespace glint::config
