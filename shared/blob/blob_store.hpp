// Blob store seam: one node's data directory. A blob is the image's bytes verbatim in a file named
// by the image id under a sharded directory, plus a sidecar (size, block size, per-block XXH3,
// whole-blob XXH3-128). Writes are crash-safe (temp, fsync, rename, fsync dir); reads verify every
// block. Implementations are thread-safe; writers/readers are single-threaded objects.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "shared/core/result.hpp"
#include "shared/hash/hash.hpp"

namespace glint::blob {

struct BlobInfo {
  uint64_t size = 0;
  uint32_t block_size = 0;
  uint64_t block_count = 0;  // ceil(size / block_size); 0 for an empty blob
  hash::Digest128 digest{};  // XXH3-128 of all bytes
};

struct SpaceInfo {
  uint64_t capacity = 0;  // filesystem size in bytes
  uint64_t free = 0;      // bytes available to us
  uint64_t reserve = 0;   // configured free-space reserve
};

// An upload in progress into a temp file. Destroying an uncommitted writer removes the temp file.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  // Appends bytes. no_space if the write would cross the free-space reserve (nothing more is written);
  // too_large if more than the declared expected size arrives.
  virtual Status write(std::span<const std::byte> data) = 0;
  // fsync, write sidecar, rename into place, fsync directory. invalid if the expected size was not
  // reached; conflict if a blob with this id appeared meanwhile. The writer is finished either way.
  virtual Expected<BlobInfo> commit() = 0;
  // commit() of bytes whose XXH3-128 is known only at the end (refused as corrupt, nothing kept,
  // when it differs): what WriteConditions::expect_digest does for a digest known at create().
  // Stores that cannot check before publishing refuse (invalid) and keep nothing.
  virtual Expected<BlobInfo> commit_expecting(const hash::Digest128& digest) {
    (void)digest;
    abort();
    return Error{Errc::invalid, "this store cannot check a digest at commit"};
  }
  // Removes the temp file (idempotent).
  virtual void abort() = 0;
  virtual uint64_t bytes_written() const = 0;
  // The file the bytes go to while the upload runs, for a reader that follows it as it grows (the
  // image cache's followers); written bytes are readable there at once unless the writes are
  // direct. Empty when the store has no such file.
  virtual std::string temp_path() const { return {}; }
};

// A verified reader over one committed blob (keeps the file open, so a concurrent delete does not
// disturb it).
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual const BlobInfo& info() const = 0;
  // Reads block `index` into `buf` (grown as needed; the block may start at an aligned offset
  // inside it, so use the returned span) and verifies its XXH3.
  // Returns the block's bytes (the last block may be short). corrupt (message names the block) if
  // the data disagrees with the sidecar or the file is shorter than recorded; io_error otherwise.
  virtual Expected<std::span<const std::byte>> read_block(uint64_t index, std::vector<std::byte>& buf) = 0;
  // Which file this reader has open (stable while the file exists): a finding about these bytes
  // may act only on this file, never on a copy that replaced it under the same name.
  virtual uint64_t file_id() const = 0;
  // A buffered descriptor of the file (for sendfile of verified blocks); -1 when there is none.
  virtual int data_fd() const { return -1; }
  // Verifies block `index` without handing its bytes out, for a sender that then sends them from
  // data_fd() with sendfile: the block's length, or read_block's errors. A reader that maps the
  // file (ReadMode::mapped) hashes its pages in place; others read into buf.
  virtual Expected<size_t> verify_block(uint64_t index, std::vector<std::byte>& buf) {
    auto block = read_block(index, buf);
    if (!block) return block.error();
    return block->size();
  }
};

// Conditions an upload must meet before it becomes visible.
struct WriteConditions {
  // commit() refuses (corrupt, nothing kept) bytes with another XXH3-128.
  std::optional<hash::Digest128> expect_digest;
  // Replace the committed blob if its digest is this one, instead of a conflict: the new bytes are
  // written under a temporary name and swapped in only after they are complete (and match
  // expect_digest); the old blob goes to quarantine, never deleted.
  std::optional<hash::Digest128> replace_digest;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Starts an upload. conflict if the blob exists (with replace_digest: exists with another
  // digest) or an upload of it is already in progress here; no_space if expected_size would
  // cross the reserve; invalid for a non-canonical id.
  virtual Expected<std::unique_ptr<BlobWriter>> create(const std::string& id, std::optional<uint64_t> expected_size,
                                                       const WriteConditions& cond) = 0;
  Expected<std::unique_ptr<BlobWriter>> create(const std::string& id, std::optional<uint64_t> expected_size) {
    return create(id, expected_size, WriteConditions{});
  }
  // not_found, corrupt (bad/missing sidecar), or a reader.
  virtual Expected<std::unique_ptr<BlobReader>> open(const std::string& id) = 0;
  virtual Expected<BlobInfo> stat(const std::string& id) = 0;
  // Removes blob and sidecar (fsync dir). not_found if absent; with if_digest, conflict (nothing
  // removed) when the blob's digest is another one.
  virtual Status remove(const std::string& id, const std::optional<hash::Digest128>& if_digest) = 0;
  Status remove(const std::string& id) { return remove(id, std::nullopt); }
  // Moves blob and sidecar into the quarantine directory (never deletes). not_found if absent.
  virtual Status quarantine(const std::string& id, const std::string& reason) = 0;
  // The same, only if the blob under that name is still the file a reader found bad (its
  // file_id): conflict when another copy has replaced it meanwhile (that one is left alone).
  virtual Status quarantine_if(const std::string& id, uint64_t file_id, const std::string& reason) = 0;
  virtual SpaceInfo space() = 0;
  // Ids of all committed blobs (walks the shard directories).
  virtual std::vector<std::string> list() = 0;
  // Removes temp files left by crashed writers (at start-up); returns how many.
  virtual size_t cleanup_temp() = 0;
  // While running: removes temp files of no live upload that nobody has written for `older_than`
  // (uploads cut off in ways the store did not see end); cheap: the temp directory only.
  virtual size_t cleanup_stale_temp(std::chrono::seconds older_than) = 0;
};

// How a store reads committed blobs.
enum class ReadMode {
  buffered,  // through the page cache into the caller's buffer
  // O_DIRECT where the filesystem allows it: a blob read once (an audit, a back-fill) does not
  // evict hot ones.
  direct,
  // buffered, and verify_block() hashes the file's pages where they lie (MappedFile): for files
  // read again and again from the page cache and sent with sendfile (an API node's image cache).
  mapped,
};

struct FsOptions {
  std::string data_dir;           // created if missing: objects/, tmp/, quarantine/ below it
  uint32_t block_size = 1 << 20;  // 1 MiB
  uint64_t reserve_bytes = 0;     // refuse writes that would leave less free space than this
  bool fsync = true;              // tests may turn it off; production never does
  // Uploads bypass the page cache (O_DIRECT through an aligned staging buffer) where the
  // filesystem supports it; otherwise, or when false, they are buffered writes.
  bool direct_io = true;
  // Separate from writes: downloads gain from the page cache when a blob is read again.
  ReadMode reads = ReadMode::buffered;
  // Opened beside the glint-store that owns the directory (the auditor): no LOCK is taken and
  // nothing is written except quarantine moves; create() is refused and cleanup_temp() does nothing.
  bool shared = false;
  // Opened by several processes that all write (an API node's image cache: glint-api fills it on
  // downloads, glint-prefetcher from its queue). The LOCK is shared, and an upload also holds an
  // flock on claims/<id> so that one id is written by one process at a time; the temp sweeps skip
  // uploads whose claim another process holds. Claim files stay (unlinking one would let two
  // processes lock different files of the same name).
  bool multi_process = false;
};

// Opens (and creates) a data directory. io_error if it cannot be created or locked: one process per
// data directory (flock on <data_dir>/LOCK).
// The store must outlive every writer and reader it hands out (a writer releases its upload slot in it).
Expected<std::unique_ptr<BlobStore>> open_fs_store(const FsOptions& opts);

}  // namespace glint::blob
