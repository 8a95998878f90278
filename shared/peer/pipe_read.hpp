// Zero-copy forwarding of a glint-store GET: the response body is spliced from the node's socket
// into a pipe, so a proxy (glint-api) moves image bytes without copying them through user space.
// Free function; thread-safe (blocking; one call per thread).
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "shared/http/message.hpp"
#include "shared/peer/blob_peer.hpp"

namespace glint::peer {

struct PipeRead {
  int status = 0;          // HTTP status (0: no answer)
  uint64_t delivered = 0;  // body bytes written to the pipe
  Errc error = Errc::ok;   // unavailable: could not connect; io_error: broke or timed out after
  std::string detail;
};

// Sends `target` (with `headers`) as a GET to host:port and writes the body of a 200/206 answer
// into out_fd (a pipe's write end). Every wait is bounded by `timeout`.
// Blocking write of n bytes to fd (a pipe); false when the reader went away.
bool write_all(int fd, const char* p, size_t n);

PipeRead get_into_pipe(const std::string& host, uint16_t port, const std::string& target, const http::Headers& headers,
                       int out_fd, std::chrono::milliseconds timeout);

}  // namespace glint::peer
