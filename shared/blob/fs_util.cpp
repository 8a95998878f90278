#include "shared/blob/fs_util.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace glint::blob::fsutil {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    reset();
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

void UniqueFd::reset() {
  // close(2) must not be retried on EINTR on Linux: the descriptor is gone either way.
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status UniqueFd::close_checked(const std::string& path) {
  if (fd_ < 0) return {};
  const int rc = ::close(std::exchange(fd_, -1));
  if (rc != 0 && errno != EINTR) return sys_error(Errc::io_error, "close", path, errno);
  return {};
}

std::string errno_text(int err) { return std::system_category().message(err); }

Error sys_error(Errc code, std::string_view what, const std::string& path, int err) {
  if ((err == ENOSPC || err == EDQUOT) && code == Errc::io_error) code = Errc::no_space;
  return Error{code, std::string(what) + " " + path + ": " + errno_text(err)};
}

Status write_all(int fd, std::span<const std::byte> data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(Errc::io_error, "write", path, errno);
    }
    if (n == 0) return Status(Errc::io_error, "write " + path + ": no progress");
    data = data.subspan(static_cast<size_t>(n));
  }
  return {};
}

Expected<size_t> pread_full(int fd, std::span<std::byte> data, uint64_t offset, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pread(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(Errc::io_error, "read", path, errno);
    }
    if (n == 0) break;  // end of file
    done += static_cast<size_t>(n);
  }
  return done;
}

Expected<std::vector<std::byte>> read_small_file(const std::string& path, size_t max_size) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error(errno == ENOENT ? Errc::not_found : Errc::io_error, "open", path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error(Errc::io_error, "stat", path, errno);
  if (st.st_size < 0 || static_cast<uint64_t>(st.st_size) > max_size) {
    return Error{Errc::too_large, path + ": unexpectedly large (" + std::to_string(st.st_size) + " bytes)"};
  }
  std::vector<std::byte> buf(static_cast<size_t>(st.st_size));
  auto n = pread_full(fd.get(), buf, 0, path);
  if (!n) return n.error();
  buf.resize(*n);  // a concurrent truncation shows up as a short (then invalid) file
  return buf;
}

Status fsync_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return sys_error(Errc::io_error, "open directory", dir, errno);
  if (::fsync(fd.get()) != 0) return sys_error(Errc::io_error, "fsync directory", dir, errno);
  return {};
}

Status make_dir(const std::string& dir, bool& created) {
  created = false;
  if (::mkdir(dir.c_str(), 0755) == 0) {
    created = true;
    return {};
  }
  const int err = errno;
  struct stat st {};
  // Any error is fine if the directory is there (e.g. EACCES on an existing parent we may not write).
  if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return {};
  return sys_error(Errc::io_error, "mkdir", dir, err);
}

Status make_dirs(const std::string& dir, bool durable) {
  if (dir.empty()) return Status(Errc::invalid, "empty directory path");
  // Walk the components from the root so each parent exists before its child.
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    const std::string part = dir.substr(0, pos);
    if (part.back() == '/') continue;
    bool created = false;
    if (Status s = make_dir(part, created); !s) return s;
    if (created && durable) {
      const size_t slash = part.find_last_of('/');
      const std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : part.substr(0, slash));
      if (Status s = fsync_dir(parent); !s) return s;
    }
  }
  return {};
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Status rename_noreplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return {};
  int err = errno;
  if (err == EINVAL || err == ENOSYS) {
    // Filesystem without RENAME_NOREPLACE: link(2) fails with EEXIST just the same.
    if (::link(from.c_str(), to.c_str()) == 0) {
      ::unlink(from.c_str());
      return {};
    }
    err = errno;
  }
  if (err == EEXIST) return Status(Errc::conflict, to + " already exists");
  return sys_error(err == ENOENT ? Errc::not_found : Errc::io_error, "rename to " + to + " from", from, err);
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Expected<FsSpace> fs_space(const std::string& path) {
  struct statvfs vfs {};
  if (::statvfs(path.c_str(), &vfs) != 0) return sys_error(Errc::io_error, "statvfs", path, errno);
  return FsSpace{static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize, static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize};
}

Expected<std::vector<std::string>> list_dir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return sys_error(errno == ENOENT ? Errc::not_found : Errc::io_error, "opendir", dir, errno);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
    errno = 0;
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return sys_error(Errc::io_error, "readdir", dir, err);
  return names;
}

}  // namespace glint::blob::fsutil
