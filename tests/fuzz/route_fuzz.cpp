// Fuzzes glint-store's request routing: a blob route only ever carries a canonical UUID.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "shared/core/uuid.hpp"
#include "workers/store/routes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t sp = in.find(' ');
  std::string_view method = sp == std::string_view::npos ? "GET" : in.substr(0, sp);
  std::string_view path = sp == std::string_view::npos ? in : in.substr(sp + 1);
  auto r = glint::store::route(method, path);
  if (r.kind == glint::store::Route::Kind::blob && !glint::is_canonical_uuid(r.image_id)) std::abort();
  if (r.kind == glint::store::Route::Kind::blob && path != "/v1/blobs/" + r.image_id) std::abort();
  return 0;
}
