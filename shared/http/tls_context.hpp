// Asio SSL contexts made from TlsFiles (only for the Asio/Beast translation units: server.cpp,
// client.cpp, tls.cpp). TLS 1.2 and newer, forward-secret AEAD ciphers only. A context is
// immutable once made and shared by every connection that uses it; thread-safe.
#pragma once
#include <boost/asio/ssl.hpp>
#include <memory>

#include "shared/core/result.hpp"
#include "shared/http/tls.hpp"

namespace glint::http {

using SslContext = boost::asio::ssl::context;
// A server context: cert_file + key_file, checked (the key matches, the certificate is valid now).
Expected<std::shared_ptr<SslContext>> make_server_tls(const TlsFiles& files);
struct TlsClientContext {
  std::shared_ptr<SslContext> ssl;
};

// A client context that verifies servers against ca_file (and presents cert_file when set).
Expected<std::shared_ptr<SslContext>> make_client_tls(const TlsFiles& files);

}  // namespace glint::http
