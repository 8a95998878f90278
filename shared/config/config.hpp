// INI configuration like other OpenStack services: [section] key = value, '#'/';' comments,
// defaults in code (the option catalog), later files and command-line overrides win.
// Immutable after load; safe to share between threads.
#pragma once
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace CLI { class App; }

namespace glint::config {

enum class Type { String, Int, Bool, Size, Double, Duration };

struct OptionSpec {
  std::string section;        // "DEFAULT", "database", "store", …
  std::string name;
  Type type = Type::String;
  std::string default_value;  // as written in an INI file ("" = empty/unset)
  std::string help;           // one or more sentences; rendered as comments in the sample
  bool secret = false;        // never logged; a file setting it must be private (0600)
  // Validation beyond the type (defaulted, so aggregate initialisers above stay valid):
  std::vector<std::string> choices = {};  // String: the allowed values (empty = any)
  double min = -std::numeric_limits<double>::infinity();  // Int, Double, Size: inclusive bounds
  double max = std::numeric_limits<double>::infinity();
  // A connection string: secret only when it carries a password (user:password@ or password=).
  bool secret_if_password = false;
};

// Whether `value` of `spec` is a secret (a file that sets it must not be group/world-readable).
bool holds_secret(const OptionSpec& spec, std::string_view value);

// Every option of every glint process (one glint.conf can serve all processes of a node).
const std::vector<OptionSpec>& catalog();

struct ConfigError {
  std::string file;  // "<command line>" for overrides
  int line = 0;      // 1-based; 0 when not tied to a line
  std::string message;
  std::string to_string() const;  // "file:line: message"
};

class Config {
 public:
  // Loads files in order (later wins), then overrides "section.key=value" (DEFAULT for a bare key).
  // Reports every unknown section/option and every bad value with file and line.
  static std::variant<Config, std::vector<ConfigError>> load(const std::vector<std::string>& files,
                                                             const std::vector<std::string>& overrides,
                                                             const std::vector<OptionSpec>& specs = catalog());
  // Parses INI text as if it came from `file_name` (used by load and by tests/fuzzing).
  static std::variant<Config, std::vector<ConfigError>> parse(std::string_view text, const std::string& file_name,
                                                              const std::vector<OptionSpec>& specs = catalog());

  // Accessors; the option must exist in the specs (std::out_of_range otherwise: a programming error).
  const std::string& get_string(const std::string& section, const std::string& name) const;
  int64_t get_int(const std::string& section, const std::string& name) const;
  bool get_bool(const std::string& section, const std::string& name) const;
  uint64_t get_size(const std::string& section, const std::string& name) const;  // "512", "64K", "10M", "2G", "1T" (binary)
  double get_double(const std::string& section, const std::string& name) const;
  std::chrono::milliseconds get_duration(const std::string& section, const std::string& name) const;  // "500ms","30s","10m","2h","1d"; bare number = seconds
  // Warnings of the load (with file and line): files holding secrets that others can read. With
  // [DEFAULT] strict_permissions these are errors instead.
  const std::vector<ConfigError>& warnings() const { return warnings_; }

 private:
  std::map<std::string, std::string> values_;  // "section.name" -> raw text (validated)
  std::vector<OptionSpec> specs_;
  std::vector<ConfigError> warnings_;
};

// [DEFAULT] node_name, or the host name when it is empty: this node's identity everywhere.
std::string node_name(const Config& cfg);

// Value parsers shared by Config and tests (nullopt-like: false on a bad value).
bool parse_size(std::string_view text, uint64_t& out);
bool parse_duration(std::string_view text, std::chrono::milliseconds& out);
bool parse_bool(std::string_view text, bool& out);
bool parse_int(std::string_view text, int64_t& out);  // decimal, optional '-'
bool parse_double(std::string_view text, double& out);  // finite only
// True when `text` is a valid setting of `spec`: its type, min/max and choices.
bool valid_value(const OptionSpec& spec, std::string_view text);

// The option's type and constraints as operators read them: "int (1..256)", "string (one of: a, b)".
// Shared by the sample's "# Type:" lines and by bad-value error messages.
std::string describe(const OptionSpec& spec);

// Renders the documented sample (deploy/glint.conf.sample) from the catalog.
std::string render_sample(const std::vector<OptionSpec>& specs = catalog());

// Standard flags of every executable: --config-file (repeatable), --set section.key=value (repeatable),
// --print-sample-config.
struct CommandLine {
  std::vector<std::string> config_files;
  std::vector<std::string> overrides;
  bool print_sample = false;
};
void add_standard_flags(CLI::App& app, CommandLine& cl);

// After CLI parsing: prints the sample and exits 0 if asked; loads config or prints every error
// ("file:line: message") to stderr and exits 1.
Config load_or_exit(const CommandLine& cl);

}  // namespace glint::config
