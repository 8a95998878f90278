// Parsers for the typed option values (sizes, durations, booleans). They reject anything they do not
// fully understand, including values that would overflow, so a typo never becomes a surprising number.
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

#include "shared/config/config.hpp"

namespace glint::config {
namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Parses the leading decimal digits of `text` (no sign, no spaces) into `out`; returns the rest.
// False when there are no digits or the number does not fit.
bool leading_number(std::string_view text, uint64_t& out, std::string_view& rest) {
  if (text.empty() || text[0] < '0' || text[0] > '9') return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc()) return false;
  rest = text.substr(static_cast<size_t>(end - text.data()));
  return true;
}

}  // namespace

bool parse_size(std::string_view text, uint64_t& out) {
  uint64_t n = 0;
  std::string_view rest;
  if (!leading_number(text, n, rest)) return false;
  unsigned shift = 0;
  if (!rest.empty()) {
    switch (lower(rest[0])) {
      case 'k': shift = 10; break;
      case 'm': shift = 20; break;
      case 'g': shift = 30; break;
      case 't': shift = 40; break;
      default: break;
    }
    if (shift != 0) rest.remove_prefix(1);
    // Units are binary whatever the spelling: "10M", "10MB" and "10MiB" all mean 10 * 2^20.
    const bool suffix_ok = rest.empty() || iequals(rest, "b") || (shift != 0 && iequals(rest, "ib"));
    if (!suffix_ok) return false;
  }
  if (n > (std::numeric_limits<uint64_t>::max() >> shift)) return false;
  out = n << shift;
  return true;
}

bool parse_duration(std::string_view text, std::chrono::milliseconds& out) {
  uint64_t n = 0;
  std::string_view rest;
  if (!leading_number(text, n, rest)) return false;
  uint64_t factor = 0;
  if (rest.empty() || iequals(rest, "s")) {
    factor = 1000;  // a bare number is seconds, as in most OpenStack timeouts
  } else if (iequals(rest, "ms")) {
    factor = 1;
  } else if (iequals(rest, "m")) {
    factor = 60'000;
  } else if (iequals(rest, "h")) {
    factor = 3'600'000;
  } else if (iequals(rest, "d")) {
    factor = 86'400'000;
  } else {
    return false;
  }
  const auto max = static_cast<uint64_t>(std::numeric_limits<std::chrono::milliseconds::rep>::max());
  if (n > max / factor) return false;
  out = std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(n * factor));
  return true;
}

bool parse_bool(std::string_view text, bool& out) {
  for (const char* t : {"true", "yes", "on", "1"}) {
    if (iequals(text, t)) {
      out = true;
      return true;
    }
  }
  for (const char* f : {"false", "no", "off", "0"}) {
    if (iequals(text, f)) {
      out = false;
      return true;
    }
  }
  return false;
}

bool parse_int(std::string_view text, int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

bool parse_double(std::string_view text, double& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, std::chars_format::general);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size() && std::isfinite(out);
}

bool valid_value(const OptionSpec& spec, std::string_view text) {
  // Bounds are doubles so one pair of fields serves ints, sizes and doubles alike.
  const auto in_range = [&spec](double v) { return v >= spec.min && v <= spec.max; };
  switch (spec.type) {
    case Type::String:
      if (spec.choices.empty()) return true;
      for (const auto& c : spec.choices) {
        if (c == text) return true;
      }
      return false;
    case Type::Int: {
      int64_t v = 0;
      return parse_int(text, v) && in_range(static_cast<double>(v));
    }
    case Type::Bool: {
      bool v = false;
      return parse_bool(text, v);
    }
    case Type::Size: {
      uint64_t v = 0;
      return parse_size(text, v) && in_range(static_cast<double>(v));
    }
    case Type::Double: {
      double v = 0;
      return parse_double(text, v) && in_range(v);
    }
    case Type::Duration: {
      std::chrono::milliseconds v{};  // bounds in milliseconds
      return parse_duration(text, v) && in_range(static_cast<double>(v.count()));
    }
  }
  return false;
}

}  // namespace glint::config
