// The command-line flags every glint executable shares (--config-file, --set, --print-sample-config)
// and the start-up path that turns them into a Config or a clear list of errors.
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "shared/config/config.hpp"

namespace glint::config {

void add_standard_flags(CLI::App& app, CommandLine& cl) {
  // One value per occurrence, so "--config-file a.conf positional" cannot swallow the positional.
  app.add_option("--config-file", cl.config_files,
                 "INI configuration file; repeat for several, later files override earlier ones")
      ->type_name("FILE")
      ->allow_extra_args(false);
  app.add_option("--set", cl.overrides,
                 "Override one option as section.key=value (key=value for [DEFAULT]); repeatable, wins over files")
      ->type_name("SECTION.KEY=VALUE")
      ->allow_extra_args(false);
  app.add_flag("--print-sample-config", cl.print_sample,
               "Print a sample configuration with every option and its default, then exit");
}

Config load_or_exit(const CommandLine& cl) {
  if (cl.print_sample) {
    std::cout << render_sample() << std::flush;
    std::exit(0);
  }
  auto loaded = Config::load(cl.config_files, cl.overrides);
  if (auto* errors = std::get_if<std::vector<ConfigError>>(&loaded)) {
    for (const auto& e : *errors) std::cerr << e.to_string() << "\n";
    std::cerr << std::flush;
    std::exit(1);
  }
  for (const auto& w : std::get<Config>(loaded).warnings()) std::cerr << "warning: " << w.to_string() << "\n";
  return std::move(std::get<Config>(loaded));
}

}  // namespace glint::config
