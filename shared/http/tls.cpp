#include "shared/http/tls_context.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace glint::http {

namespace {

namespace ssl = boost::asio::ssl;

std::string asn1_time(const ASN1_TIME* t) {
  BIO* bio = BIO_new(BIO_s_mem());
  ASN1_TIME_print(bio, t);
  char buf[64] = {};
  const int n = BIO_read(bio, buf, sizeof buf - 1);
  BIO_free(bio);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("?");
}

// The certificate must be valid now: an expired one would be refused by every peer anyway, and
// saying so at start (or at reload) beats a handshake failure per connection.
Status check_validity(const std::string& file) {
  FILE* f = std::fopen(file.c_str(), "r");
  if (!f) return {Errc::invalid, "cannot read certificate " + file};
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!x) return {Errc::invalid, "no PEM certificate in " + file};
  Status s;
  if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
    s = Status(Errc::invalid, "certificate " + file + " expired on " + asn1_time(X509_get0_notAfter(x)));
  else if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
    s = Status(Errc::invalid, "certificate " + file + " is not valid before " + asn1_time(X509_get0_notBefore(x)));
  X509_free(x);
  return s;
}

void harden(SslContext& ctx) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  // TLS 1.2: ECDHE with AES-GCM or ChaCha20 only (TLS 1.3 suites are all of that kind already).
  SSL_CTX_set_cipher_list(ctx.native_handle(), "ECDHE+AES128GCM:ECDHE+AESGCM:ECDHE+CHACHA20");
  // AES-128-GCM first: with AES-NI it is the cheapest per byte, which image transfers feel.
  SSL_CTX_set_ciphersuites(ctx.native_handle(), "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
  // Server's cipher order; no TLS 1.2 renegotiation (a client could make the server redo the
  // handshake's public-key work over and over on one connection).
  SSL_CTX_set_options(ctx.native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
}

// OpenSSL's own message for a missing file is only "asio.ssl error".
Status readable(const std::string& what, const std::string& file) {
  if (::access(file.c_str(), R_OK) != 0) return {Errc::invalid, "cannot read " + what + " " + file + ": " + std::strerror(errno)};
  return {};
}

Status load_pair(SslContext& ctx, const TlsFiles& files) {
  if (Status s = readable("certificate", files.cert_file); !s) return s;
  if (Status s = readable("private key", files.key_file); !s) return s;
  boost::system::error_code ec;
  ctx.use_certificate_chain_file(files.cert_file, ec);
  if (ec) return {Errc::invalid, "certificate " + files.cert_file + ": " + ec.message()};
  ctx.use_private_key_file(files.key_file, ssl::context::pem, ec);
  if (ec) return {Errc::invalid, "private key " + files.key_file + ": " + ec.message()};
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
    return {Errc::invalid, "private key " + files.key_file + " does not match certificate " + files.cert_file};
  return check_validity(files.cert_file);
}

}  // namespace

Expected<std::shared_ptr<SslContext>> make_server_tls(const TlsFiles& files) {
  if (files.cert_file.empty() || files.key_file.empty()) return Error{Errc::invalid, "TLS needs both a certificate and a key file"};
  auto ctx = std::make_shared<SslContext>(ssl::context::tls_server);
  harden(*ctx);
  if (Status s = load_pair(*ctx, files); !s) return s.error();
  if (!files.ca_file.empty()) {
    // Mutual TLS: only a client presenting a certificate signed by the cluster CA gets a session.
    if (Status s = readable("CA file", files.ca_file); !s) return s.error();
    boost::system::error_code ec;
    ctx->load_verify_file(files.ca_file, ec);
    if (ec) return Error{Errc::invalid, "CA file " + files.ca_file + ": " + ec.message()};
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    // Session resumption would need a context id to tie tickets to this verification policy.
    SSL_CTX_set_session_id_context(ctx->native_handle(), reinterpret_cast<const unsigned char*>("glint"), 5);
  }
  return ctx;
}

Expected<std::shared_ptr<SslContext>> make_client_tls(const TlsFiles& files) {
  auto ctx = std::make_shared<SslContext>(ssl::context::tls_client);
  harden(*ctx);
  boost::system::error_code ec;
  if (files.ca_file.empty()) {
    ctx->set_default_verify_paths(ec);  // the system's CAs (a public Keystone)
  } else {
    if (Status s = readable("CA file", files.ca_file); !s) return s.error();
    ctx->load_verify_file(files.ca_file, ec);
  }
  if (ec) return Error{Errc::invalid, "CA file " + (files.ca_file.empty() ? std::string("(system)") : files.ca_file) + ": " + ec.message()};
  ctx->set_verify_mode(ssl::verify_peer);
  if (!files.cert_file.empty())
    if (Status s = load_pair(*ctx, files); !s) return s.error();
  return ctx;
}

Expected<std::shared_ptr<const TlsClientContext>> client_tls(const TlsFiles& files) {
  auto ctx = make_client_tls(files);
  if (!ctx) return ctx.error();
  auto out = std::make_shared<TlsClientContext>();
  out->ssl = *ctx;
  return std::shared_ptr<const TlsClientContext>(out);
}

}  // namespace glint::http
