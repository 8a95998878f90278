// Wires glint-api together from its configuration: database pool (migrated at start), image
// repository, handler and HTTP server. Returns the process exit code.
#pragma once
#include "shared/config/config.hpp"

namespace glint::api {

int run_api(const config::Config& cfg);

}  // namespace glint::api
