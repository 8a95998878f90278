// Fuzzes the Range header parser: any input yields a range inside the resource or none/416.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "shared/http/range.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint64_t resource = (uint64_t{data[0]} << 20) | (size > 1 ? data[1] : 0);
  std::string_view header(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto r = glint::http::parse_range(header, resource);
  if (r.kind == glint::http::ByteRange::Kind::satisfiable && (r.first > r.last || r.last >= resource)) std::abort();
  return 0;
}
