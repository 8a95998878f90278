// Internal to shared/format: the parsers' view of the bytes captured so far, and what a parser
// returns (a verdict, or the byte range it needs next). Pure; thread-compatible.
#pragma once
#include <optional>
#include <span>
#include <variant>

#include "shared/format/format.hpp"

namespace glint::format::detail {

struct Need {
  Format format = Format::raw;  // whose header asks
  uint64_t offset = 0;
  size_t length = 0;
};
using Step = std::variant<Need, Verdict>;

// Bytes [offset, offset + length) when a capture holds them all.
class View {
 public:
  View(const std::vector<Capture>& captures, bool eof) : captures_(captures), eof_(eof) {}
  std::optional<std::span<const std::byte>> at(uint64_t offset, size_t length) const;
  bool eof() const { return eof_; }
  // The first bytes of the stream, however many have been captured (all of a short stream).
  std::span<const std::byte> prefix() const;

 private:
  const std::vector<Capture>& captures_;
  bool eof_;
};

// What a parser returns when bytes it needs are not there: wait for them, or at the end of the
// stream a refusal saying the header of `f` is cut short.
Step missing(const View& v, Format f, uint64_t offset, size_t length);
Verdict refuse(Format f, std::string why);

uint16_t le16(std::span<const std::byte> b, size_t at);
uint32_t le32(std::span<const std::byte> b, size_t at);
uint64_t le64(std::span<const std::byte> b, size_t at);
uint32_t be32(std::span<const std::byte> b, size_t at);
uint64_t be64(std::span<const std::byte> b, size_t at);
bool starts_with(std::span<const std::byte> b, std::string_view magic, size_t at = 0);

// One parser per format family; each is called with at least the first 512 bytes (or all of a
// shorter stream) in view, and again with more once the range it asked for has arrived.
// The whole decision: which format, then that format's parser.
Step parse(const View& v);
Step parse_qcow2(const View& v);
Step parse_vmdk(const View& v);
Step parse_vhd(const View& v);
Step parse_vhdx(const View& v);
// A VHD footer (the first or the last sector): the verdict it gives, nullopt if it is not one.
std::optional<Verdict> vhd_footer(std::span<const std::byte> sector);

}  // namespace glint::format::detail
