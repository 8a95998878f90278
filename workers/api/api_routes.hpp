// Request routing of glint-api (the Images API v2 subset). Pure; thread-safe.
#pragma once
#include <string>
#include <string_view>

namespace glint::api {

struct ApiRoute {
  enum class Kind {
    versions_multiple,  // GET / and unknown version prefixes: 300
    versions,           // GET /versions: 200
    v2_redirect,        // GET /v2: 302 to /v2/
    schema,             // GET /v2/schemas/{name}
    images,             // /v2/images
    image,              // /v2/images/{id}
    image_file,         // /v2/images/{id}/file
    image_tag,          // /v2/images/{id}/tags/{tag}
    image_action,       // /v2/images/{id}/actions/{action}
    image_members,      // /v2/images/{id}/members
    image_member,       // /v2/images/{id}/members/{member}
    cache,              // /v2/cache
    cache_image,        // /v2/cache/{id}
    cache_nodes,        // /v2/cache/nodes/{id}
    cache_clean,        // /v2/cache/clean (POST)
    cache_prune,        // /v2/cache/prune (POST)
    health,
    metrics,
    not_found,
  } kind = Kind::not_found;
  std::string image_id;  // as sent (validated by the handler: any non-uuid is "No image found")
  std::string name;      // schema name, tag or action
};

ApiRoute route(std::string_view path);

// Percent-decodes a path segment; false on a malformed escape or when the result is not UTF-8.
bool percent_decode(std::string_view in, std::string& out);
// Whether `in` (a path or query string) percent-decodes to valid UTF-8; malformed escapes are
// left as they are (the routes judge those).
bool decodes_to_utf8(std::string_view in);

}  // namespace glint::api
