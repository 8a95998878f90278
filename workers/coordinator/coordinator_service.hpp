// Wiring of glint-coordinator: database, ZeroMQ sockets, the Coordinator loop on its own thread,
// and a small HTTP endpoint for /healthcheck and /metrics; exits on SIGTERM.
#pragma once
#include "shared/config/config.hpp"

namespace glint::coordinator {

int run_coordinator(const config::Config& cfg);

}  // namespace glint::coordinator
