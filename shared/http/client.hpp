// Blocking HTTP/1.1 client for peers, tools and tests (Boost.Beast underneath, one private
// io_context per call). Every connect/read/write has a timeout; bodies stream in bounded memory.
// A Client object is not thread-safe; use one per thread.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "shared/core/result.hpp"
#include "shared/http/message.hpp"
#include "shared/http/tls.hpp"

namespace glint::http {

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // empty when a body callback consumed it
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct ClientRequest {
  std::string method = "GET";
  std::string target = "/";
  Headers headers;
  std::string body;                           // used when upload is null
  BodySource* upload = nullptr;               // streamed body of upload_length bytes
  std::optional<uint64_t> upload_length;      // nullopt with upload = chunked
  // Receives the body of a 2xx answer in chunks instead of ClientResponse::body; return false to
  // stop. Other answers' bodies (error text) still land in ClientResponse::body, at most 64 KiB.
  std::function<bool(std::span<const std::byte>)> on_body;
};

// TLS for a client: a context made once (client_tls()) and the name the server's certificate
// must carry (empty: the host).
struct ClientTls {
  std::shared_ptr<const TlsClientContext> context;
  std::string server_name;
};

class Client {
 public:
  Client(std::string host, uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(30),
         std::optional<ClientTls> tls = std::nullopt);
  // unavailable when the peer cannot be reached (resolve, connect); io_error when the connection
  // broke or timed out after it was made; the response otherwise (any status code).
  Expected<ClientResponse> send(const ClientRequest& req);
  Expected<ClientResponse> request(const std::string& method, const std::string& target, Headers headers = {},
                                   std::string body = {});

 private:
  std::string host_;
  uint16_t port_;
  std::chrono::milliseconds timeout_;
  std::optional<ClientTls> tls_;
};

}  // namespace glint::http
