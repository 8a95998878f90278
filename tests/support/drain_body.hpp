// Reads a BodySource to its end (as a server's next() loop does): the bytes, or the first error.
#pragma once
#include <string>

#include "shared/http/message.hpp"

namespace glint::testing {

inline Expected<std::string> drain_body(http::BodySource& src) {
  std::string out;
  for (;;) {
    auto c = src.next();
    if (!c) return c.error();
    if (c->empty()) return out;
    out.append(reinterpret_cast<const char*>(c->data()), c->size());
  }
}

}  // namespace glint::testing
