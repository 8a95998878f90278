// Parser for a single-range "Range: bytes=..." header, as Glance serves image data.
// Pure function; thread-safe.
#pragma once
#include <cstdint>
#include <string_view>

namespace glint::http {

struct ByteRange {
  enum class Kind { none, satisfiable, unsatisfiable } kind = Kind::none;
  uint64_t first = 0;  // inclusive
  uint64_t last = 0;   // inclusive
  uint64_t length() const { return last - first + 1; }
};

// none: no header or a header that is not a byte range (served whole, RFC 9110 lets a server
// ignore it); unsatisfiable: syntactically a byte range but outside [0,size) or several ranges
// (answer 416 with Content-Range: bytes */size); satisfiable: clamped to the resource.
ByteRange parse_range(std::string_view header, uint64_t size);

}  // namespace glint::http
