// Request routing of glint-store: maps method + path to an operation. Pure; thread-safe.
#pragma once
#include <string>
#include <string_view>

namespace glint::store {

struct Route {
  enum class Kind { blob, health, metrics, not_found, method_not_allowed } kind = Kind::not_found;
  enum class Op { none, put, get, head, del } op = Op::none;
  std::string image_id;  // canonical UUID (only for Kind::blob)
  std::string allow;     // Allow header value for method_not_allowed
};

// /v1/blobs/{uuid} (PUT GET HEAD DELETE), /healthcheck (GET HEAD), /metrics (GET).
// Anything else, including non-canonical ids, dot segments and encoded slashes, is not_found.
Route route(std::string_view method, std::string_view path);

}  // namespace glint::store
