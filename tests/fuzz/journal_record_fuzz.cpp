// Fuzzes the journal's frame decoder: any bytes (a torn or damaged journal file) decode without
// crashing into frames that lie inside the input, in order, each re-encoding to exactly its
// bytes; frames are found the same whether or not the file is final, and however the bytes arrive.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "shared/journal/record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  for (bool final : {false, true}) {
    const auto d = glint::journal::decode(in, 1000, final);
    uint64_t prev = 1000;
    for (const auto& f : d.frames) {
      if (f.offset < prev || f.end > 1000 + size || f.end <= f.offset) std::abort();
      prev = f.end;
      // Payload JSON may be re-serialised differently; the framing of a re-encoded record must decode to it.
      const auto again = glint::journal::encode(f.record);
      const auto back = glint::journal::decode(again);
      if (back.frames.size() != 1 || back.frames[0].record.seq != f.record.seq ||
          back.frames[0].record.kind != f.record.kind || back.frames[0].record.body.dump() != f.record.body.dump())
        std::abort();
    }
    if (d.good_end > 1000 + size) std::abort();
    // The streaming reader finds the same frames when its source hands the bytes out in pieces.
    size_t at = 0;
    glint::journal::FrameReader reader(
        [&](std::byte* out, size_t max) {
          const size_t n = std::min({max, size - at, size_t{1} + at % 7});
          if (n > 0) std::memcpy(out, data + at, n);
          at += n;
          return n;
        },
        1000, final);
    size_t k = 0;
    while (auto f = reader.next()) {
      if (k >= d.frames.size() || f->offset != d.frames[k].offset || f->end != d.frames[k].end) std::abort();
      ++k;
    }
    if (k != d.frames.size() || reader.corrupt() != d.corrupt || reader.partial_tail() != d.partial_tail) std::abort();
  }
  return 0;
}
