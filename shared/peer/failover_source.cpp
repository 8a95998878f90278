#include "shared/peer/failover_source.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

namespace glint::peer {

FailoverSource::FailoverSource(BlobPeer& peer, std::string blob_id, std::vector<Endpoint> sources, uint64_t first,
                               uint64_t last, FailoverHooks hooks)
    : peer_(peer), id_(std::move(blob_id)), sources_(std::move(sources)), first_(first), last_(last),
      hooks_(std::move(hooks)) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;  // start() reports the failure
  read_fd_ = fds[0];
  write_fd_ = fds[1];
  ::fcntl(read_fd_, F_SETFL, O_NONBLOCK);
  ::fcntl(write_fd_, F_SETPIPE_SZ, kPipeBytes);  // best effort: fewer wake-ups per MiB
  thread_ = std::thread([this] { fetch(); });
}

FailoverSource::~FailoverSource() {
  if (read_fd_ >= 0) ::close(read_fd_);
  if (thread_.joinable()) thread_.join();
}

bool FailoverSource::start() {
  if (read_fd_ < 0) return false;
  pollfd p{read_fd_, POLLIN, 0};
  while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
  int avail = 0;
  return ::ioctl(read_fd_, FIONREAD, &avail) == 0 && avail > 0;
}

Expected<std::span<const std::byte>> FailoverSource::next() {
  const uint64_t want = last_ - first_ + 1;
  if (consumed_ == want) return std::span<const std::byte>();
  buf_.resize(kPipeBytes);
  for (;;) {
    const ssize_t n = ::read(read_fd_, buf_.data(), static_cast<size_t>(std::min<uint64_t>(buf_.size(), want - consumed_)));
    if (n > 0) {
      consumed_ += static_cast<uint64_t>(n);
      return std::span<const std::byte>(buf_.data(), static_cast<size_t>(n));
    }
    if (n == 0) return Error{Errc::unavailable, "no copy of " + id_ + " could be read to the end"};
    if (errno == EAGAIN) {
      pollfd p{read_fd_, POLLIN, 0};
      ::poll(&p, 1, -1);
    } else if (errno != EINTR) {
      return Error{Errc::io_error, std::string("read pipe: ") + std::strerror(errno)};
    }
  }
}

void FailoverSource::fetch() {
  // A reader that went away makes writes to the pipe fail with EPIPE; the signal is kept
  // pending on this thread only, never delivered to the process.
  sigset_t pipe_sig;
  sigemptyset(&pipe_sig);
  sigaddset(&pipe_sig, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_sig, nullptr);
  uint64_t pos = first_;
  for (size_t k = 0; k < sources_.size() && pos <= last_; ++k) {
    const auto& node = sources_[k];
    if (hooks_.on_source) hooks_.on_source(node, pos, k > 0);
    const ReadResult r = peer_.read_into(node, id_, pos, last_, write_fd_);
    pos += r.delivered;
    if (hooks_.on_bytes) hooks_.on_bytes(r.delivered);
    if (r.outcome == ReadOutcome::cancelled) break;
    if (r.outcome == ReadOutcome::complete && pos == last_ + 1) break;
    if (hooks_.on_failed) hooks_.on_failed(node, r);
  }
  if (pos != last_ + 1 && hooks_.on_exhausted) hooks_.on_exhausted(pos);
  ::close(write_fd_);  // EOF for the reader: complete, or short (a server then cuts the connection)
}

}  // namespace glint::peer
