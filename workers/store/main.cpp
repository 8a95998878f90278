// glint-store: the HTTP blob server of one storage node. See docs/ARCHITECTURE.md.
#include <CLI/CLI.hpp>

#include "shared/config/config.hpp"
#include "workers/store/store_service.hpp"

int main(int argc, char** argv) {
  CLI::App app{"glint-store: verified blob storage of one glint storage node"};
  glint::config::CommandLine cl;
  glint::config::add_standard_flags(app, cl);
  CLI11_PARSE(app, argc, argv);
  const glint::config::Config cfg = glint::config::load_or_exit(cl);
  return glint::store::run_store(cfg);
}
