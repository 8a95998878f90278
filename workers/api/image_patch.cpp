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

// A v2.0 operation ({"replace": "/name", "value": v}) in v2.1's shape, or Glance's 400.
std::optional<ApiError> from_v20(const json& raw, json& out) {
  if (!raw.is_object()) return ApiError{400, "Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\"."};
  std::optional<std::string> name;
  for (const char* key : {"replace", "add", "remove"}) {
    if (!raw.contains(key)) continue;
    if (name) return ApiError{400, "Operation objects must contain only one member named \"add\", \"remove\", or \"replace\"."};
    name = key;
  }
  if (!name) return ApiError{400, "Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\"."};
  out = json{{"op", *name}, {"path", raw[*name]}};
  if (raw.contains("value")) out["value"] = raw["value"];
  return std::nullopt;
}

}  // namespace

std::optional<PatchDialect> patch_dialect(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type == kJsonPatchType) return PatchDialect::v2_1;
  if (type == kJsonPatchTypeV20) return PatchDialect::v2_0;
  return std::nullopt;
}

std::optional<ApiError> apply_patch(const std::string& body, db::ImageRow& img, PatchDialect dialect) {
  json ops = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (ops.is_discarded()) return ApiError{400, "Malformed JSON in request body."};
  if (!ops.is_array()) return ApiError{400, "Request body must be a JSON array of operation objects."};
  for (const auto& raw : ops) {
    json op = raw;
    if (dialect == PatchDialect::v2_0)
      if (auto e = from_v20(raw, op)) return e;
    if (auto e = apply_op(op, img)) return e;
  }
  std::sort(img.tags.begin(), img.tags.end());
  img.tags.erase(std::unique(img.tags.begin(), img.tags.end()), img.tags.end());
  return std::nullopt;
}

}  // namespace glint::api
