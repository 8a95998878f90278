// Beast coroutine sessions adapting sockets to Handler/BodySink/BodySource. Kept in one translation
// unit because every Asio/Beast TU costs ~30 s to compile here.
#include "shared/http/server.hpp"

#include "shared/core/buffer_pool.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <functional>
#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <mutex>
#include <type_traits>
#include <limits>
#include <optional>
#include <thread>
#include <vector>

#include "shared/core/uuid.hpp"
#include "shared/http/handler_guard.hpp"
#include "shared/http/tls_context.hpp"

namespace glint::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One io_context per thread (connections are spread round-robin), so a connection's completions
// never hop between threads: with one shared multi-threaded context, cross-thread wake-ups cut a
// 1 GiB download on loopback from ~2.3 to ~0.9 GB/s here. The acceptor, signals and drain timer
// live on context 0.
struct Server::Impl {
  ServerOptions opts;
  Handler& handler;
  log::Logger logger;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::signal_set> signals;
  std::optional<asio::steady_timer> drain_timer;
  std::atomic<int> in_flight{0};
  std::atomic<bool> draining{false};
  // Full-size body chunks outlive their connection: one connection per upload (as glint's own
  // clients do) would otherwise map, fault in and zero a fresh chunk every time.
  BufferPool own_body_buffers{8};
  BufferPool& body_buffers = opts.body_buffers ? *opts.body_buffers : own_body_buffers;
  size_t next_context = 0;
  // The certificate new connections get; SIGHUP swaps it, connections keep the one they began with.
  // Failed handshakes come from scanners and misconfigured peers, possibly thousands a second.
  log::Throttle handshake_log{20, std::chrono::minutes(1)};
  std::mutex tls_mu;
  std::shared_ptr<SslContext> tls;
  std::shared_ptr<SslContext> current_tls() {
    std::lock_guard<std::mutex> lk(tls_mu);
    return tls;
  }
  void reload_tls();

  Impl(ServerOptions o, Handler& h, log::Logger l) : opts(std::move(o)), handler(h), logger(std::move(l)) {
    const size_t n = std::max<size_t>(1, opts.threads);
    for (size_t i = 0; i < n; ++i) {
      contexts.push_back(std::make_unique<asio::io_context>(1));
      guards.push_back(asio::make_work_guard(*contexts.back()));
    }
    acceptor.emplace(*contexts[0]);
    signals.emplace(*contexts[0], SIGTERM, SIGINT);
    drain_timer.emplace(*contexts[0]);
  }
  asio::io_context& control() { return *contexts[0]; }
  void stop_all() {
    for (auto& g : guards) g.reset();
    for (auto& c : contexts) c->stop();
  }

  awaitable<void> accept_loop();
  awaitable<void> plain_session(beast::tcp_stream stream);
  awaitable<void> tls_session(beast::tcp_stream stream, std::shared_ptr<SslContext> ctx);
  template <class Stream>
  awaitable<void> session(Stream& stream);
  template <class Stream>
  awaitable<bool> send(Stream& stream, Response& resp, const Request& req, bool keep_alive, uint64_t& bytes_out);
  // The status line and headers of a response whose body follows separately (stream or pipe).
  template <class Stream>
  awaitable<bool> write_body_header(Stream& stream, const Response& resp, const Request& req, bool keep_alive);
  // send() for a body in a pipe (PipeBody): spliced to the socket (copied through TLS).
  template <class Stream>
  awaitable<bool> send_piped(Stream& stream, Response& resp, const Request& req, bool keep_alive,
                             PipeBody& body, uint64_t& bytes_out);
  // send() of a FileBody over plain TCP: sendfile of each verified range (bytes ranges written).
  awaitable<bool> send_file(beast::tcp_stream& stream, Response& resp, const Request& req, bool keep_alive,
                            FileBody& body, uint64_t& bytes_out);
  void begin_drain();
  awaitable<void> drain_wait(std::chrono::steady_clock::time_point deadline);
};

namespace {

std::string request_id_from(const bhttp::fields& f) {
  // Keep a caller's id when it looks sane, so one id follows a request across glint processes.
  for (const char* name : {"X-Openstack-Request-Id", "X-Request-Id"}) {
    auto it = f.find(name);
    if (it == f.end()) continue;
    auto v = it->value();
    if (v.size() >= 8 && v.size() <= 64 &&
        std::all_of(v.begin(), v.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; }))
      return std::string(v);
  }
  return "req-" + random_uuid();
}

Request to_request(const bhttp::request_parser<bhttp::buffer_body>& parser, const std::string& remote) {
  const auto& m = parser.get();
  Request r;
  r.method = std::string(m.method_string());
  r.target = std::string(m.target());
  const auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  for (const auto& f : m) r.headers.add(std::string(f.name_string()), std::string(f.value()));
  if (auto cl = parser.content_length()) r.content_length = *cl;
  r.chunked = parser.chunked();
  r.request_id = request_id_from(m);
  r.remote = remote;
  return r;
}

void copy_headers(const Response& resp, const Request& req, bhttp::fields& out) {
  for (const auto& [k, v] : resp.headers.all()) out.insert(k, v);
  if (out.find("X-Openstack-Request-Id") == out.end()) out.set("X-Openstack-Request-Id", req.request_id);
}

}  // namespace

template <class Stream>
awaitable<bool> Server::Impl::write_body_header(Stream& stream, const Response& resp, const Request& req,
                                                bool keep_alive) {
  beast::error_code ec;
  bhttp::response<bhttp::empty_body> r{static_cast<bhttp::status>(resp.status), 11};
  copy_headers(resp, req, r.base());
  r.content_length(resp.content_length.value_or(0));
  r.keep_alive(keep_alive && !resp.close);
  bhttp::response_serializer<bhttp::empty_body> sr{r};
  beast::get_lowest_layer(stream).expires_after(opts.read_timeout);
  co_await bhttp::async_write_header(stream, sr, asio::redirect_error(use_awaitable, ec));
  co_return !ec;
}

template <class Stream>
awaitable<bool> Server::Impl::send_piped(Stream& stream, Response& resp, const Request& req,
                                         bool keep_alive, PipeBody& body, uint64_t& bytes_out) {
  beast::error_code ec;
  if (!co_await write_body_header(stream, resp, req, keep_alive)) co_return false;
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    // TLS encrypts in user space: the body is read from the pipe and written through the stream,
    // each wait bounded by read_timeout.
    asio::posix::stream_descriptor pipe(stream.get_executor(), ::dup(body.pipe_fd()));
    asio::steady_timer timer(stream.get_executor());
    std::vector<char> buf(256 * 1024);
    uint64_t left = resp.content_length.value_or(0);
    while (left > 0) {
      timer.expires_after(opts.read_timeout);
      timer.async_wait([&](const beast::error_code& e) {
        if (!e) {
          beast::error_code ignored;
          pipe.cancel(ignored);
        }
      });
      const size_t want = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
      const size_t n = co_await pipe.async_read_some(asio::buffer(buf.data(), want), asio::redirect_error(use_awaitable, ec));
      timer.cancel();
      if (ec || n == 0) {
        logger.error("http.stream_cut", {{"req", req.request_id}, {"sent", bytes_out},
                                         {"error", ec ? ec.message() : std::string("source ended early")}});
        co_return false;
      }
      beast::get_lowest_layer(stream).expires_after(opts.read_timeout);
      co_await asio::async_write(stream, asio::buffer(buf.data(), n), asio::redirect_error(use_awaitable, ec));
      if (ec) co_return false;
      left -= n;
      bytes_out += n;
    }
    co_return keep_alive && !resp.close;
  } else {
    // The body moves pipe -> socket inside the kernel. Waits are bounded by read_timeout: a timer
    // cancels the socket's pending wait, as tcp_stream's own timer would.
    auto& sock = beast::get_lowest_layer(stream).socket();
    const int pipe_fd = body.pipe_fd();
    asio::posix::stream_descriptor pipe(sock.get_executor(), ::dup(pipe_fd));
    asio::steady_timer timer(sock.get_executor());
    uint64_t left = resp.content_length.value_or(0);
    while (left > 0) {
      const ssize_t n = ::splice(pipe_fd, nullptr, sock.native_handle(), nullptr,
                                 static_cast<size_t>(std::min<uint64_t>(left, 1u << 20)),
                                 SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE);
      if (n > 0) {
        left -= static_cast<uint64_t>(n);
        bytes_out += static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0 || errno != EAGAIN) {
        // The source ended early (every replica failed) or the client went away: cut the connection.
        logger.error("http.stream_cut", {{"req", req.request_id}, {"sent", bytes_out},
                                         {"error", n == 0 ? std::string("source ended early") : std::string(std::strerror(errno))}});
        co_return false;
      }
      // EAGAIN: the pipe is empty or the socket is full; wait for whichever it is.
      pollfd p{sock.native_handle(), POLLOUT, 0};
      const bool socket_full = ::poll(&p, 1, 0) == 0;
      timer.expires_after(opts.read_timeout);
      timer.async_wait([&](const beast::error_code& e) {
        if (!e) {
          beast::error_code ignored;
          sock.cancel(ignored);
          pipe.cancel(ignored);
        }
      });
      if (socket_full)
        co_await sock.async_wait(tcp::socket::wait_write, asio::redirect_error(use_awaitable, ec));
      else
        co_await pipe.async_wait(asio::posix::descriptor_base::wait_read, asio::redirect_error(use_awaitable, ec));
      timer.cancel();
      if (ec) co_return false;
    }
    co_return keep_alive && !resp.close;
  }
}

awaitable<bool> Server::Impl::send_file(beast::tcp_stream& stream, Response& resp, const Request& req,
                                        bool keep_alive, FileBody& body, uint64_t& bytes_out) {
  beast::error_code ec;
  // The first range before the status line: a failure now can still become a clean 5xx.
  auto range = body.next_range();
  if (!range) {
    logger.error("http.stream_failed", {{"req", req.request_id}, {"error", range.error().message}});
    Response err = json_error(500, "Internal Server Error", range.error().message);
    co_await send(stream, err, req, false, bytes_out);
    co_return false;
  }
  if (!co_await write_body_header(stream, resp, req, keep_alive)) co_return false;
  auto& sock = stream.socket();
  sock.native_non_blocking(true, ec);  // sendfile must not block an io thread on a full socket
  if (ec) co_return false;
  asio::steady_timer timer(sock.get_executor());
  uint64_t left = resp.content_length.value_or(0);
  std::optional<Expected<FileRange>> ahead;  // the next range, made ready while the socket drained
  while (left > 0) {
    if (range->end()) {
      logger.error("http.stream_cut", {{"req", req.request_id}, {"sent", bytes_out}, {"error", "source ended early"}});
      co_return false;
    }
    if (range->fd < 0) {
      stream.expires_after(opts.read_timeout);
      co_await asio::async_write(stream, asio::buffer(range->bytes.data(), range->bytes.size()),
                                 asio::redirect_error(use_awaitable, ec));
      if (ec) co_return false;
      left -= std::min<uint64_t>(left, range->bytes.size());
      bytes_out += range->bytes.size();
    } else {
      off_t off = static_cast<off_t>(range->offset);
      size_t todo = static_cast<size_t>(std::min<uint64_t>(range->length, left));
      while (todo > 0) {
        const ssize_t n = ::sendfile(sock.native_handle(), range->fd, &off, todo);
        if (n > 0) {
          todo -= static_cast<size_t>(n);
          left -= static_cast<uint64_t>(n);
          bytes_out += static_cast<uint64_t>(n);
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n == 0 || errno != EAGAIN) {
          logger.error("http.stream_cut", {{"req", req.request_id}, {"sent", bytes_out},
                                           {"error", n == 0 ? std::string("file ended early") : std::string(std::strerror(errno))}});
          co_return false;
        }
        if (!ahead && left > todo && body.verify_ahead()) {  // the socket is full: verify the next block now
          ahead = body.next_range();
          continue;  // and try the socket again before waiting
        }
        timer.expires_after(opts.read_timeout);  // the client must take bytes within read_timeout
        timer.async_wait([&](const beast::error_code& e) {
          if (!e) {
            beast::error_code ignored;
            sock.cancel(ignored);
          }
        });
        co_await sock.async_wait(tcp::socket::wait_write, asio::redirect_error(use_awaitable, ec));
        timer.cancel();
        if (ec) co_return false;
      }
    }
    if (left == 0) break;
    if (ahead) {
      range = std::move(*ahead);
      ahead.reset();
    } else {
      range = body.next_range();
    }
    if (!range) {
      // Never send bytes that failed verification: cut the connection mid-body.
      logger.error("http.stream_cut", {{"req", req.request_id}, {"sent", bytes_out}, {"error", range.error().message}});
      co_return false;
    }
  }
  co_return keep_alive && !resp.close;
}

template <class Stream>
awaitable<bool> Server::Impl::send(Stream& stream, Response& resp, const Request& req, bool keep_alive,
                                   uint64_t& bytes_out) {
  beast::error_code ec;
  const bool head = req.method == "HEAD";
  std::span<const std::byte> first;
  auto* piped = resp.stream && !head ? dynamic_cast<PipeBody*>(resp.stream.get()) : nullptr;
  if (piped) co_return co_await send_piped(stream, resp, req, keep_alive, *piped, bytes_out);
  if constexpr (!std::is_same_v<Stream, TlsStream>) {
    auto* filed = resp.stream && !head ? dynamic_cast<FileBody*>(resp.stream.get()) : nullptr;
    if (filed) co_return co_await send_file(stream, resp, req, keep_alive, *filed, bytes_out);
  }
  if (resp.stream) {
    // Pull the first chunk before the status line: a failure now can still become a clean 5xx.
    auto n = resp.stream->next();
    if (!n) {
      logger.error("http.stream_failed", {{"req", req.request_id}, {"error", n.error().message}});
      Response err = json_error(500, "Internal Server Error", n.error().message);
      resp = std::move(err);
      keep_alive = false;
    } else {
      first = *n;
    }
  }
  if (!resp.stream || head) {
    bhttp::response<bhttp::string_body> r{static_cast<bhttp::status>(resp.status), 11};
    copy_headers(resp, req, r.base());
    r.keep_alive(keep_alive && !resp.close);
    if (head || resp.status == 204 || resp.status == 304) {
      if (resp.content_length && resp.status != 204) r.content_length(*resp.content_length);
    } else {
      r.body() = std::move(resp.body);
      r.prepare_payload();
      bytes_out = r.body().size();
    }
    beast::get_lowest_layer(stream).expires_after(opts.read_timeout);
    bhttp::serializer<false, bhttp::string_body> sr{r};
    if (head || resp.status == 204 || resp.status == 304)
      co_await bhttp::async_write_header(stream, sr, asio::redirect_error(use_awaitable, ec));
    else
      co_await bhttp::async_write(stream, sr, asio::redirect_error(use_awaitable, ec));
    co_return !ec && keep_alive && !resp.close;
  }
  if (!co_await write_body_header(stream, resp, req, keep_alive)) co_return false;
  auto chunk = first;
  while (!chunk.empty()) {
    beast::get_lowest_layer(stream).expires_after(opts.read_timeout);
    co_await asio::async_write(stream, asio::buffer(chunk.data(), chunk.size()),
                               asio::redirect_error(use_awaitable, ec));
    if (ec) co_return false;
    bytes_out += chunk.size();
    auto n = resp.stream->next();
    if (!n) {
      // Never send bytes that failed verification: cut the connection mid-body.
      logger.error("http.stream_cut", {{"req", req.request_id}, {"sent", bytes_out}, {"error", n.error().message}});
      co_return false;
    }
    chunk = *n;
  }
  co_return keep_alive && !resp.close;
}

template <class Stream>
awaitable<void> Server::Impl::session(Stream& stream) {
  beast::error_code ec;
  std::string remote;
  {
    auto ep = beast::get_lowest_layer(stream).socket().remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  // The read buffer only needs room for a header; bodies go straight into `chunk`.
  beast::flat_buffer buffer(opts.max_header_bytes + 256 * 1024);
  // Beast sizes each socket read by the buffer's free capacity (at least 512 bytes): without this
  // reserve a body arrives 512 bytes per recv.
  buffer.reserve(256 * 1024);
  std::vector<std::byte> chunk;
  bool first_request = true;
  bool unread_body = false;  // a response went out before the request body was read
  for (;;) {
    bhttp::request_parser<bhttp::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // not boost::none: Beast 1.74 compares len > none as true
    beast::get_lowest_layer(stream).expires_after(first_request ? opts.read_timeout : opts.idle_timeout);
    first_request = false;
    co_await bhttp::async_read_header(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
        ec == asio::ssl::error::stream_truncated)
      break;
    if (ec) {
      const bool too_big = ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow;
      Request dummy;
      dummy.request_id = "req-" + random_uuid();
      Response r = too_big ? json_error(431, "Request Header Fields Too Large", "request header too large")
                           : json_error(400, "Bad Request", "malformed HTTP request: " + ec.message());
      r.close = true;
      uint64_t out = 0;
      logger.warn("http.bad_request", {{"remote", remote}, {"error", ec.message()}});
      co_await send(stream, r, dummy, false, out);
      break;
    }
    const auto started = std::chrono::steady_clock::now();
    InFlight counted(in_flight);  // released on every way out, exceptions included
    Request req = to_request(parser, remote);
    const bool keep_alive = parser.get().keep_alive() && !draining.load();
    uint64_t bytes_in = 0, bytes_out = 0;
    Reply reply = answer(handler, req, logger);
    Response resp;
    bool aborted = false;
    if (reply.sink) {
      auto expect = parser.get()[bhttp::field::expect];
      if (iequals(std::string_view(expect.data(), expect.size()), "100-continue")) {
        static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
        co_await asio::async_write(stream, asio::buffer(cont.data(), cont.size()),
                                   asio::redirect_error(use_awaitable, ec));
      }
      // A small declared body (JSON) gets a small buffer: a fresh MiB costs page faults per request.
      const size_t chunk_bytes = req.content_length
                                     ? static_cast<size_t>(std::clamp<uint64_t>(*req.content_length, 1, opts.body_chunk_bytes))
                                     : opts.body_chunk_bytes;
      if (chunk.capacity() < chunk_bytes && chunk_bytes == opts.body_chunk_bytes) chunk = body_buffers.take();
      chunk.resize(chunk_bytes);
      while (!ec && !parser.is_done()) {
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        beast::get_lowest_layer(stream).expires_after(opts.read_timeout);
        co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
        if (ec == bhttp::error::need_buffer) ec = {};
        const size_t n = chunk.size() - parser.get().body().size;
        if (n > 0 && !ec) {
          bytes_in += n;
          Status s = Status(Errc::io_error, "the upload failed inside the server");
          guarded(logger, req, "write", [&] { s = reply.sink->write_owned(chunk, n); });
          chunk.resize(chunk_bytes);  // the sink may have swapped in another buffer
          if (!s) {
            resp = sink_response(logger, req, [&] { return reply.sink->failed(s); });
            resp.close = true;  // the rest of the body is not read
            unread_body = true;
            break;
          }
        }
      }
      if (ec) {
        guarded(logger, req, "abort", [&] { reply.sink->abort(); });
        aborted = true;
        logger.warn("http.body_aborted", {{"req", req.request_id}, {"received", bytes_in}, {"error", ec.message()}});
      } else if (parser.is_done() && !unread_body) {  // unread_body: the sink refused a chunk
        resp = sink_response(logger, req, [&] { return reply.sink->finish(); });
      }
      if (chunk.size() > 64 * 1024) std::vector<std::byte>().swap(chunk);  // idle connections hold no MiB
    } else {
      resp = std::move(reply.response);
      if (req.has_body()) {
        resp.close = true;  // body not consumed: the connection can't be reused
        unread_body = true;
      }
    }
    bool again = false;
    if (!aborted) again = co_await send(stream, resp, req, keep_alive, bytes_out);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    guarded(logger, req, "on_complete", [&] { handler.on_complete(req, aborted ? 499 : resp.status, bytes_in, bytes_out, secs); });
    counted.release();
    if (!again || draining.load()) break;
  }
  if (chunk.capacity() >= opts.body_chunk_bytes) body_buffers.give(std::move(chunk));
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(asio::redirect_error(use_awaitable, ec));  // close_notify
    ec = {};
  }
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ec);
  if (unread_body) {
    // Lingering close: closing with unread input would send a RST that can destroy our error
    // response before the client reads it, so discard what is still arriving (bounded).
    std::vector<std::byte> sink(64 * 1024);
    uint64_t discarded = 0;
    while (!ec && discarded < (256u << 20)) {
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
      discarded += co_await beast::get_lowest_layer(stream).async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, ec));
    }
  }
  beast::get_lowest_layer(stream).socket().close(ec);
}

awaitable<void> Server::Impl::plain_session(beast::tcp_stream stream) { co_await session(stream); }

awaitable<void> Server::Impl::tls_session(beast::tcp_stream tcp_stream, std::shared_ptr<SslContext> ctx) {
  TlsStream stream(std::move(tcp_stream), *ctx);
  beast::error_code ec;
  beast::get_lowest_layer(stream).expires_after(opts.read_timeout);
  co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    // Say why a client certificate was refused (expired, unknown CA), not only that it was.
    const long verify = SSL_get_verify_result(stream.native_handle());
    const std::string why =
        verify != X509_V_OK ? std::string("client certificate: ") + X509_verify_cert_error_string(verify) : ec.message();
    auto ep = beast::get_lowest_layer(stream).socket().remote_endpoint(ec);
    if (uint64_t left_out = 0; handshake_log.allow(std::chrono::steady_clock::now(), &left_out))
      logger.warn("http.tls_handshake_failed", {{"remote", ec ? std::string("?") : ep.address().to_string()},
                                                {"error", why}, {"not_logged_before", left_out}});
    beast::get_lowest_layer(stream).socket().close(ec);
    co_return;
  }
  co_await session(stream);
}

void Server::Impl::reload_tls() {
  auto fresh = make_server_tls(opts.tls);
  if (!fresh) {
    logger.error("http.tls_reload_failed", {{"error", fresh.error().message}, {"kept", "the certificate in use"}});
    return;
  }
  std::lock_guard<std::mutex> lk(tls_mu);
  tls = *fresh;
  logger.info("http.tls_reloaded", {{"cert", opts.tls.cert_file}});
}

awaitable<void> Server::Impl::accept_loop() {
  for (;;) {
    beast::error_code ec;
    asio::io_context& target = *contexts[next_context++ % contexts.size()];
    tcp::socket sock = co_await acceptor->async_accept(target, asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      logger.warn("http.accept_failed", {{"error", ec.message()}});
      continue;
    }
    sock.set_option(tcp::no_delay(true), ec);
    auto ex = sock.get_executor();
    if (auto ctx = current_tls())
      asio::co_spawn(ex, tls_session(beast::tcp_stream(std::move(sock)), std::move(ctx)), asio::detached);
    else
      asio::co_spawn(ex, plain_session(beast::tcp_stream(std::move(sock))), asio::detached);
  }
}

void Server::Impl::begin_drain() {
  if (draining.exchange(true)) return;
  beast::error_code ec;
  acceptor->close(ec);
  logger.info("http.draining", {{"in_flight", in_flight.load()}});
  asio::co_spawn(control(), drain_wait(std::chrono::steady_clock::now() + opts.drain_timeout), asio::detached);
}

// Polls the in-flight count until it reaches zero or the deadline passes, then stops the server.
awaitable<void> Server::Impl::drain_wait(std::chrono::steady_clock::time_point deadline) {
  beast::error_code ec;
  while (in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    drain_timer->expires_after(std::chrono::milliseconds(20));
    co_await drain_timer->async_wait(asio::redirect_error(use_awaitable, ec));
  }
  if (in_flight.load() > 0) logger.warn("http.drain_timeout", {{"in_flight", in_flight.load()}});
  stop_all();
}

Server::Server(ServerOptions opts, Handler& handler, log::Logger logger)
    : impl_(std::make_unique<Impl>(std::move(opts), handler, std::move(logger))) {}

Server::~Server() = default;

Status Server::listen() {
  if (!impl_->opts.tls.cert_file.empty()) {
    auto ctx = make_server_tls(impl_->opts.tls);
    if (!ctx) return ctx.error();
    impl_->tls = *ctx;
  }
  beast::error_code ec;
  auto addr = asio::ip::make_address(impl_->opts.host, ec);
  if (ec) return {Errc::invalid, "bad bind address '" + impl_->opts.host + "': " + ec.message()};
  tcp::endpoint ep{addr, impl_->opts.port};
  auto& a = *impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return {Errc::io_error, "cannot listen on " + impl_->opts.host + ":" + std::to_string(impl_->opts.port) + ": " + ec.message()};
  return {};
}

uint16_t Server::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor->local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Server::run() {
  auto& im = *impl_;
  // SIGHUP reloads the certificate (when serving TLS; otherwise it is only logged, never the
  // default action that would end the process); SIGTERM/SIGINT drain.
  im.signals->add(SIGHUP);
  std::function<void(const beast::error_code&, int)> on_signal = [&im, &on_signal](const beast::error_code& ec, int sig) {
    if (ec) return;
    im.logger.info("signal", {{"signal", sig}});
    if (sig == SIGHUP) {
      if (im.current_tls()) im.reload_tls();
      im.signals->async_wait(on_signal);
      return;
    }
    im.begin_drain();
  };
  im.signals->async_wait(on_signal);
  asio::co_spawn(im.control(), im.accept_loop(), asio::detached);
  std::vector<std::thread> threads;
  for (size_t i = 1; i < im.contexts.size(); ++i) threads.emplace_back([&im, i] { im.contexts[i]->run(); });
  im.control().run();
  im.stop_all();
  for (auto& t : threads) t.join();
}

void Server::stop() {
  asio::post(impl_->control(), [this] { impl_->begin_drain(); });
}

int Server::in_flight() const { return impl_->in_flight.load(); }

}  // namespace glint::http
