#include "shared/format/view.hpp"

namespace glint::format::detail {

std::optional<std::span<const std::byte>> View::at(uint64_t offset, size_t length) const {
  for (const auto& c : captures_) {
    if (offset < c.offset || offset - c.offset > c.bytes.size()) continue;
    const uint64_t rel = offset - c.offset;
    if (c.bytes.size() - rel < length) continue;
    return std::span<const std::byte>(c.bytes).subspan(rel, length);
  }
  return std::nullopt;
}

std::span<const std::byte> View::prefix() const {
  if (captures_.empty() || captures_.front().offset != 0) return {};
  return captures_.front().bytes;
}

Verdict refuse(Format f, std::string why) { return Verdict{f, std::nullopt, std::move(why)}; }

Step missing(const View& v, Format f, uint64_t offset, size_t length) {
  if (v.eof()) return refuse(f, std::string(format_name(f)) + " header is cut short (the data ends inside it)");
  return Need{f, offset, length};
}

namespace {
uint64_t get(std::span<const std::byte> b, size_t at, size_t n, bool little) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto byte = static_cast<uint64_t>(b[at + (little ? n - 1 - i : i)]);
    v = (v << 8) | byte;
  }
  return v;
}
}  // namespace

uint16_t le16(std::span<const std::byte> b, size_t at) { return static_cast<uint16_t>(get(b, at, 2, true)); }
uint32_t le32(std::span<const std::byte> b, size_t at) { return static_cast<uint32_t>(get(b, at, 4, true)); }
uint64_t le64(std::span<const std::byte> b, size_t at) { return get(b, at, 8, true); }
uint32_t be32(std::span<const std::byte> b, size_t at) { return static_cast<uint32_t>(get(b, at, 4, false)); }
uint64_t be64(std::span<const std::byte> b, size_t at) { return get(b, at, 8, false); }

bool starts_with(std::span<const std::byte> b, std::string_view magic, size_t at) {
  if (b.size() < at || b.size() - at < magic.size()) return false;
  for (size_t i = 0; i < magic.size(); ++i)
    if (static_cast<char>(b[at + i]) != magic[i]) return false;
  return true;
}

}  // namespace glint::format::detail
