// HTTP/1.1 server (Boost.Beast, C++20 coroutine sessions) that feeds a Handler. Every read has a
// timeout, header size is limited, bodies stream through BodySink/BodySource with bounded memory,
// and SIGTERM/SIGINT drain in-flight requests within a deadline. run() may be called from one
// thread; stop() from any thread.
#pragma once
#include <chrono>

#include "shared/core/buffer_pool.hpp"
#include <cstdint>
#include <memory>
#include <string>

#include "shared/core/result.hpp"
#include "shared/http/message.hpp"
#include "shared/http/tls.hpp"
#include "shared/log/log.hpp"

namespace glint::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 = any free port; see Server::port()
  size_t threads = 4;
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds drain_timeout{10000};
  size_t max_header_bytes = 8192;
  size_t body_chunk_bytes = 1 << 20;  // upload buffer per connection
  // Where full-size body chunks come from and go back to (shared with the handler's own buffers,
  // which uploads swap them with); nullptr: a small pool of the server's own.
  BufferPool* body_buffers = nullptr;
  // HTTPS when tls.cert_file is set (cert_file + key_file; SIGHUP reloads them, open connections
  // keep theirs). listen() fails on files that do not load or a certificate that is not valid now.
  TlsFiles tls = {};
};

class Server {
 public:
  Server(ServerOptions opts, Handler& handler, log::Logger logger);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. io_error with the reason if the address cannot be bound.
  Status listen();
  uint16_t port() const;
  // Serves until stop() or SIGTERM/SIGINT, then drains (in-flight requests get drain_timeout).
  void run();
  void stop();
  // Requests being handled now (what a drain waits for).
  int in_flight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace glint::http
