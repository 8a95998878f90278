// Wires glint-store together from its configuration: blob store, handler, HTTP server, node
// registrar. run() serves until SIGTERM and returns the process exit code.
#pragma once
#include "shared/config/config.hpp"

namespace glint::store {

int run_store(const config::Config& cfg);

}  // namespace glint::store
