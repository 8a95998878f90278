// Fuzzes the bus envelope decoder: never crashes; whatever decodes re-encodes to something that
// decodes to the same type, topic and sender.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "shared/bus/envelope.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  auto e = glint::bus::decode(in);
  if (!e) return 0;
  auto again = glint::bus::decode(glint::bus::encode(*e));
  if (!again || again->type != e->type || again->topic != e->topic || again->from.node != e->from.node) std::abort();
  return 0;
}
