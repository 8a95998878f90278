// A verified body over a committed blob file (a storage node's GET, a cache entry, a local store's
// copy read in place by an API node): each block is checked against its sidecar hash before any
// of its bytes are handed out, and a plain-TCP server sends them with sendfile from the same
// descriptor (FileBody), verified in place where the reader maps the file
// (BlobReader::verify_block). The file is immutable (a new copy is a new file), so the pages
// verified are the pages sent. A corrupt block is reported once, and the rest of the range comes
// from the fallback at that offset when there is one (also after a block that cannot be read): the
// client still gets the right bytes. Single-threaded (one response).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "shared/blob/blob_store.hpp"
#include "shared/blob/read_ahead.hpp"
#include "shared/core/buffer_pool.hpp"
#include "shared/http/message.hpp"

namespace glint::blob {

// Where bytes come from when a file cannot serve them: bytes [first, last] of the image from
// elsewhere (in glint-api the storage nodes, a FailoverSource), or the error that none can.
using RangeFallback = std::function<Expected<std::unique_ptr<http::BodySource>>(uint64_t first, uint64_t last)>;

struct VerifiedHooks {
  // once, on the consumer's thread, before the fallback (file_id: BlobReader::file_id)
  std::function<void(uint64_t file_id, const std::string& why)> on_corrupt;
  std::function<void(uint64_t bytes)> on_bytes;                             // verified bytes handed out
};

class VerifiedSource final : public http::BodySource, public http::FileBody {
 public:
  // read_ahead: the next blocks are read and verified on a helper thread (ReadAhead, four blocks
  // of memory, from `buffers` when given) while the current one is sent, for files that may not
  // be in the page cache; without, each block is read (or verified in place) when it is asked for
  // (a cache entry: mostly in memory, and a boot storm of hot downloads holds one block per client).
  // fallback may be empty: then a corrupt block ends the body with its error.
  VerifiedSource(std::unique_ptr<BlobReader> reader, uint64_t first, uint64_t last, RangeFallback fallback,
                 VerifiedHooks hooks, bool read_ahead = false, BufferPool* buffers = nullptr);
  Expected<std::span<const std::byte>> next() override;
  Expected<http::FileRange> next_range() override;
  // Without read-ahead a block is verified in place or in memory, never waiting on another thread
  // (and a fallback's bytes are byte ranges).
  bool verify_ahead() const override { return !ahead_ && !rest_; }

 private:
  // A verified part of the range: its length, and its bytes unless it was verified in place.
  struct Piece {
    uint64_t length = 0;
    std::span<const std::byte> bytes;
  };
  // The next verified piece (length 0 at the end); after a corrupt block, the fallback's first
  // chunk. in_place: the caller sends the file's bytes itself (sendfile) and needs none.
  Expected<Piece> verified(bool in_place);
  // The next piece as read: from the read-ahead thread, or filled here.
  Expected<Piece> take(bool in_place);
  // Reads and verifies the block at pos_ into buf (or only verifies it, in_place): the part inside
  // the range (the helper thread's with read_ahead). Reports nothing: verified() does, on the
  // consumer's thread.
  Expected<Piece> fill(std::vector<std::byte>& buf, bool in_place);

  std::unique_ptr<BlobReader> reader_;
  uint64_t pos_;   // next byte to read (fill's)
  uint64_t sent_;  // next byte to hand out (the consumer's)
  const uint64_t end_;
  RangeFallback fallback_;
  VerifiedHooks hooks_;
  std::vector<std::byte> buf_;
  std::unique_ptr<http::BodySource> rest_;  // the fallback, after a corrupt block
  std::unique_ptr<ReadAhead> ahead_;  // last: its thread stops before the members it uses go
};

}  // namespace glint::blob
