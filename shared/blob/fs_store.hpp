// Internal classes of the filesystem blob store (see blob_store.hpp for the contract).
// Layout under data_dir:
//   LOCK                                  flock(LOCK_EX) held for the store's lifetime
//   objects/<id[0:2]>/<id[2:4]>/<id>      the blob's bytes verbatim
//   objects/<id[0:2]>/<id[2:4]>/<id>.meta its sidecar (sidecar.hpp)
//   tmp/<id>.<random>.tmp, .meta.tmp      uploads in progress
//   quarantine/<id>.<unix-seconds>[.meta|.reason]
// A blob is visible only once its data file has its final name; the sidecar is renamed into place
// first, so a visible data file always has its sidecar. A sidecar without data is an orphan from a
// crash and is ignored (and removed by cleanup_temp()).
// The store must outlive every writer and reader it hands out.
#pragma once
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "shared/blob/blob_store.hpp"
#include "shared/blob/fs_util.hpp"
#include "shared/blob/mapped_file.hpp"
#include "shared/blob/sidecar.hpp"
#include "shared/hash/hash.hpp"

namespace glint::blob {

// Frees aligned_alloc'ed memory (direct-I/O staging buffers).
struct AlignedFree {
  void operator()(std::byte* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<std::byte, AlignedFree>;

// objects/<aa>/<bb> of `id` under a data directory's objects/ (the one layout of every store), and
// the paths of its data file and sidecar there.
std::string shard_dir_in(const std::string& objects_dir, const std::string& id);
inline std::string data_path_in(const std::string& objects_dir, const std::string& id) {
  return shard_dir_in(objects_dir, id) + "/" + id;
}
inline std::string meta_path_of(const std::string& data_path) { return data_path + ".meta"; }

// One node's data directory. Thread-safe: the only shared mutable state is the set of ids being
// uploaded, guarded by mu_; everything else relies on atomic renames.
class FsBlobStore final : public BlobStore {
 public:
  FsBlobStore(FsOptions opts, fsutil::UniqueFd lock_fd);
  ~FsBlobStore() override = default;
  using BlobStore::create;
  using BlobStore::remove;

  Expected<std::unique_ptr<BlobWriter>> create(const std::string& id, std::optional<uint64_t> expected_size,
                                               const WriteConditions& cond) override;
  Expected<std::unique_ptr<BlobReader>> open(const std::string& id) override;
  Expected<BlobInfo> stat(const std::string& id) override;
  Status remove(const std::string& id, const std::optional<hash::Digest128>& if_digest) override;
  Status quarantine(const std::string& id, const std::string& reason) override;
  Status quarantine_if(const std::string& id, uint64_t file_id, const std::string& reason) override;
  SpaceInfo space() override;
  std::vector<std::string> list() override;
  size_t cleanup_temp() override;
  size_t cleanup_stale_temp(std::chrono::seconds older_than) override;

  // For writers.
  const FsOptions& options() const { return opts_; }
  const std::string& tmp_dir() const { return tmp_dir_; }
  std::string shard_dir(const std::string& id) const;
  std::string data_path(const std::string& id) const { return data_path_in(objects_dir_, id); }
  std::string meta_path(const std::string& id) const { return meta_path_of(data_path(id)); }
  // Creates objects/<aa>/<bb> for `id` if missing (fsyncing parents of new directories).
  Status ensure_shard_dir(const std::string& id);
  // Ends the upload reservation taken by create().
  void release_upload(const std::string& id);
  // For a verified replacement: moves the committed blob `id` to quarantine if its digest is
  // `digest` (ok also when there is none); conflict if it holds other bytes.
  Status retire_for_replace(const std::string& id, const hash::Digest128& digest);
  // Direct-I/O staging buffers of `bytes` (aligned), kept for the next upload: a fresh 2 MiB
  // mapping per upload costs page faults that dominated small uploads. nullptr if out of memory.
  AlignedBuffer take_staging(size_t bytes);
  void give_staging(AlignedBuffer b);

 private:
  // multi_process: takes claims/<id> for this process (mu_ held); conflict when another holds it.
  Status claim_locked(const std::string& id);
  // Whether an upload of `id` is live here or, multi_process, in another process (mu_ held).
  bool live_locked(const std::string& id);
  // Moves data + sidecar to quarantine (mu_ held); returns the destination base path.
  Expected<std::string> move_to_quarantine_locked(const std::string& id);
  Status write_quarantine_reason(const std::string& id, const std::string& dest, const std::string& reason);
  // The committed blob's digest (mu_ held): not_found, corrupt (bad sidecar) or the digest.
  Expected<hash::Digest128> digest_locked(const std::string& id);

  FsOptions opts_;
  std::string objects_dir_;
  std::string tmp_dir_;
  std::string quarantine_dir_;
  fsutil::UniqueFd lock_fd_;
  std::mutex mu_;
  std::unordered_set<std::string> uploading_;  // ids with a live writer in this process
  // multi_process: the flocked claims/<id> of this process's live writers.
  std::unordered_map<std::string, fsutil::UniqueFd> claims_;
  std::vector<AlignedBuffer> staging_free_;     // at most kMaxFreeStaging
};

// An upload into tmp/. Single-threaded; holds a reservation for its id in the store until it
// commits, aborts or is destroyed. Any failed write() or commit() aborts it (temp files removed).
class FsBlobWriter final : public BlobWriter {
 public:

  FsBlobWriter(FsBlobStore& store, std::string id, std::optional<uint64_t> expected_size, std::string tmp_path,
               fsutil::UniqueFd fd, uint64_t free_bytes, bool direct, WriteConditions cond);
  ~FsBlobWriter() override;

  Status write(std::span<const std::byte> data) override;
  Expected<BlobInfo> commit() override;
  Expected<BlobInfo> commit_expecting(const hash::Digest128& digest) override {
    cond_.expect_digest = digest;
    return commit();
  }
  void abort() override;
  uint64_t bytes_written() const override { return written_; }
  std::string temp_path() const override { return tmp_path_; }

 private:
  Status check_space(uint64_t n);
  void hash_blocks(std::span<const std::byte> data);
  Expected<BlobInfo> publish();
  Status write_sidecar(const Sidecar& sc);
  Status place_sidecar();
  Status place_data();
  Status append(std::span<const std::byte> data);  // to the file, through the staging buffer if direct
  Status flush_tail();                              // the staged remainder (direct I/O only)

  FsBlobStore& store_;
  std::string id_;
  std::optional<uint64_t> expected_size_;
  WriteConditions cond_;
  std::string tmp_path_;
  std::string meta_tmp_path_;
  fsutil::UniqueFd fd_;
  bool finished_ = false;
  uint64_t written_ = 0;
  uint64_t free_at_check_ = 0;       // statvfs free bytes at the last check
  uint64_t written_since_check_ = 0;
  uint64_t flushed_to_ = 0;  // bytes handed to writeback with sync_file_range
  uint64_t block_fill_ = 0;          // bytes of the current block hashed so far
  hash::Xxh64Stream block_hash_;
  hash::Xxh128Stream blob_hash_;
  std::vector<uint64_t> block_hashes_;
  // O_DIRECT needs aligned buffers, offsets and lengths: bytes are staged and written in whole
  // aligned chunks; the tail is written padded and the file truncated to its real size.
  const bool direct_;
  AlignedBuffer staging_;
  size_t staged_ = 0;
};

// A verified reader over one committed blob. Single-threaded.
class FsBlobReader final : public BlobReader {
 public:
  // direct_fd: the same file opened with O_DIRECT (invalid: buffered reads only). mapped:
  // verify_block() hashes the file's pages in place (the file is mapped at its first call).
  FsBlobReader(std::string path, fsutil::UniqueFd fd, Sidecar sidecar, fsutil::UniqueFd direct_fd = {},
               bool mapped = false);
  const BlobInfo& info() const override { return sidecar_.info; }
  Expected<std::span<const std::byte>> read_block(uint64_t index, std::vector<std::byte>& buf) override;
  Expected<size_t> verify_block(uint64_t index, std::vector<std::byte>& buf) override;
  uint64_t file_id() const override { return file_id_; }
  int data_fd() const override { return fd_.get(); }

 private:
  // Reads len bytes at offset into buf (grown as needed); the bytes may start at an aligned
  // address inside buf. Shorter than len only at the end of the file.
  Expected<std::span<std::byte>> read_at(std::vector<std::byte>& buf, size_t len, uint64_t offset);
  // Where block `index` lies: {offset, length}, or invalid when past the last block.
  Expected<std::pair<uint64_t, size_t>> extent(uint64_t index) const;
  Error mismatch(uint64_t index) const;    // corrupt: the block's bytes disagree with the sidecar
  Error short_read(uint64_t index) const;  // corrupt: the file is shorter than the sidecar says

  std::string path_;
  fsutil::UniqueFd fd_;
  uint64_t file_id_ = 0;  // inode of fd_
  Sidecar sidecar_;
  fsutil::UniqueFd direct_fd_;
  bool direct_ = false;   // reading through direct_fd_
  bool advised_ = false;  // posix_fadvise(SEQUENTIAL) given for fd_
  bool mapped_ = false;   // verify_block through map_ (false again if mmap fails)
  std::optional<MappedFile> map_;
};


// A committed blob of a data directory that another process owns (a glint-store on this machine):
// no lock is taken and nothing is written, so the owner's writes, replacements and quarantines go
// on as before; open_blob's checks hold (data and sidecar of one inode, sizes agree) and every
// block is verified when read. Buffered reads.
Expected<std::unique_ptr<BlobReader>> open_foreign_blob(const std::string& data_dir, const std::string& id);

// The invalid-argument error for a non-canonical id (quotes a sanitized prefix of it).
Error invalid_id_error(const std::string& id);

// Opens data + sidecar of a committed blob and checks they agree (not_found / corrupt / io_error).
// mode: how its blocks are read (ReadMode; direct only where the filesystem allows O_DIRECT).
Expected<std::unique_ptr<FsBlobReader>> open_blob(const std::string& data_path, const std::string& meta_path,
                                                  ReadMode mode = ReadMode::buffered);

}  // namespace glint::blob
