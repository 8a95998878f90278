// Image format inspection: what an image's bytes are (qcow2, vmdk, vhd, vhdx, vdi, iso or none of
// them, i.e. raw), their virtual size, and whether a hypervisor reading them could be led to read
// something other than the image itself (a qcow2 backing or external data file, a vmdk extent in
// another file, a vhd/vhdx parent): the CVE-2024-32498 class. Streaming and bounded: the inspector
// sees every byte once, in order, and keeps only the header ranges the formats point at
// (< 256 KiB). Not thread-safe; one per stream.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shared/core/result.hpp"

namespace glint::format {

enum class Format { raw, qcow2, vmdk, vhd, vhdx, vdi, iso };

// Glance's disk_format spelling of a detected format ("raw" when nothing was recognised).
std::string_view format_name(Format f);

struct Verdict {
  Format detected = Format::raw;
  std::optional<int64_t> virtual_size;
  // Non-empty: the bytes must not be accepted, whatever disk_format says (unsafe or malformed
  // header); says what was found.
  std::string refusal;
};

// A byte range a header points at, captured while the stream passes.
struct Capture {
  uint64_t offset = 0;
  std::vector<std::byte> bytes;  // filled up to the wanted length
  size_t wanted = 0;
};

class Inspector {
 public:
  Inspector();
  void feed(std::span<const std::byte> chunk);
  // The verdict on the header as soon as it is known (nullopt while bytes it needs are still to
  // come); a fixed VHD, whose footer is the last sector, is only known to finish().
  const std::optional<Verdict>& early() const { return settled_; }
  // The verdict once every byte has been fed.
  Verdict finish() const;
  uint64_t bytes_seen() const { return pos_; }

 private:
  void absorb(std::span<const std::byte> chunk);
  void step();

  std::vector<Capture> captures_;
  std::optional<Verdict> settled_;
  std::array<std::byte, 512> tail_{};  // the last 512 bytes seen, as a ring at pos_ % 512
  uint64_t pos_ = 0;
  uint64_t waiting_for_ = 512;  // step() again once this many bytes are in
};

// Reads a whole stream (a file, a blob) through an inspector: for the updater's back-fill.
Verdict inspect_all(std::span<const std::byte> bytes);

// The upload rule (Glance 2024+ format adherence): a declared qcow2, vmdk, vhd, vhdx, vdi or iso
// must be that format; a declared raw must be none of them (so a qcow2 can never pass as raw and
// be read as raw by one hypervisor and as qcow2 by another); ami, ari, aki, ploop and other
// passthrough formats are not compared. A refused verdict is refused whatever was declared.
// Errc::invalid with Glance's kind of message when refused.
Status check_declared(std::string_view disk_format, const Verdict& v);

// The virtual size to record for an accepted upload: the detected format's, none for
// passthrough formats.
std::optional<int64_t> recorded_virtual_size(std::string_view disk_format, const Verdict& v);

}  // namespace glint::format
