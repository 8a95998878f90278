#include "shared/http/server_options.hpp"

namespace glint::http {

ServerOptions server_options(const config::Config& cfg, const std::string& section) {
  ServerOptions o;
  o.host = cfg.get_string(section, "bind_host");
  o.port = static_cast<uint16_t>(cfg.get_int(section, "bind_port"));
  o.threads = static_cast<size_t>(cfg.get_int(section, "io_threads"));
  o.read_timeout = cfg.get_duration(section, "read_timeout");
  o.idle_timeout = cfg.get_duration(section, "idle_timeout");
  o.drain_timeout = cfg.get_duration(section, "drain_timeout");
  o.max_header_bytes = cfg.get_size(section, "max_header_bytes");
  return o;
}

Expected<TlsFiles> node_tls_files(const config::Config& cfg) {
  TlsFiles f{cfg.get_string("tls", "cert_file"), cfg.get_string("tls", "key_file"), cfg.get_string("tls", "ca_file")};
  // Stores require client certificates, so a member without its own pair could reach none.
  if (f.enabled() && (f.cert_file.empty() || f.key_file.empty() || f.ca_file.empty()))
    return Error{Errc::invalid, "[tls] needs ca_file, cert_file and key_file together"};
  return f;
}

}  // namespace glint::http
