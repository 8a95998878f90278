#include "workers/api/image_json.hpp"

#include "shared/core/time_text.hpp"

namespace glint::api {

std::string iso8601(db::Timestamp t) { return iso8601_utc(t); }

namespace {

template <class T>
nlohmann::json or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json image_to_json(const db::ImageRow& img) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : img.properties) j[k] = v;  // standard attributes below win
  j["id"] = img.id;
  j["name"] = img.name.empty() ? nlohmann::json(nullptr) : nlohmann::json(img.name);
  j["status"] = to_string(img.status);
  j["visibility"] = img.visibility;
  j["protected"] = img.protected_;
  j["os_hidden"] = img.os_hidden;
  j["owner"] = or_null(img.owner);
  j["size"] = or_null(img.size);
  j["virtual_size"] = or_null(img.virtual_size);
  j["checksum"] = or_null(img.checksum);
  j["os_hash_algo"] = or_null(img.os_hash_algo);
  j["os_hash_value"] = or_null(img.os_hash_value);
  j["disk_format"] = or_null(img.disk_format);
  j["container_format"] = or_null(img.container_format);
  j["min_disk"] = img.min_disk;
  j["min_ram"] = img.min_ram;
  j["created_at"] = iso8601(img.created_at);
  j["updated_at"] = iso8601(img.updated_at);
  j["tags"] = img.tags;
  j["self"] = "/v2/images/" + img.id;
  j["file"] = "/v2/images/" + img.id + "/file";
  j["schema"] = "/v2/schemas/image";
  return j;
}

http::Response json_response(int status, const nlohmann::json& body) {
  // Documents quote what clients sent (names, ids in messages): bad bytes never throw here.
  return http::text_response(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                             "application/json");
}

http::Response glance_error(const http::Request& req, int status, const std::string& message,
                            const std::string& detail) {
  const std::string code = std::to_string(status) + " " + http::reason_phrase(status);
  const std::string tail = detail.empty() ? "<br /><br />\n\n\n" : "<br /><br />\n" + detail + "\n\n";
  auto accept = req.headers.get("Accept");
  if (accept && accept->find("application/json") != std::string_view::npos) {
    nlohmann::json j = {{"message", message + tail}, {"code", code}, {"title", http::reason_phrase(status)}};
    return json_response(status, j);
  }
  const std::string text = message + (detail.empty() ? "" : "\n" + detail);
  if (!accept || accept->empty())
    return http::text_response(status, code + "\n\n" + text + "\n\n   ", "text/plain; charset=UTF-8");
  std::string html = "<html>\n <head>\n  <title>" + code + "</title>\n </head>\n <body>\n  <h1>" + code +
                     "</h1>\n  " + message + tail + "\n </body>\n</html>";
  return http::text_response(status, html, "text/html; charset=UTF-8");
}

// Glance words these two errors differently from the rest ("text<br /><br />\n", no detail).
namespace {

http::Response terse_error(const http::Request& req, int status, const std::string& text) {
  auto accept = req.headers.get("Accept");
  if (accept && accept->find("application/json") != std::string_view::npos)
    return json_response(status, {{"message", text + "<br /><br />\n"},
                                  {"code", std::to_string(status) + " " + http::reason_phrase(status)},
                                  {"title", http::reason_phrase(status)}});
  return glance_error(req, status, text);
}

}  // namespace

http::Response method_not_allowed(const http::Request& req, const std::string& allow) {
  auto r = terse_error(req, 405, "The method " + req.method + " is not allowed for this resource. ");
  r.headers.set("Allow", allow);
  return r;
}

http::Response unsupported_media(const http::Request& req, const std::string& type) {
  return terse_error(req, 415, "The request media type " + type + " is not supported by this server.\n");
}

http::Response no_content() {
  http::Response r;
  r.status = 204;
  return r;
}

}  // namespace glint::api
