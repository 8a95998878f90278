#include "workers/store/routes.hpp"

#include "shared/core/uuid.hpp"

namespace glint::store {

Route route(std::string_view method, std::string_view path) {
  Route r;
  constexpr std::string_view prefix = "/v1/blobs/";
  if (path == "/healthcheck") {
    r.allow = "GET, HEAD";
    if (method == "GET" || method == "HEAD") {
      r.kind = Route::Kind::health;
      r.op = method == "GET" ? Route::Op::get : Route::Op::head;
    } else {
      r.kind = Route::Kind::method_not_allowed;
    }
    return r;
  }
  if (path == "/metrics") {
    r.allow = "GET";
    r.kind = method == "GET" ? Route::Kind::metrics : Route::Kind::method_not_allowed;
    r.op = Route::Op::get;
    return r;
  }
  if (path.size() <= prefix.size() || path.substr(0, prefix.size()) != prefix) return r;
  const std::string_view id = path.substr(prefix.size());
  // Only a canonical UUID names a blob: no '/', '%', '.', upper case or anything else gets through.
  if (!is_canonical_uuid(id)) return r;
  r.image_id = std::string(id);
  r.allow = "PUT, GET, HEAD, DELETE";
  r.kind = Route::Kind::blob;
  if (method == "PUT") r.op = Route::Op::put;
  else if (method == "GET") r.op = Route::Op::get;
  else if (method == "HEAD") r.op = Route::Op::head;
  else if (method == "DELETE") r.op = Route::Op::del;
  else r.kind = Route::Kind::method_not_allowed;
  return r;
}

}  // namespace glint::store
