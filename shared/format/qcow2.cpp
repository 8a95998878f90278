// qcow2 (big-endian header, versions 2 and 3): virtual size at 24; refused when it names a backing
// file (offset at 8), uses an external data file (incompatible feature bit 2, or the data-file
// header extension), or its header does not add up.
#include <limits>

#include "shared/format/view.hpp"

namespace glint::format::detail {

namespace {
constexpr uint32_t kExtEnd = 0;
constexpr uint32_t kExtDataFile = 0x44415441;  // "DATA": the external data file's name
constexpr uint64_t kIncompatDataFile = 1ull << 2;
constexpr size_t kV2HeaderBytes = 72;
constexpr size_t kV3HeaderBytes = 104;
}  // namespace

Step parse_qcow2(const View& v) {
  auto h = v.at(0, kV3HeaderBytes);
  if (!h) return missing(v, Format::qcow2, 0, kV3HeaderBytes);
  const uint32_t version = be32(*h, 4);
  if (version != 2 && version != 3) return refuse(Format::qcow2, "qcow2 version " + std::to_string(version) + " is not supported");
  const uint32_t cluster_bits = be32(*h, 20);
  if (cluster_bits < 9 || cluster_bits > 21) return refuse(Format::qcow2, "qcow2 header has an invalid cluster size");
  const uint64_t cluster = 1ull << cluster_bits;
  const uint64_t size = be64(*h, 24);
  if (size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return refuse(Format::qcow2, "qcow2 header has an invalid virtual size");
  if (be64(*h, 8) != 0) return refuse(Format::qcow2, "qcow2 image has a backing file");
  uint64_t ext = kV2HeaderBytes;
  if (version == 3) {
    if (be64(*h, 72) & kIncompatDataFile) return refuse(Format::qcow2, "qcow2 image has an external data file");
    ext = be32(*h, 100);
    if (ext < kV3HeaderBytes || ext > cluster) return refuse(Format::qcow2, "qcow2 header has an invalid header length");
  }
  // Header extensions follow the header, each 8-byte aligned, inside the first cluster.
  for (;;) {
    if (ext + 8 > cluster) return refuse(Format::qcow2, "qcow2 header extensions run past the first cluster");
    auto e = v.at(ext, 8);
    if (!e) return missing(v, Format::qcow2, ext, 8);
    const uint32_t type = be32(*e, 0);
    const uint64_t len = be32(*e, 4);
    if (type == kExtEnd) break;
    if (type == kExtDataFile) return refuse(Format::qcow2, "qcow2 image has an external data file");
    ext += 8 + ((len + 7) & ~uint64_t{7});
  }
  return Verdict{Format::qcow2, static_cast<int64_t>(size), {}};
}

}  // namespace glint::format::detail
