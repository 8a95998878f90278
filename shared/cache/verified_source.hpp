// A verified body over a committed blob file (a cache entry, or a local store's copy read in
// place): each block is checked against its sidecar hash before any of its bytes are handed out,
// and a plain-TCP server sends them with sendfile from the same descriptor (FileBody). The file is
// immutable (a new copy is a new file), so the pages verified are the pages sent. A corrupt block
// is reported once and the rest of the range comes from a fallback at that offset: the client
// still gets the right bytes. Single-threaded (one response).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "shared/blob/blob_store.hpp"
#include "shared/blob/read_ahead.hpp"
#include "shared/http/message.hpp"

namespace glint::cache {

// Where bytes come from when a file cannot serve them: bytes [first, last] of the image from the
// storage nodes (in glint-api a FailoverSource), or the error that no node can deliver them.
using Upstream = std::function<Expected<std::unique_ptr<http::BodySource>>(uint64_t first, uint64_t last)>;

struct VerifiedHooks {
  std::function<void(uint64_t file_id, const std::string& why)> on_corrupt;  // once, before the fallback
  std::function<void(uint64_t bytes)> on_bytes;                             // verified bytes handed out
};

class VerifiedSource final : public http::BodySource, public http::FileBody {
 public:
  // read_ahead: the next blocks are read and verified on a helper thread (blob::ReadAhead, four
  // blocks of memory) while the current one is sent, for files that may not be in the page cache;
  // without, each block is read when it is asked for (a cache entry: mostly in memory, and a boot
  // storm of hot downloads holds one block per client).
  VerifiedSource(std::unique_ptr<blob::BlobReader> reader, uint64_t first, uint64_t last, Upstream fallback,
                 VerifiedHooks hooks, bool read_ahead = false);
  Expected<std::span<const std::byte>> next() override;
  Expected<http::FileRange> next_range() override;
  // Without read-ahead a block is verified in memory (and a fallback's bytes are byte ranges).
  bool verify_ahead() const override { return !ahead_ && !rest_; }

 private:
  // The next verified piece (empty at the end); after a corrupt block, the fallback's first chunk.
  Expected<std::span<const std::byte>> verified();
  // Reads and verifies the block at pos_ into buf: the part inside the range (the helper thread's
  // with read_ahead). Reports nothing: verified() does, on the consumer's thread.
  Expected<std::span<const std::byte>> fill(std::vector<std::byte>& buf);

  std::unique_ptr<blob::BlobReader> reader_;
  uint64_t pos_;   // next byte to read (fill's)
  uint64_t sent_;  // next byte to hand out (the consumer's)
  const uint64_t end_;
  Upstream fallback_;
  VerifiedHooks hooks_;
  std::vector<std::byte> buf_;
  std::unique_ptr<http::BodySource> rest_;  // the fallback, after a corrupt block
  std::unique_ptr<blob::ReadAhead> ahead_;  // last: its thread stops before the members it uses go
};

}  // namespace glint::cache
