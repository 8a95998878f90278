// Fuzzes the image format inspector: any bytes, cut into chunks of any sizes, give the same
// verdict as one whole feed (the inspector never depends on how the stream is cut), a
// non-negative virtual size, and a declared-format check that never throws.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "shared/format/format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0] % 97;
  std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  const auto whole = glint::format::inspect_all(in);
  glint::format::Inspector cut;
  for (size_t pos = 0; pos < in.size(); pos += chunk) cut.feed(in.subspan(pos, std::min(chunk, in.size() - pos)));
  const auto v = cut.finish();
  if (v.detected != whole.detected || v.virtual_size != whole.virtual_size || v.refusal != whole.refusal) std::abort();
  if (v.virtual_size && *v.virtual_size < 0) std::abort();
  for (const char* f : {"raw", "qcow2", "vmdk", "vhd", "vhdx", "vdi", "iso", "ami"}) {
    const auto s = glint::format::check_declared(f, v);
    if (!s.ok() && s.code() != glint::Errc::invalid) std::abort();
  }
  return 0;
}
