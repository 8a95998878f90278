// Microsoft's formats. VHD: a 512-byte big-endian footer ("conectix"), copied to the first sector
// of dynamic and differencing disks; fixed disks have it only at the end. VHDX: a region table at
// 192 KiB locates the metadata region, whose table gives the virtual disk size. Differencing disks
// (a VHD of type 4, a VHDX with a parent locator) read another file and are refused.
#include <array>
#include <limits>

#include "shared/format/view.hpp"

namespace glint::format::detail {

namespace {
constexpr uint32_t kVhdFixed = 2, kVhdDynamic = 3, kVhdDifferencing = 4;
constexpr uint64_t kRegionTable = 192 << 10;
constexpr size_t kTableBytes = 64 << 10;  // both tables are 64 KiB, read whole: the stream moves on
constexpr size_t kMaxEntries = 2047;       // the spec's bound for both tables
// GUIDs in their on-disk (mixed-endian) byte order.
constexpr std::array<uint8_t, 16> kMetadataRegion = {0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b,
                                                     0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e};
constexpr std::array<uint8_t, 16> kVirtualDiskSize = {0x24, 0x42, 0xa5, 0x2f, 0x1b, 0xcd, 0x76, 0x48,
                                                      0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8};
constexpr std::array<uint8_t, 16> kParentLocator = {0x2d, 0x5f, 0xd3, 0xa8, 0x0b, 0xb3, 0x4d, 0x45,
                                                    0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c};

bool guid_is(std::span<const std::byte> b, size_t at, const std::array<uint8_t, 16>& g) {
  for (size_t i = 0; i < g.size(); ++i)
    if (static_cast<uint8_t>(b[at + i]) != g[i]) return false;
  return true;
}

Verdict sized(Format f, uint64_t size, const char* what) {
  if (size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return refuse(f, std::string(what) + " header has an invalid virtual size");
  return Verdict{f, static_cast<int64_t>(size), {}};
}
}  // namespace

std::optional<Verdict> vhd_footer(std::span<const std::byte> s) {
  if (s.size() < 512 || !starts_with(s, "conectix")) return std::nullopt;
  const uint32_t type = be32(s, 60);
  if (type == kVhdDifferencing) return refuse(Format::vhd, "vhd image is a differencing disk (it reads a parent file)");
  if (type != kVhdFixed && type != kVhdDynamic) return refuse(Format::vhd, "vhd footer has an unknown disk type");
  return sized(Format::vhd, be64(s, 48), "vhd");
}

Step parse_vhd(const View& v) {
  auto h = v.at(0, 512);
  if (!h) return missing(v, Format::vhd, 0, 512);
  return *vhd_footer(*h);
}

Step parse_vhdx(const View& v) {
  auto rt = v.at(kRegionTable, kTableBytes);
  if (!rt) return missing(v, Format::vhdx, kRegionTable, kTableBytes);
  if (!starts_with(*rt, "regi")) return refuse(Format::vhdx, "vhdx region table is missing");
  const uint32_t regions = le32(*rt, 8);
  if (regions > kMaxEntries) return refuse(Format::vhdx, "vhdx region table is invalid");
  const auto& rs = rt;
  std::optional<uint64_t> meta;
  for (size_t i = 0; i < regions; ++i)
    if (guid_is(*rs, 16 + 32 * i, kMetadataRegion)) meta = le64(*rs, 16 + 32 * i + 16);
  if (!meta || *meta < kRegionTable || *meta > (1ull << 46)) return refuse(Format::vhdx, "vhdx has no metadata region");
  auto mt = v.at(*meta, kTableBytes);
  if (!mt) return missing(v, Format::vhdx, *meta, kTableBytes);
  if (!starts_with(*mt, "metadata")) return refuse(Format::vhdx, "vhdx metadata table is missing");
  const uint16_t items = le16(*mt, 10);
  if (items > kMaxEntries) return refuse(Format::vhdx, "vhdx metadata table is invalid");
  const auto& ms = mt;
  std::optional<uint32_t> size_at;
  for (size_t i = 0; i < items; ++i) {
    const size_t e = 32 + 32 * i;
    if (guid_is(*ms, e, kParentLocator)) return refuse(Format::vhdx, "vhdx image is a differencing disk (it reads a parent file)");
    if (guid_is(*ms, e, kVirtualDiskSize)) size_at = le32(*ms, e + 16);
  }
  if (!size_at || *size_at < 32 + 32 * size_t{items}) return refuse(Format::vhdx, "vhdx metadata has no virtual disk size");
  auto sz = v.at(*meta + *size_at, 8);
  if (!sz) return missing(v, Format::vhdx, *meta + *size_at, 8);
  return sized(Format::vhdx, le64(*sz, 0), "vhdx");
}

}  // namespace glint::format::detail
