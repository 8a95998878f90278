#include "shared/http/range.hpp"

#include <charconv>

namespace glint::http {
namespace {

bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

ByteRange parse_range(std::string_view header, uint64_t size) {
  ByteRange none;
  header = trim(header);
  constexpr std::string_view unit = "bytes=";
  if (header.size() < unit.size() || header.substr(0, unit.size()) != unit) return none;
  std::string_view spec = trim(header.substr(unit.size()));
  ByteRange bad{ByteRange::Kind::unsatisfiable, 0, 0};
  if (spec.find(',') != std::string_view::npos) return bad;  // multiple ranges are not served
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return none;
  std::string_view a = trim(spec.substr(0, dash)), b = trim(spec.substr(dash + 1));
  uint64_t first = 0, last = 0;
  if (a.empty()) {  // suffix range: the last N bytes
    if (!parse_u64(b, last)) return none;
    if (last == 0 || size == 0) return bad;
    const uint64_t n = last < size ? last : size;
    return {ByteRange::Kind::satisfiable, size - n, size - 1};
  }
  if (!parse_u64(a, first)) return none;
  if (b.empty()) {
    last = size == 0 ? 0 : size - 1;
  } else {
    if (!parse_u64(b, last)) return none;
    if (last < first) return none;  // invalid syntax: ignored per RFC 9110
    if (size > 0 && last >= size) last = size - 1;
  }
  if (first >= size) return bad;
  return {ByteRange::Kind::satisfiable, first, last};
}

}  // namespace glint::http
