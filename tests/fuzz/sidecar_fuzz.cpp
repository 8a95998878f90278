// Fuzzes the sidecar decoder: arbitrary bytes are either rejected as corrupt or decode to a
// self-consistent sidecar that re-encodes to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "shared/blob/sidecar.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  auto sc = glint::blob::decode_sidecar(in);
  if (!sc.ok()) {
    if (sc.code() != glint::Errc::corrupt) std::abort();
    return 0;
  }
  if (sc->block_hashes.size() != sc->info.block_count) std::abort();
  if (sc->info.block_count != glint::blob::block_count_for(sc->info.size, sc->info.block_size)) std::abort();
  auto again = glint::blob::encode_sidecar(*sc);
  if (again.size() != size || std::memcmp(again.data(), data, size) != 0) std::abort();
  return 0;
}
