// Reads a process's HTTP server settings from its config section (bind_host, bind_port,
// io_threads, read/idle/drain timeouts, max_header_bytes): every glint server names them alike.
#pragma once
#include <string>

#include "shared/config/config.hpp"
#include "shared/http/server.hpp"

namespace glint::http {

ServerOptions server_options(const config::Config& cfg, const std::string& section);

}  // namespace glint::http
