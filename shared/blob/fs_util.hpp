// POSIX file helpers for the filesystem blob store: RAII descriptors, full reads/writes that loop on
// partial transfers and EINTR, directory fsync and creation. Errors come back as glint::Status values
// whose messages carry the path and errno text. Free functions; thread-safe.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shared/core/result.hpp"

namespace glint::blob::fsutil {

// Owns one file descriptor; closes it on destruction. Single-threaded.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset();
  // Closes now and reports close(2) errors (which can carry delayed write errors).
  Status close_checked(const std::string& path);

 private:
  int fd_ = -1;
};

std::string errno_text(int err);
// "<what> <path>: <strerror>" with the given code.
Error sys_error(Errc code, std::string_view what, const std::string& path, int err);

// write(2) until everything is written. ENOSPC/EDQUOT → no_space, other failures → io_error.
Status write_all(int fd, std::span<const std::byte> data, const std::string& path);
// pread(2) up to data.size() bytes from `offset`, stopping early only at end of file. Returns the
// number of bytes read.
Expected<size_t> pread_full(int fd, std::span<std::byte> data, uint64_t offset, const std::string& path);
// Reads a whole (small) file. not_found if it does not exist; too_large beyond max_size.
Expected<std::vector<std::byte>> read_small_file(const std::string& path, size_t max_size);

// fsync(2) of a directory so that entries created or renamed in it are durable.
Status fsync_dir(const std::string& dir);
// mkdir(2) that tolerates an existing directory. Sets `created` when it made a new one.
Status make_dir(const std::string& dir, bool& created);
// Creates every missing component of `dir`, fsyncing the parent of each new one when `durable`.
Status make_dirs(const std::string& dir, bool durable);
bool exists(const std::string& path);
// Atomic rename that never replaces `to`: conflict if it exists, not_found if `from` is missing.
Status rename_noreplace(const std::string& from, const std::string& to);
// statvfs: bytes available to unprivileged users (f_bavail * f_frsize) and total (f_blocks * f_frsize).
// Plain value.
struct FsSpace {
  uint64_t capacity = 0;
  uint64_t free = 0;
};
Expected<FsSpace> fs_space(const std::string& path);

// Directory entries (names only, no "." and ".."), or an error if the directory cannot be read.
Expected<std::vector<std::string>> list_dir(const std::string& dir);
bool is_regular_file(const std::string& path);

}  // namespace glint::blob::fsutil
