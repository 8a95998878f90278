// glint-coordinator: the ZeroMQ hub of the control plane. See docs/ARCHITECTURE.md.
#include <CLI/CLI.hpp>

#include "shared/config/config.hpp"
#include "workers/coordinator/coordinator_service.hpp"

int main(int argc, char** argv) {
  CLI::App app{"glint-coordinator: registration, liveness and event fan-out for a glint cluster"};
  glint::config::CommandLine cl;
  glint::config::add_standard_flags(app, cl);
  CLI11_PARSE(app, argc, argv);
  const glint::config::Config cfg = glint::config::load_or_exit(cl);
  return glint::coordinator::run_coordinator(cfg);
}
