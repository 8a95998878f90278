// libFuzzer target for the configuration parser and its value parsers: arbitrary bytes must yield a
// Config or a list of errors, never a crash, hang, leak or undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "shared/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = glint::config::Config::parse(text, "fuzz.conf");
  if (auto* config = std::get_if<glint::config::Config>(&result)) {
    // Whatever was accepted must also be readable through the typed accessors.
    for (const auto& spec : glint::config::catalog()) {
      switch (spec.type) {
        case glint::config::Type::String: (void)config->get_string(spec.section, spec.name); break;
        case glint::config::Type::Int: (void)config->get_int(spec.section, spec.name); break;
        case glint::config::Type::Bool: (void)config->get_bool(spec.section, spec.name); break;
        case glint::config::Type::Size: (void)config->get_size(spec.section, spec.name); break;
        case glint::config::Type::Double: (void)config->get_double(spec.section, spec.name); break;
        case glint::config::Type::Duration: (void)config->get_duration(spec.section, spec.name); break;
      }
    }
  } else {
    for (const auto& e : std::get<std::vector<glint::config::ConfigError>>(result)) (void)e.to_string();
  }
  uint64_t size_value = 0;
  (void)glint::config::parse_size(text, size_value);
  std::chrono::milliseconds duration{};
  (void)glint::config::parse_duration(text, duration);
  bool flag = false;
  (void)glint::config::parse_bool(text, flag);
  return 0;
}
