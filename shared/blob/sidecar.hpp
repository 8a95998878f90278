// Sidecar: the `<id>.meta` file stored beside each blob, recording what the bytes must hash to.
//
// Binary format, version 1 (all integers little-endian):
//   offset  size  field
//        0     4  magic "GLSC"
//        4     4  u32 version = 1
//        8     4  u32 block_size (> 0)
//       12     4  u32 reserved, 0
//       16     8  u64 size: blob length in bytes
//       24     8  u64 block_count = ceil(size / block_size)
//       32    16  whole-blob XXH3-128, canonical (big-endian) form
//       48  8*n   n = block_count u64 XXH3-64 values, one per block in order (last block may be short)
//   48+8n     8   u64 XXH3-64 of bytes [0, 48+8n): detects a damaged sidecar
// Total length is exactly 56 + 8*block_count; anything else is corrupt.
// Plain functions and value types; thread-safe.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "shared/blob/blob_store.hpp"
#include "shared/core/result.hpp"

namespace glint::blob {

// A decoded sidecar. Value type; thread-compatible.
struct Sidecar {
  BlobInfo info;
  std::vector<uint64_t> block_hashes;  // info.block_count entries
};

uint64_t block_count_for(uint64_t size, uint32_t block_size);
std::vector<std::byte> encode_sidecar(const Sidecar& sc);
// corrupt (with the reason) unless `bytes` is a well-formed, self-consistent version-1 sidecar.
Expected<Sidecar> decode_sidecar(std::span<const std::byte> bytes);
// Reads and decodes `path`: not_found if absent, corrupt if damaged, io_error otherwise.
Expected<Sidecar> read_sidecar(const std::string& path);

}  // namespace glint::blob
