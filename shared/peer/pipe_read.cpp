#include "shared/peer/pipe_read.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <limits>

namespace glint::peer {

namespace {

namespace bhttp = boost::beast::http;

// A connected non-blocking TCP socket, closed on scope exit.
struct Sock {
  int fd = -1;
  ~Sock() {
    if (fd >= 0) ::close(fd);
  }
};

// Waits for `events` on fd; false on timeout or error.
bool wait_for(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r < 0 && errno == EINTR) continue;
    return r > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
  }
}

bool connect_to(Sock& s, const std::string& host, uint16_t port, std::chrono::milliseconds timeout, std::string& why) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0) {
    why = "resolve " + host + ": " + gai_strerror(rc);
    return false;
  }
  for (addrinfo* a = res; a; a = a->ai_next) {
    s.fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (s.fd < 0) continue;
    if (::connect(s.fd, a->ai_addr, a->ai_addrlen) == 0 ||
        (errno == EINPROGRESS && wait_for(s.fd, POLLOUT, timeout))) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) {
        ::freeaddrinfo(res);
        return true;
      }
      errno = err;
    }
    why = "connect " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
    ::close(s.fd);
    s.fd = -1;
  }
  ::freeaddrinfo(res);
  return false;
}

bool send_all(int fd, const std::string& data, std::chrono::milliseconds timeout) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      if (!wait_for(fd, POLLOUT, timeout)) return false;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

PipeRead get_into_pipe(const std::string& host, uint16_t port, const std::string& target, const http::Headers& headers,
                       int out_fd, std::chrono::milliseconds timeout) {
  PipeRead out;
  Sock s;
  if (!connect_to(s, host, port, timeout, out.detail)) {
    out.error = Errc::unavailable;
    return out;
  }
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) + "\r\n";
  for (const auto& [k, v] : headers.all()) req.append(k).append(": ").append(v).append("\r\n");
  req += "Connection: close\r\n\r\n";
  out.error = Errc::io_error;
  if (!send_all(s.fd, req, timeout)) {
    out.detail = "send request: " + std::string(std::strerror(errno));
    return out;
  }
  // Header through Beast's parser; whatever body bytes came with it go to the pipe first.
  bhttp::response_parser<bhttp::empty_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  std::string buf;
  char tmp[16 * 1024];
  while (!parser.is_header_done()) {
    if (!wait_for(s.fd, POLLIN, timeout)) {
      out.detail = "read response: timed out";
      return out;
    }
    const ssize_t n = ::recv(s.fd, tmp, sizeof tmp, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      out.detail = "read response: connection closed";
      return out;
    }
    buf.append(tmp, static_cast<size_t>(n));
    boost::beast::error_code ec;
    const size_t used = parser.put(boost::asio::buffer(buf), ec);
    if (ec && ec != bhttp::error::need_more) {
      out.detail = "read response: " + ec.message();
      return out;
    }
    buf.erase(0, used);
  }
  out.status = static_cast<int>(parser.get().result_int());
  if (out.status != 200 && out.status != 206) {
    out.error = Errc::ok;
    return out;
  }
  const auto length = parser.content_length();
  if (!length) {
    out.detail = "response without Content-Length";
    return out;
  }
  const uint64_t want = *length;
  const size_t early = static_cast<size_t>(std::min<uint64_t>(buf.size(), want));
  if (early > 0 && !write_all(out_fd, buf.data(), early)) {
    out.error = Errc::cancelled;  // the reader went away
    return out;
  }
  out.delivered = early;
  while (out.delivered < want) {
    const ssize_t n = ::splice(s.fd, nullptr, out_fd, nullptr, static_cast<size_t>(std::min<uint64_t>(want - out.delivered, 1 << 20)),
                               SPLICE_F_MOVE | SPLICE_F_MORE);
    if (n > 0) {
      out.delivered += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {  // the socket has nothing yet (the pipe end blocks)
      if (!wait_for(s.fd, POLLIN, timeout)) {
        out.detail = "read body: timed out";
        return out;
      }
      continue;
    }
    if (n < 0 && errno == EPIPE) {
      out.error = Errc::cancelled;
      return out;
    }
    out.detail = n == 0 ? "read body: connection closed early" : "read body: " + std::string(std::strerror(errno));
    return out;
  }
  out.error = Errc::ok;
  return out;
}

}  // namespace glint::peer
