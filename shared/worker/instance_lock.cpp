// The lock file is never removed: unlinking a locked file would let a newcomer lock a fresh inode
// while an old holder still holds the unlinked one. The pid inside is only informative.
#include "shared/worker/instance_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace glint::worker {

namespace {

bool plain_component(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\0') == std::string::npos;
}

std::string errno_text(int e) { return std::error_code(e, std::generic_category()).message(); }

// The holder's pid as written in the file, or empty if it has not been written yet.
std::string read_holder(int fd) {
  char buf[32] = {};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return {};
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

InstanceLock::InstanceLock(InstanceLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

InstanceLock& InstanceLock::operator=(InstanceLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

InstanceLock::~InstanceLock() { release(); }

void InstanceLock::release() {
  if (fd_ >= 0) ::close(fd_);  // closing the only descriptor drops the flock
  fd_ = -1;
}

Expected<InstanceLock> acquire_instance_lock(const std::string& dir, const std::string& node,
                                             const std::string& worker) {
  if (!plain_component(node) || !plain_component(worker)) {
    return Error{Errc::invalid, "instance lock: node and worker must be plain names, got '" + node + "', '" +
                                    worker + "'"};
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{Errc::io_error, "instance lock: cannot create " + dir + ": " + ec.message()};
  std::string path = (std::filesystem::path(dir) / (node + "." + worker + ".lock")).string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Error{Errc::io_error, "instance lock: cannot open " + path + ": " + errno_text(errno)};
  // Locks belong to the open file description, so a second open in this same process conflicts too.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    const std::string holder = e == EWOULDBLOCK ? read_holder(fd) : std::string();
    ::close(fd);
    if (e != EWOULDBLOCK) return Error{Errc::io_error, "instance lock: flock " + path + ": " + errno_text(e)};
    return Error{Errc::conflict, "another " + worker + " for node " + node + " is running (" + path + " held by pid " +
                                     (holder.empty() ? std::string("unknown") : holder) + ")"};
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int e = errno;
    ::close(fd);
    return Error{Errc::io_error, "instance lock: cannot write " + path + ": " + errno_text(e)};
  }
  return InstanceLock(fd, std::move(path));
}

}  // namespace glint::worker
