#include "shared/journal/journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace glint::journal {

namespace {
Error os_error(const std::string& what) {
  const int e = errno;
  return Error{e == ENOSPC ? Errc::no_space : Errc::io_error, what + ": " + std::strerror(e)};
}

Status fsync_dir(const std::string& dir) {
  const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0) return os_error("open " + dir);
  const int rc = ::fsync(d);
  ::close(d);
  return rc == 0 ? Status() : Status(os_error("fsync " + dir));
}
}  // namespace

Journal::Journal(std::string dir, std::string writer, const Clock& clock)
    : dir_(std::move(dir)), writer_(std::move(writer)), clock_(clock) {}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

uint64_t Journal::appended() const {
  std::lock_guard lk(mu_);
  return seq_;
}

Status Journal::open_file() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return Error{Errc::io_error, "create " + dir_ + ": " + ec.message()};
  ::chmod(dir_.c_str(), 0700);
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.wall().time_since_epoch()).count();
  const std::string path = dir_ + "/" + writer_ + "-" + std::to_string(::getpid()) + "-" + std::to_string(now) +
                           std::string(kJournalSuffix);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return os_error("create " + path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    Error e = os_error("lock " + path);
    ::close(fd);
    return e;
  }
  if (Status s = fsync_dir(dir_); !s) {
    ::close(fd);
    return s;
  }
  fd_ = fd;
  return {};
}

Status Journal::append(Kind kind, nlohmann::json body) {
  std::lock_guard lk(mu_);
  if (fd_ < 0)
    if (Status s = open_file(); !s) return s;
  Record r{seq_ + 1, kind, clock_.wall(), std::move(body)};
  const auto bytes = encode(r);
  // One write() per record: a reader sees it whole or not at all; a crash can only tear the tail.
  const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
  if (n != static_cast<ssize_t>(bytes.size())) {
    Error e = n < 0 ? os_error("append to the journal") : Error{Errc::no_space, "short write to the journal"};
    // A partial frame fails its checksum and is skipped by the reader; the next starts clean.
    return e;
  }
  if (::fdatasync(fd_) != 0) return os_error("fdatasync the journal");
  ++seq_;
  return {};
}

}  // namespace glint::journal
