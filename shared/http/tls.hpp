// TLS settings for glint's HTTP server and client: which files, and the checks made when they are
// loaded (readable, a key that matches its certificate, a certificate that is valid now), so a
// mistake stops a process at start or is refused at reload with a clear message. Values only.
#pragma once
#include <memory>
#include <string>

#include "shared/core/result.hpp"

namespace glint::http {

struct TlsFiles {
  std::string cert_file;  // PEM chain; server: required for TLS; client: a client certificate (optional)
  std::string key_file;   // PEM private key of cert_file
  std::string ca_file;    // client: CAs that may sign a server's certificate (empty: the system's);
                          // server: when set, clients must present a certificate one of them signed
  bool enabled() const { return !cert_file.empty() || !ca_file.empty(); }
};

// A client's SSL context, made once and shared by its connections (opaque here; see
// tls_context.hpp). Errc::invalid naming the file when one does not load.
struct TlsClientContext;
Expected<std::shared_ptr<const TlsClientContext>> client_tls(const TlsFiles& files);

}  // namespace glint::http
