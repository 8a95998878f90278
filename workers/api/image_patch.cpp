#include "workers/api/image_patch.hpp"

namespace glint::api {
namespace {

using json = nlohmann::json;

// "/name" -> "name" with JSON-pointer escapes decoded; nullopt for anything deeper ("/tags/-").
std::optional<std::string> top_level_key(const std::string& path) {
  if (path.size() < 2 || path[0] != '/' || path.find('/', 1) != std::string::npos) return std::nullopt;
  std::string key;
  for (size_t i = 1; i < path.size(); ++i) {
    if (path[i] == '~' && i + 1 < path.size() && (path[i + 1] == '0' || path[i + 1] == '1')) {
      key.push_back(path[i + 1] == '0' ? '~' : '/');
      ++i;
    } else {
      key.push_back(path[i]);
    }
  }
  return key;
}

ApiError conflict_missing(const std::string& key) {
  return {409, "There was a conflict when trying to complete your request.", "Property " + key + " does not exist."};
}

std::optional<ApiError> apply_op(const json& op, db::ImageRow& img) {
  if (!op.is_object() || !op.contains("op") || !op["op"].is_string() || !op.contains("path") || !op["path"].is_string())
    return ApiError{400, "Operation objects must contain exactly one member named \"op\" and one member named \"path\"."};
  const std::string name = op["op"];
  if (name != "add" && name != "remove" && name != "replace")
    return ApiError{400, "Invalid operation: `" + name + "`. It must be one of the following: add, remove, replace."};
  const std::string path = op["path"];
  const auto key = top_level_key(path);
  if (!key) return ApiError{400, "Invalid JSON pointer for this resource: '" + path + "'"};
  if (name != "remove" && !op.contains("value")) return ApiError{400, "Operation \"" + name + "\" requires a member named \"value\"."};
  if (is_read_only_attribute(*key)) return ApiError{403, "Attribute '" + *key + "' is read-only."};
  if (key->rfind("os_glance", 0) == 0)
    return ApiError{403, "Access was denied to this resource.", "Attribute '" + *key + "' is reserved."};
  if ((*key == "disk_format" || *key == "container_format") && img.status != ImageStatus::queued)
    return ApiError{403, "Attribute " + *key + " can be only replaced for a queued image."};

  if (is_standard_attribute(*key)) {
    if (name == "remove")
      return ApiError{403, "Access was denied to this resource.", "Property " + *key + " may not be removed."};
    if (*key == "tags") img.tags.clear();  // the value replaces the whole list
    if (*key == "name" && op["value"].is_null()) {
      img.name.clear();
      return std::nullopt;
    }
    return apply_attribute(*key, op["value"], img);
  }
  const bool exists = img.properties.count(*key) > 0;
  if (name == "remove") {
    if (!exists) return conflict_missing(*key);
    img.properties.erase(*key);
    return std::nullopt;
  }
  if (name == "replace" && !exists) return conflict_missing(*key);
  return apply_attribute(*key, op["value"], img);
}

}  // namespace

std::optional<ApiError> apply_patch(const std::string& body, db::ImageRow& img) {
  json ops = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (ops.is_discarded()) return ApiError{400, "Malformed JSON in request body."};
  if (!ops.is_array()) return ApiError{400, "Request body must be a JSON array of operation objects."};
  for (const auto& op : ops)
    if (auto e = apply_op(op, img)) return e;
  std::sort(img.tags.begin(), img.tags.end());
  img.tags.erase(std::unique(img.tags.begin(), img.tags.end()), img.tags.end());
  return std::nullopt;
}

}  // namespace glint::api
