#include "workers/api/disk_format.hpp"

#include <limits>

namespace glint::api {

std::optional<int64_t> inspect_virtual_size(const std::string& disk_format, std::span<const std::byte> head,
                                            uint64_t size) {
  if (size == 0 || size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  if (disk_format == "raw") return static_cast<int64_t>(size);
  if (disk_format == "qcow2") {
    // Header: magic "QFI\xfb" (bytes 0-3), version (4-7), …, virtual size big-endian at 24-31.
    constexpr unsigned char kMagic[4] = {'Q', 'F', 'I', 0xfb};
    if (head.size() < 32) return std::nullopt;
    for (size_t i = 0; i < 4; ++i)
      if (static_cast<unsigned char>(head[i]) != kMagic[i]) return std::nullopt;  // not qcow2 after all
    uint64_t v = 0;
    for (size_t i = 24; i < 32; ++i) v = (v << 8) | static_cast<unsigned char>(head[i]);
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(v);
  }
  return std::nullopt;
}

}  // namespace glint::api
