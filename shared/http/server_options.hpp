// Reads a process's HTTP server settings from its config section (bind_host, bind_port,
// io_threads, read/idle/drain timeouts, max_header_bytes): every glint server names them alike.
#pragma once
#include <string>

#include "shared/config/config.hpp"
#include "shared/http/server.hpp"

namespace glint::http {

ServerOptions server_options(const config::Config& cfg, const std::string& section);

// The cluster's inter-node TLS files ([tls] ca_file, cert_file, key_file): a glint-store serves
// HTTPS with cert_file and asks clients for a certificate ca_file signed; api, replicator and
// reaper verify stores against ca_file by node name and present cert_file. All three or none
// (plain HTTP); Errc::invalid naming the section otherwise.
Expected<TlsFiles> node_tls_files(const config::Config& cfg);

}  // namespace glint::http
