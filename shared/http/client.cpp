// Beast client implementation; one of the few Asio/Beast translation units.
#include "shared/http/client.hpp"

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <type_traits>

#include "shared/http/tls_context.hpp"
#include <limits>
#include <vector>

namespace glint::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

// One request and its response over a connected stream (plain or TLS).
template <class Stream>
awaitable<Expected<ClientResponse>> converse(Stream& stream, const std::string& host, uint16_t port,
                                             std::chrono::milliseconds timeout, const ClientRequest& req) {
  beast::error_code ec;

  bhttp::request<bhttp::empty_body> head{bhttp::string_to_verb(req.method), req.target, 11};
  if (head.method() == bhttp::verb::unknown) head.method_string(req.method);
  head.set(bhttp::field::host, host + ":" + std::to_string(port));
  for (const auto& [k, v] : req.headers.all()) head.set(k, v);
  if (req.upload) {
    if (req.upload_length) head.content_length(*req.upload_length);
    else head.chunked(true);
  } else if (!req.body.empty() || req.method == "PUT" || req.method == "POST") {
    head.content_length(req.body.size());
  }
  bhttp::request_serializer<bhttp::empty_body> hs{head};
  beast::get_lowest_layer(stream).expires_after(timeout);
  co_await bhttp::async_write_header(stream, hs, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return Error{Errc::io_error, "send: " + ec.message()};
  auto write_raw = [&](const void* p, size_t n) -> awaitable<void> {
    beast::get_lowest_layer(stream).expires_after(timeout);
    co_await asio::async_write(stream, asio::buffer(p, n), asio::redirect_error(use_awaitable, ec));
  };
  if (req.upload) {
    for (;;) {
      auto c = req.upload->next();
      if (!c) co_return c.error();
      if (c->empty()) break;
      if (!req.upload_length) {
        char sz[32];
        const int len = std::snprintf(sz, sizeof sz, "%zx\r\n", c->size());
        co_await write_raw(sz, static_cast<size_t>(len));
        if (!ec) co_await write_raw(c->data(), c->size());
        if (!ec) co_await write_raw("\r\n", 2);
      } else {
        co_await write_raw(c->data(), c->size());
      }
      if (ec) break;
    }
    if (!ec && !req.upload_length) co_await write_raw("0\r\n\r\n", 5);
  } else if (!req.body.empty()) {
    co_await write_raw(req.body.data(), req.body.size());
  }
  // A server may answer (e.g. 507, 401) and stop reading before the body is sent: if sending
  // failed, still try to read that answer.
  const beast::error_code send_error = ec;
  ec = {};

  beast::flat_buffer buffer;
  buffer.reserve(256 * 1024);  // else Beast reads the body 512 bytes at a time
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // not boost::none: Beast 1.74 compares len > none as true
  if (req.method == "HEAD") parser.skip(true);
  beast::get_lowest_layer(stream).expires_after(timeout);
  co_await bhttp::async_read_header(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    if (send_error) co_return Error{Errc::io_error, "send body: " + send_error.message()};
    co_return Error{Errc::io_error, "read response: " + ec.message()};
  }
  ClientResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  for (const auto& f : parser.get()) {
    std::string k(f.name_string());
    for (auto& ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    out.headers[k] = std::string(f.value());
  }
  // Sized by the body: most answers between glint processes are a few hundred bytes, so a zeroed
  // 256 KiB buffer for every call would be wasted work.
  constexpr uint64_t kChunk = 256 * 1024;
  constexpr size_t kMaxErrorBody = 64 * 1024;
  // A consumer takes only a success's body: a 404's text is not image bytes.
  const bool to_consumer = req.on_body && out.status >= 200 && out.status < 300;
  std::vector<std::byte> chunk;
  if (!parser.is_done())
    chunk.resize(static_cast<size_t>(std::clamp<uint64_t>(parser.content_length().value_or(kChunk), 1, kChunk)));
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    beast::get_lowest_layer(stream).expires_after(timeout);
    co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) ec = {};
    // Hand over what arrived before looking at the error: a cut connection still delivered it.
    const size_t n = chunk.size() - parser.get().body().size;
    if (n > 0) {
      if (to_consumer) {
        if (!req.on_body({chunk.data(), n})) co_return Error{Errc::cancelled, "body consumer stopped"};
      } else if (req.on_body && out.body.size() + n > kMaxErrorBody) {
        co_return Error{Errc::io_error, "error answer " + std::to_string(out.status) + " with an oversized body"};
      } else {
        out.body.append(reinterpret_cast<const char*>(chunk.data()), n);
      }
    }
    if (ec) co_return Error{Errc::io_error, "read body: " + ec.message()};
  }
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(asio::redirect_error(use_awaitable, ec));
  }
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
  co_return out;
}

awaitable<Expected<ClientResponse>> exchange_impl(std::string host, uint16_t port, std::chrono::milliseconds timeout,
                                                  const ClientRequest& req, const ClientTls* tls) {
  auto ex = co_await asio::this_coro::executor;
  beast::error_code ec;
  beast::tcp_stream tcp_stream(ex);
  tcp_stream.expires_after(timeout);
  // Peers are addressed by IP: no resolver then (asio's starts a thread per io_context, and every
  // call has its own io_context).
  if (auto ip = asio::ip::make_address(host, ec); !ec) {
    co_await tcp_stream.async_connect(tcp::endpoint(ip, port), asio::redirect_error(use_awaitable, ec));
  } else {
    ec.clear();
    tcp::resolver resolver(ex);
    auto results =
        co_await resolver.async_resolve(host, std::to_string(port), asio::redirect_error(use_awaitable, ec));
    if (ec) co_return Error{Errc::unavailable, "resolve " + host + ": " + ec.message()};
    co_await tcp_stream.async_connect(results, asio::redirect_error(use_awaitable, ec));
  }
  if (ec) co_return Error{Errc::unavailable, "connect " + host + ":" + std::to_string(port) + ": " + ec.message()};
  if (!tls) co_return co_await converse(tcp_stream, host, port, timeout, req);
  // Verified by name: the certificate must be signed by the CA and name `server_name` (a node's
  // name, not its address), sent as SNI too.
  TlsStream stream(std::move(tcp_stream), *tls->context->ssl);
  const std::string& name = tls->server_name.empty() ? host : tls->server_name;
  SSL_set_tlsext_host_name(stream.native_handle(), name.c_str());
  stream.set_verify_callback(asio::ssl::host_name_verification(name));
  beast::get_lowest_layer(stream).expires_after(timeout);
  co_await stream.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    const long verify = SSL_get_verify_result(stream.native_handle());
    const std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : ec.message();
    co_return Error{Errc::unavailable, "TLS with " + host + ":" + std::to_string(port) + " (" + name + "): " + why};
  }
  co_return co_await converse(stream, host, port, timeout, req);
}

// co_spawn needs a default-constructible result, so the outcome is stored through a pointer.
awaitable<void> exchange(std::string host, uint16_t port, std::chrono::milliseconds timeout, const ClientRequest& req,
                         const ClientTls* tls, std::optional<Expected<ClientResponse>>* out) {
  out->emplace(co_await exchange_impl(std::move(host), port, timeout, req, tls));
}

}  // namespace

Client::Client(std::string host, uint16_t port, std::chrono::milliseconds timeout, std::optional<ClientTls> tls)
    : host_(std::move(host)), port_(port), timeout_(timeout), tls_(std::move(tls)) {}

Expected<ClientResponse> Client::send(const ClientRequest& req) {
  asio::io_context ioc;
  std::optional<Expected<ClientResponse>> result;
  asio::co_spawn(ioc, exchange(host_, port_, timeout_, req, tls_ ? &*tls_ : nullptr, &result), [&](std::exception_ptr e) {
    if (e) result.emplace(Error{Errc::io_error, "client failed"});
  });
  ioc.run();
  if (!result) return Error{Errc::io_error, "client did not finish"};
  return std::move(*result);
}

Expected<ClientResponse> Client::request(const std::string& method, const std::string& target, Headers headers,
                                         std::string body) {
  ClientRequest r;
  r.method = method;
  r.target = target;
  r.headers = std::move(headers);
  r.body = std::move(body);
  return send(r);
}

}  // namespace glint::http
