// The coordinator's authorized-keys file and the sender rule: any text loads or fails with its
// file name; no key read from it may make an operator command pass for a store key.
#include <cstddef>
#include <cstdint>
#include <string>

#include "shared/bus/curve.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  auto keys = glint::bus::parse_authorized_keys(in, "fuzz");
  if (!keys) {
    if (keys.error().message.rfind("fuzz", 0) != 0) __builtin_trap();
  } else {
    for (const auto& [k, who] : *keys) {
      glint::bus::Envelope e;
      e.type = glint::bus::type::kCommand;
      e.from = glint::bus::Sender{who.name, "ctl", 1, ""};
      if (who.role != glint::bus::KeyRole::operator_ && !glint::bus::refuse_sender(who, e)) __builtin_trap();
    }
  }
  (void)glint::bus::key_of_user_id(in);
  return 0;
}
