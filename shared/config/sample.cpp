// Renders the documented sample configuration (deploy/glint.conf.sample) from the option specs, so
// the operator documentation cannot drift from the defaults the code actually uses.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <sstream>

#include "shared/config/config.hpp"

namespace glint::config {
namespace {

constexpr size_t kWrapColumn = 78;

const char* type_name(Type t) {
  switch (t) {
    case Type::String: return "string";
    case Type::Int: return "int";
    case Type::Bool: return "bool";
    case Type::Size: return "size";
    case Type::Double: return "double";
    case Type::Duration: return "duration";
  }
  return "?";
}

// A bound as the operator would write it: "65535", "0.5", or for sizes "64M".
std::string format_bound(Type t, double v) {
  if (t == Type::Size && v >= 0 && v < 18e18 && v == std::floor(v)) {
    auto n = static_cast<uint64_t>(v);
    const char* units = "KMGT";
    int unit = -1;
    while (unit < 3 && n != 0 && n % 1024 == 0) {
      n /= 1024;
      ++unit;
    }
    return std::to_string(n) + (unit >= 0 ? std::string(1, units[unit]) : "");
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "?";
}

// Appends `text` as "# " comment lines, wrapped at word boundaries.
void append_wrapped(std::string& out, std::string_view text) {
  std::istringstream words{std::string(text)};
  std::string word;
  std::string line = "#";
  while (words >> word) {
    if (line.size() > 1 && line.size() + 1 + word.size() > kWrapColumn) {
      out += line + "\n";
      line = "#";
    }
    line += " " + word;
  }
  if (line.size() > 1) out += line + "\n";
}

}  // namespace

std::string describe(const OptionSpec& spec) {
  std::string out = type_name(spec.type);
  if (spec.type == Type::String && !spec.choices.empty()) {
    out += " (one of: ";
    for (size_t i = 0; i < spec.choices.size(); ++i) out += (i ? ", " : "") + spec.choices[i];
    return out + ")";
  }
  if (spec.type != Type::Int && spec.type != Type::Double && spec.type != Type::Size) return out;
  const bool has_min = std::isfinite(spec.min);
  const bool has_max = std::isfinite(spec.max);
  if (has_min && has_max) {
    out += " (" + format_bound(spec.type, spec.min) + ".." + format_bound(spec.type, spec.max) + ")";
  } else if (has_min) {
    out += " (>= " + format_bound(spec.type, spec.min) + ")";
  } else if (has_max) {
    out += " (<= " + format_bound(spec.type, spec.max) + ")";
  }
  return out;
}

std::string render_sample(const std::vector<OptionSpec>& specs) {
  std::string out =
      "# glint configuration \xE2\x80\x94 generated from the option catalog; regenerate with\n"
      "# `build/bin/glint-store --print-sample-config > deploy/glint.conf.sample`\n"
      "# Every option is shown commented out with its default value.\n";
  // Sections in the order they first appear in the catalog, each with all of its options.
  std::vector<std::string> sections;
  for (const auto& s : specs) {
    if (std::find(sections.begin(), sections.end(), s.section) == sections.end()) sections.push_back(s.section);
  }
  for (const auto& section : sections) {
    out += "\n[" + section + "]\n";
    for (const auto& s : specs) {
      if (s.section != section) continue;
      out += "\n";
      append_wrapped(out, s.help);
      out += "# Type: " + describe(s) + "\n";
      // Secrets get no default in the sample so nobody deploys a value copied from documentation.
      const std::string value = s.secret ? "" : s.default_value;
      out += "#" + s.name + " =" + (value.empty() ? "" : " " + value) + "\n";
    }
  }
  return out;
}

}  // namespace glint::config
