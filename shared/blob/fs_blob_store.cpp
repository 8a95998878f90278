// The filesystem blob store: opening/locking the data directory, uploads, lookups and removal.
// Maintenance walks (list, cleanup_temp, quarantine) live in fs_blob_maintenance.cpp.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "shared/blob/fs_store.hpp"
#include "shared/core/uuid.hpp"

namespace glint::blob {

namespace {

// 16 hex characters from the CSPRNG, so temp names never collide between writers.
std::string random_suffix() {
  std::string u = random_uuid();
  u.erase(std::remove(u.begin(), u.end(), '-'), u.end());
  return u.substr(0, 16);
}

}  // namespace

Error invalid_id_error(const std::string& id) {
  // Quote at most a short, sanitized prefix: the id comes from a client.
  std::string shown;
  for (char c : id.substr(0, 40)) shown.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return Error{Errc::invalid, "invalid image id \"" + shown + "\": not a canonical lower-case UUID"};
}

FsBlobStore::FsBlobStore(FsOptions opts, fsutil::UniqueFd lock_fd)
    : opts_(std::move(opts)),
      objects_dir_(opts_.data_dir + "/objects"),
      tmp_dir_(opts_.data_dir + "/tmp"),
      quarantine_dir_(opts_.data_dir + "/quarantine"),
      lock_fd_(std::move(lock_fd)) {}

std::string shard_dir_in(const std::string& objects_dir, const std::string& id) {
  return objects_dir + "/" + id.substr(0, 2) + "/" + id.substr(2, 2);
}

std::string FsBlobStore::shard_dir(const std::string& id) const { return shard_dir_in(objects_dir_, id); }

Expected<std::unique_ptr<BlobReader>> open_foreign_blob(const std::string& data_dir, const std::string& id) {
  if (!is_canonical_uuid(id)) return invalid_id_error(id);
  const std::string data = data_path_in(data_dir + "/objects", id);
  auto reader = open_blob(data, meta_path_of(data));
  if (!reader) return reader.error();
  return std::unique_ptr<BlobReader>(std::move(reader.value()));
}

Status FsBlobStore::ensure_shard_dir(const std::string& id) {
  const std::string outer = objects_dir_ + "/" + id.substr(0, 2);
  bool created = false;
  if (Status s = fsutil::make_dir(outer, created); !s) return s;
  if (created && opts_.fsync) {
    if (Status s = fsutil::fsync_dir(objects_dir_); !s) return s;
  }
  if (Status s = fsutil::make_dir(shard_dir(id), created); !s) return s;
  if (created && opts_.fsync) return fsutil::fsync_dir(outer);
  return {};
}

void FsBlobStore::release_upload(const std::string& id) {
  std::lock_guard lk(mu_);
  uploading_.erase(id);
  claims_.erase(id);  // closing the descriptor releases the flock
}

Status FsBlobStore::claim_locked(const std::string& id) {
  const std::string path = opts_.data_dir + "/claims/" + id;
  fsutil::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return fsutil::sys_error(Errc::io_error, "open", path, errno);
  int rc;
  do {
    rc = ::flock(fd.get(), LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == EWOULDBLOCK) return Status(Errc::conflict, "an upload of " + id + " is in progress in another process");
    return fsutil::sys_error(Errc::io_error, "flock", path, errno);
  }
  claims_[id] = std::move(fd);
  return {};
}

bool FsBlobStore::live_locked(const std::string& id) {
  if (uploading_.count(id) != 0) return true;
  if (!opts_.multi_process) return false;
  fsutil::UniqueFd fd(::open((opts_.data_dir + "/claims/" + id).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;  // never claimed: no upload anywhere
  // Free if we can take it (closing fd gives it back at once).
  return ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0;
}

Expected<std::unique_ptr<BlobWriter>> FsBlobStore::create(const std::string& id,
                                                          std::optional<uint64_t> expected_size,
                                                          const WriteConditions& cond) {
  if (!is_canonical_uuid(id)) return invalid_id_error(id);
  if (opts_.shared) return Error{Errc::invalid, "blob store opened shared (read-only): " + opts_.data_dir};
  auto sp = fsutil::fs_space(opts_.data_dir);
  if (!sp) return sp.error();
  if (expected_size && (sp->free < *expected_size || sp->free - *expected_size < opts_.reserve_bytes)) {
    return Error{Errc::no_space, "storing " + std::to_string(*expected_size) + " bytes for " + id +
                                     " would cross the free-space reserve of " + std::to_string(opts_.reserve_bytes) +
                                     " bytes in " + opts_.data_dir};
  }
  {
    std::lock_guard lk(mu_);
    if (uploading_.count(id) != 0) return Error{Errc::conflict, "an upload of " + id + " is already in progress"};
    if (cond.replace_digest) {
      auto current = digest_locked(id);
      if (current && *current != *cond.replace_digest)
        return Error{Errc::conflict, "blob " + id + " holds other bytes than the copy to replace"};
    } else if (fsutil::exists(data_path(id))) {
      return Error{Errc::conflict, "blob " + id + " already exists"};
    }
    if (opts_.multi_process) {
      if (Status c = claim_locked(id); !c) return c.error();
      // Another process may have published it before we held the claim.
      if (!cond.replace_digest && fsutil::exists(data_path(id))) {
        claims_.erase(id);
        return Error{Errc::conflict, "blob " + id + " already exists"};
      }
    }
    uploading_.insert(id);
  }
  std::string tmp;
  fsutil::UniqueFd fd;
  int err = 0;
  bool direct = opts_.direct_io;
  for (int attempt = 0; attempt < 4 && !fd.valid(); ++attempt) {
    tmp = tmp_dir_ + "/" + id + "." + random_suffix() + ".tmp";
    fd = fsutil::UniqueFd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | (direct ? O_DIRECT : 0), 0644));
    err = errno;
    if (!fd.valid() && err == EINVAL && direct) {  // e.g. tmpfs: no O_DIRECT, fall back to buffered
      direct = false;
      continue;
    }
    if (!fd.valid() && err != EEXIST) break;
  }
  if (!fd.valid()) {
    release_upload(id);
    return fsutil::sys_error(Errc::io_error, "create", tmp, err);
  }
  return std::unique_ptr<BlobWriter>(
      std::make_unique<FsBlobWriter>(*this, id, expected_size, std::move(tmp), std::move(fd), sp->free, direct, cond));
}

Expected<std::unique_ptr<BlobReader>> FsBlobStore::open(const std::string& id) {
  if (!is_canonical_uuid(id)) return invalid_id_error(id);
  auto reader = open_blob(data_path(id), meta_path(id), opts_.reads);
  if (!reader) return reader.error();
  return std::unique_ptr<BlobReader>(std::move(reader.value()));
}

Expected<BlobInfo> FsBlobStore::stat(const std::string& id) {
  auto reader = open(id);
  if (!reader) return reader.error();
  return (*reader)->info();
}

Status FsBlobStore::remove(const std::string& id, const std::optional<hash::Digest128>& if_digest) {
  if (!is_canonical_uuid(id)) return invalid_id_error(id);
  {
    // Under mu_ so an upload of the same id cannot publish between the check and the unlinks.
    std::lock_guard lk(mu_);
    if (if_digest) {
      auto current = digest_locked(id);
      if (!current && current.code() != Errc::corrupt) return current.error();
      if (current && *current != *if_digest) return Status(Errc::conflict, "blob " + id + " holds other bytes");
    }
    const std::string data = data_path(id);
    if (::unlink(data.c_str()) != 0) {
      return fsutil::sys_error(errno == ENOENT ? Errc::not_found : Errc::io_error, "remove", data, errno);
    }
    const std::string meta = meta_path(id);
    if (::unlink(meta.c_str()) != 0 && errno != ENOENT) return fsutil::sys_error(Errc::io_error, "remove", meta, errno);
  }
  return opts_.fsync ? fsutil::fsync_dir(shard_dir(id)) : Status();
}

Expected<hash::Digest128> FsBlobStore::digest_locked(const std::string& id) {
  auto reader = open_blob(data_path(id), meta_path(id));
  if (!reader) return reader.error();
  return (*reader)->info().digest;
}

Status FsBlobStore::retire_for_replace(const std::string& id, const hash::Digest128& digest) {
  std::string dest;
  {
    std::lock_guard lk(mu_);
    auto current = digest_locked(id);
    if (!current && current.code() == Errc::not_found) return {};  // gone meanwhile: nothing to retire
    if (current && *current != digest) return Status(Errc::conflict, "blob " + id + " holds other bytes");
    // A blob whose sidecar is unreadable is retired too: it is the copy the caller examined.
    auto moved = move_to_quarantine_locked(id);
    if (!moved) return moved.error();
    dest = *moved;
  }
  return write_quarantine_reason(id, dest, "replaced by a verified copy");
}

SpaceInfo FsBlobStore::space() {
  SpaceInfo info;
  info.reserve = opts_.reserve_bytes;
  if (auto sp = fsutil::fs_space(opts_.data_dir)) {
    info.capacity = sp->capacity;
    info.free = sp->free;
  }
  return info;  // zeros if statvfs failed: nothing can be promised
}

namespace {
constexpr size_t kMaxFreeStaging = 4;
constexpr size_t kStagingAlign = 4096;
}  // namespace

AlignedBuffer FsBlobStore::take_staging(size_t bytes) {
  {
    std::lock_guard lk(mu_);
    if (!staging_free_.empty()) {
      AlignedBuffer b = std::move(staging_free_.back());
      staging_free_.pop_back();
      return b;
    }
  }
  return AlignedBuffer(static_cast<std::byte*>(std::aligned_alloc(kStagingAlign, bytes)));
}

void FsBlobStore::give_staging(AlignedBuffer b) {
  std::lock_guard lk(mu_);
  if (staging_free_.size() < kMaxFreeStaging) staging_free_.push_back(std::move(b));
}

Expected<std::unique_ptr<BlobStore>> open_fs_store(const FsOptions& opts) {
  if (opts.data_dir.empty()) return Error{Errc::invalid, "blob store: data_dir is empty"};
  if (opts.block_size == 0) return Error{Errc::invalid, "blob store: block_size must be > 0"};
  for (const char* sub : {"", "/objects", "/tmp", "/quarantine", "/claims"}) {
    if (std::string_view(sub) == "/claims" && !opts.multi_process) continue;
    if (Status s = fsutil::make_dirs(opts.data_dir + sub, opts.fsync); !s) {
      return Error{Errc::io_error, "blob store: " + s.message()};
    }
  }
  if (opts.shared) return std::unique_ptr<BlobStore>(std::make_unique<FsBlobStore>(opts, fsutil::UniqueFd()));
  const std::string lock_path = opts.data_dir + "/LOCK";
  fsutil::UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock.valid()) return fsutil::sys_error(Errc::io_error, "open", lock_path, errno);
  int rc;
  do {
    rc = ::flock(lock.get(), (opts.multi_process ? LOCK_SH : LOCK_EX) | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == EWOULDBLOCK) {
      return Error{Errc::io_error, "data directory locked by another process: " + opts.data_dir};
    }
    return fsutil::sys_error(Errc::io_error, "flock", lock_path, errno);
  }
  return std::unique_ptr<BlobStore>(std::make_unique<FsBlobStore>(opts, std::move(lock)));
}

}  // namespace glint::blob
