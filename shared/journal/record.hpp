// Journal records: a metadata write that could not reach the database, as bytes on disk.
// Framing (little-endian): "GJR1", payload length u32, sequence u64, XXH3-64 of sequence and
// payload u64, then the payload (JSON: kind, at, body). A torn tail or a flipped bit fails the
// checksum; decode() skips to the next good frame and counts what it skipped. Pure; thread-safe.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
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

// Frames read from a source in bounded memory (at most one largest frame buffered), so a journal of
// any length replays in constant memory; decode() is its whole-buffer form. `base` is the file
// offset of the source's first byte. `final`: no writer appends any more, so a frame cut short is
// damage to skip past (else it may be a write in progress: stop there). Not thread-safe.
class FrameReader {
 public:
  // Fills out[0..max) with the next bytes; returns how many, 0 at the end.
  using Source = std::function<size_t(std::byte* out, size_t max)>;
  FrameReader(Source source, uint64_t base, bool final);

  std::optional<Frame> next();  // nullopt: no further frame (the end, or a partial tail)

  uint64_t corrupt() const { return corrupt_; }
  uint64_t good_end() const { return good_end_; }
  bool partial_tail() const { return partial_tail_; }
  uint64_t scanned_end() const { return base_ + consumed_ + pos_; }  // where reading stopped

 private:
  void fill(size_t want);

  Source source_;
  bool final_;
  uint64_t base_;
  std::vector<std::byte> buf_;
  size_t pos_ = 0;         // next byte to look at in buf_
  uint64_t consumed_ = 0;  // bytes dropped from the front of buf_ so far
  bool eof_ = false;
  bool skipping_ = false;  // inside a damaged stretch (counted once however long)
  uint64_t corrupt_ = 0;
  uint64_t good_end_;
  bool partial_tail_ = false;
};

// All frames in bytes[0..] (FrameReader over a buffer).
Decoded decode(std::span<const std::byte> bytes, uint64_t base = 0, bool final = false);

}  // namespace glint::journal
