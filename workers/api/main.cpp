// glint-api: the OpenStack Image API v2 endpoint. See docs/ARCHITECTURE.md.
#include <CLI/CLI.hpp>

#include "shared/config/config.hpp"
#include "workers/api/api_service.hpp"

int main(int argc, char** argv) {
  CLI::App app{"glint-api: OpenStack Image API v2 over glint's replicated storage"};
  glint::config::CommandLine cl;
  glint::config::add_standard_flags(app, cl);
  CLI11_PARSE(app, argc, argv);
  const glint::config::Config cfg = glint::config::load_or_exit(cl);
  return glint::api::run_api(cfg);
}
