// Journal records: a metadata write that could not reach the database, as bytes on disk.
// Framing (little-endian): "GJR1", payload length u32, sequence u64, XXH3-64 of sequence and
// payload u64, then the payload (JSON: kind, at, body). A torn tail or a flipped bit fails the
// checksum; decode() skips to the next good frame and counts what it skipped. Pure; thread-safe.
#pragma once
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "shared/core/clock.hpp"

namespace glint::journal {

// What a record asks the database to do again; each is a compare-and-set on the database side,
// so replaying an old record never overwrites a newer fact.
enum class Kind { replica_state, replica_copy, verified, orphan, worker_pass };
std::string_view kind_name(Kind k);
std::optional<Kind> parse_kind(std::string_view s);

struct Record {
  uint64_t seq = 0;
  Kind kind = Kind::replica_state;
  std::chrono::system_clock::time_point at{};
  nlohmann::json body;
};

inline constexpr size_t kHeaderBytes = 24;
inline constexpr size_t kMaxPayload = 1 << 20;

std::vector<std::byte> encode(const Record& r);

struct Frame {
  Record record;
  uint64_t offset = 0;  // where its frame starts
  uint64_t end = 0;     // where the next frame starts
};

struct Decoded {
  std::vector<Frame> frames;
  uint64_t corrupt = 0;   // stretches of bytes skipped because no good frame started there
  uint64_t good_end = 0;  // end of the last good frame (a writer's next append starts here)
  bool partial_tail = false;  // the bytes end inside a frame (a write in progress, or torn)
};

// Frames in bytes[0..]; `base` is the file offset of bytes[0]. `final`: no writer appends any more,
// so a frame cut short is damage to skip past (else it may be a write in progress: stop there).
Decoded decode(std::span<const std::byte> bytes, uint64_t base = 0, bool final = false);

}  // namespace glint::journal
