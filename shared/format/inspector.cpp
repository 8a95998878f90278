#include <algorithm>

#include "shared/format/view.hpp"

namespace glint::format {

namespace {
constexpr size_t kFirstBytes = 64 << 10;     // always kept: every header but vhdx's metadata is here
constexpr size_t kMaxCaptured = 320 << 10;   // all captures of one stream together
constexpr uint64_t kIsoDescriptor = 0x8000;  // ISO 9660 primary volume descriptor (sector 16)
constexpr uint32_t kVdiSignature = 0xbeda107f;
}  // namespace

std::string_view format_name(Format f) {
  switch (f) {
    case Format::raw: return "raw";
    case Format::qcow2: return "qcow2";
    case Format::vmdk: return "vmdk";
    case Format::vhd: return "vhd";
    case Format::vhdx: return "vhdx";
    case Format::vdi: return "vdi";
    case Format::iso: return "iso";
  }
  return "raw";
}

namespace detail {

namespace {
Step parse_vdi(const View& v) {
  auto h = v.at(0, 0x178);
  if (!h) return missing(v, Format::vdi, 0, 0x178);
  const uint64_t size = le64(*h, 0x170);
  if (size > static_cast<uint64_t>(INT64_MAX)) return refuse(Format::vdi, "vdi header has an invalid virtual size");
  return Verdict{Format::vdi, static_cast<int64_t>(size), {}};
}

// Not a disk format's header: an ISO 9660 filesystem, or raw data.
Step parse_iso_or_raw(const View& v) {
  auto d = v.at(kIsoDescriptor, 136);
  if (!d) return v.eof() ? Step(Verdict{}) : Step(Need{Format::raw, kIsoDescriptor, 136});
  if (static_cast<uint8_t>((*d)[0]) != 1 || !starts_with(*d, "CD001", 1)) return Verdict{};
  const uint64_t blocks = le32(*d, 80), block = le16(*d, 128);
  return Verdict{Format::iso, static_cast<int64_t>(blocks * block), {}};
}
}  // namespace

Step parse(const View& v) {
  auto first = v.at(0, 512);
  if (!first && !v.eof()) return Need{Format::raw, 0, 512};
  const auto head = first ? *first : v.prefix();
  if (starts_with(head, "QFI\xfb")) return parse_qcow2(v);
  if (starts_with(head, "KDMV") || starts_with(head, "COWD") || starts_with(head, "# Disk DescriptorFile"))
    return parse_vmdk(v);
  if (starts_with(head, "conectix")) return parse_vhd(v);
  if (starts_with(head, "vhdxfile")) return parse_vhdx(v);
  if (head.size() >= 0x44 && le32(head, 0x40) == kVdiSignature) return parse_vdi(v);
  return parse_iso_or_raw(v);
}

}  // namespace detail

Inspector::Inspector() { captures_.push_back(Capture{0, {}, kFirstBytes}); }

// Takes the chunk in pieces that end where a parser waits, so that the next range it asks for is
// still ahead in the stream however large the chunks are.
void Inspector::feed(std::span<const std::byte> chunk) {
  while (!chunk.empty()) {
    size_t n = chunk.size();
    if (!settled_ && waiting_for_ > pos_) n = static_cast<size_t>(std::min<uint64_t>(n, waiting_for_ - pos_));
    absorb(chunk.first(n));
    chunk = chunk.subspan(n);
    if (!settled_ && pos_ >= waiting_for_) step();
  }
}

void Inspector::absorb(std::span<const std::byte> chunk) {
  const uint64_t start = pos_, end = pos_ + chunk.size();
  for (auto& c : captures_) {
    const uint64_t have = c.offset + c.bytes.size(), want = c.offset + c.wanted;
    if (have >= want || end <= have || start > have) continue;
    c.bytes.insert(c.bytes.end(), chunk.begin() + static_cast<ptrdiff_t>(have - start),
                   chunk.begin() + static_cast<ptrdiff_t>(std::min(want, end) - start));
  }
  const size_t keep = std::min<size_t>(chunk.size(), tail_.size());
  for (size_t i = chunk.size() - keep; i < chunk.size(); ++i) tail_[(start + i) % tail_.size()] = chunk[i];
  pos_ = end;
}

// Runs the parsers on what is captured; arranges to capture what they ask for next.
void Inspector::step() {
  auto r = detail::parse(detail::View(captures_, false));
  if (auto* v = std::get_if<Verdict>(&r)) {
    settled_ = std::move(*v);
    return;
  }
  const auto need = std::get<detail::Need>(r);
  waiting_for_ = need.offset + need.length;
  for (const auto& c : captures_)
    if (need.offset >= c.offset && waiting_for_ <= c.offset + c.wanted) return;  // on its way
  size_t captured = 0;
  for (const auto& c : captures_) captured += c.wanted;
  const std::string name(format_name(need.format));
  if (need.offset < pos_)
    settled_ = detail::refuse(need.format, name + " header points back at data that has already passed");
  else if (captured + need.length > kMaxCaptured)
    settled_ = detail::refuse(need.format, name + " header is too large to inspect");
  else
    captures_.push_back(Capture{need.offset, {}, need.length});
}

Verdict Inspector::finish() const {
  Verdict v;
  if (settled_) {
    v = *settled_;
  } else {
    auto r = detail::parse(detail::View(captures_, true));
    v = std::holds_alternative<Verdict>(r) ? std::get<Verdict>(r)
                                           : detail::refuse(std::get<detail::Need>(r).format, "header is cut short");
  }
  if (v.detected != Format::raw) return v;
  if (pos_ > tail_.size()) {  // a fixed VHD: data, then the footer as the last sector
    std::array<std::byte, 512> last{};
    for (size_t i = 0; i < last.size(); ++i) last[i] = tail_[(pos_ + i) % tail_.size()];
    if (auto footer = detail::vhd_footer(last)) return *footer;
  }
  if (pos_ > 0) v.virtual_size = static_cast<int64_t>(pos_);
  return v;
}

Verdict inspect_all(std::span<const std::byte> bytes) {
  Inspector i;
  i.feed(bytes);
  return i.finish();
}

namespace {
bool compared(std::string_view disk_format) {
  for (std::string_view f : {"raw", "qcow2", "vmdk", "vhd", "vhdx", "vdi", "iso"})
    if (disk_format == f) return true;
  return false;
}
}  // namespace

Status check_declared(std::string_view disk_format, const Verdict& v) {
  if (!v.refusal.empty()) return Error{Errc::invalid, "Image data failed the format safety check: " + v.refusal + "."};
  if (!compared(disk_format) || format_name(v.detected) == disk_format) return {};
  return Error{Errc::invalid, "Image data does not match disk_format " + std::string(disk_format) +
                                  ": it was detected as " + std::string(format_name(v.detected)) + "."};
}

std::optional<int64_t> recorded_virtual_size(std::string_view disk_format, const Verdict& v) {
  if (!compared(disk_format) || !v.refusal.empty()) return std::nullopt;
  return v.virtual_size;
}

}  // namespace glint::format
