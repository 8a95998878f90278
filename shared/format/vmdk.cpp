// VMDK: only the hosted sparse extent ("KDMV") with its descriptor embedded, of createType
// monolithicSparse or streamOptimized, whose single extent is a SPARSE one in this same file.
// Anything else keeps data in other files a hypervisor would open (monolithicFlat, split or
// descriptor-only vmdks, extents with paths) and is refused, as are footers: the descriptor they
// point at has already streamed past.
#include <limits>
#include <string>

#include "shared/format/view.hpp"

namespace glint::format::detail {

namespace {
constexpr uint64_t kSector = 512;
constexpr uint64_t kMaxDescriptorSectors = 128;  // qemu-img writes 20
constexpr uint64_t kGdAtEnd = ~uint64_t{0};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string_view quoted(std::string_view s) {
  const auto a = s.find('"');
  const auto b = a == std::string_view::npos ? a : s.find('"', a + 1);
  if (b == std::string_view::npos) return {};
  return s.substr(a + 1, b - a - 1);
}

bool is_extent(std::string_view line) {
  for (std::string_view access : {"RW ", "RDONLY ", "NOACCESS "})
    if (line.substr(0, access.size()) == access) return true;
  return false;
}

// Empty when the descriptor only describes this file; else why not.
std::string check_descriptor(std::string_view text) {
  std::string_view create_type;
  size_t extents = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.substr(0, 10) == "createType") create_type = quoted(line);
    if (!is_extent(line)) continue;
    ++extents;
    // access, size in sectors, type, "file name"[, offset]
    const auto after_size = line.find(' ', line.find(' ') + 1);
    const auto type = after_size == std::string_view::npos ? std::string_view{} : trim(line.substr(after_size + 1));
    if (type.substr(0, 7) != "SPARSE ") return "vmdk extent is not a sparse extent of this file";
    const auto name = quoted(type);
    if (name.empty() || name.find_first_of("/\\") != std::string_view::npos)
      return "vmdk extent names another file";
  }
  if (create_type != "monolithicSparse" && create_type != "streamOptimized")
    return "vmdk createType \"" + std::string(create_type) + "\" is not allowed (only monolithicSparse and streamOptimized)";
  if (extents != 1) return "vmdk descriptor must name exactly one extent (it names " + std::to_string(extents) + ")";
  return {};
}
}  // namespace

Step parse_vmdk(const View& v) {
  auto h = v.at(0, 80);
  if (!h) return missing(v, Format::vmdk, 0, 80);
  if (starts_with(*h, "COWD")) return refuse(Format::vmdk, "vmdk version 3 (COWD) is not supported");
  if (!starts_with(*h, "KDMV")) return refuse(Format::vmdk, "vmdk descriptor file: its extents are other files");
  const uint64_t capacity = le64(*h, 12);
  const uint64_t desc_at = le64(*h, 28), desc_len = le64(*h, 36);
  if (capacity > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / kSector)
    return refuse(Format::vmdk, "vmdk header has an invalid capacity");
  if (le64(*h, 56) == kGdAtEnd) return refuse(Format::vmdk, "vmdk with a footer is not supported");
  if (desc_at == 0 || desc_len == 0) return refuse(Format::vmdk, "vmdk has no embedded descriptor");
  if (desc_len > kMaxDescriptorSectors || desc_at > (1ull << 30))
    return refuse(Format::vmdk, "vmdk descriptor is too large or too far into the file");
  auto d = v.at(desc_at * kSector, desc_len * kSector);
  if (!d) return missing(v, Format::vmdk, desc_at * kSector, desc_len * kSector);
  std::string_view text(reinterpret_cast<const char*>(d->data()), d->size());
  text = text.substr(0, text.find('\0'));
  if (auto why = check_descriptor(text); !why.empty()) return refuse(Format::vmdk, std::move(why));
  return Verdict{Format::vmdk, static_cast<int64_t>(capacity * kSector), {}};
}

}  // namespace glint::format::detail
