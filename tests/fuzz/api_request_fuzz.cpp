// Fuzzes glint-api's request parsers: routing, UTF-8 checks of targets and headers, list query
// strings, ISO 8601 times, image-create bodies, JSON-patch documents and disk image headers. Input: "path\nquery\nbody". Never crashes; results hold
// their invariants.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "shared/core/time_text.hpp"
#include "shared/core/uuid.hpp"
#include "shared/http/message.hpp"
#include "workers/api/api_routes.hpp"
#include "workers/api/image_create.hpp"
#include "workers/api/image_list.hpp"
#include "workers/api/image_patch.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  const size_t a = in.find('\n');
  const size_t b = a == std::string::npos ? std::string::npos : in.find('\n', a + 1);
  const std::string path = in.substr(0, a);
  const std::string query = a == std::string::npos ? "" : in.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
  const std::string body = b == std::string::npos ? "" : in.substr(b + 1);

  (void)glint::api::route(path);
  // Text checks at the edge: never throw, and an error body quoting bad bytes is still JSON.
  glint::http::Request req;
  req.target = path;
  req.headers.add("X-Fuzz", query);
  (void)glint::http::refuse_malformed(req);
  (void)glint::api::decodes_to_utf8(path);
  if (glint::http::json_error(400, "Bad Request", path + query).body.empty()) std::abort();
  std::string decoded;
  if (glint::api::percent_decode(path, decoded) && !glint::http::valid_utf8(decoded)) std::abort();
  auto q = glint::api::image_query_from(query, 25, 1000);
  if (auto* iq = std::get_if<glint::db::ImageQuery>(&q); iq && iq->limit > 1000) std::abort();
  glint::db::Timestamp ts;
  (void)glint::parse_iso8601(query, ts);

  auto created = glint::api::image_from_create_body(body);
  if (auto* img = std::get_if<glint::db::ImageRow>(&created)) {
    if (!glint::is_canonical_uuid(img->id) || img->status != glint::ImageStatus::queued || img->min_ram < 0 || img->min_disk < 0) std::abort();
    glint::db::ImageRow patched = *img;
    (void)glint::api::apply_patch(body, patched);
  }
  glint::db::ImageRow blank;
  blank.id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
  (void)glint::api::apply_patch(body, blank);
  if (blank.id != "3f2504e0-4f89-41d3-9a0c-0305e82c3301" || blank.checksum.has_value()) std::abort();  // read-only stays unset
  return 0;
}
