#include "workers/api/image_create.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "shared/core/uuid.hpp"

namespace glint::api {
namespace {

using json = nlohmann::json;

const std::set<std::string> kReadOnly = {"status", "size", "virtual_size", "checksum", "os_hash_algo",
                                         "os_hash_value", "created_at", "updated_at", "self", "file",
                                         "schema", "deleted", "deleted_at", "direct_url", "stores"};

ApiError schema_error(const std::string& detail) {
  return {400, "Provided object does not match schema 'image': " + detail};
}

// Values rendered the way Glance's (Python) schema errors show them: 'text', 5, None, True.
std::string py_repr(const json& v) {
  if (v.is_string()) return "'" + v.get<std::string>() + "'";
  if (v.is_null()) return "None";
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  return v.dump();
}

std::string py_list(const std::vector<std::string>& items) {
  std::string out = "[None";
  for (const auto& i : items) out += ", '" + i + "'";
  return out + "]";
}

const std::vector<std::string> kDiskOrder = {"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"};
const std::vector<std::string> kContainerOrder = {"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"};
constexpr const char* kUuidPattern =
    "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$";

std::optional<ApiError> enum_value(const json& v, const std::vector<std::string>& allowed, std::optional<std::string>& out) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_string() || std::find(allowed.begin(), allowed.end(), v.get<std::string>()) == allowed.end())
    return schema_error(py_repr(v) + " is not one of " + py_list(allowed));
  out = v.get<std::string>();
  return std::nullopt;
}

std::optional<ApiError> non_negative(const std::string& key, const json& v, int& out) {
  if (!v.is_number_integer()) return schema_error(py_repr(v) + " is not of type 'integer'");
  const auto n = v.get<int64_t>();
  if (n < 0) return ApiError{400, "Invalid value '" + std::to_string(n) + "' for parameter '" + key + "': Cannot be a negative value"};
  if (n > 2147483647) return schema_error(v.dump() + " is greater than the maximum of 2147483647");
  out = static_cast<int>(n);
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> apply_attribute(const std::string& key, const json& v, db::ImageRow& img) {
  if (kReadOnly.count(key)) return ApiError{403, "Attribute '" + key + "' is read-only."};
  if (key.rfind("os_glance", 0) == 0)
    return ApiError{403, "Access was denied to this resource.", "Attribute '" + key + "' is reserved."};
  if (key == "id") {
    if (!v.is_string()) return schema_error(py_repr(v) + " is not of type 'string'");
    std::string id = v.get<std::string>();
    std::transform(id.begin(), id.end(), id.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!is_canonical_uuid(id)) return schema_error(py_repr(v) + " does not match '" + kUuidPattern + "'");
    img.id = id;
  } else if (key == "name" || key == "owner") {
    if (v.is_null()) return std::nullopt;
    if (!v.is_string()) return schema_error(py_repr(v) + " is not of type 'string'");
    if (v.get<std::string>().size() > 255) return schema_error(py_repr(v) + " is too long");
    if (key == "name") img.name = v.get<std::string>();
    else img.owner = v.get<std::string>();
  } else if (key == "disk_format") {
    return enum_value(v, kDiskOrder, img.disk_format);
  } else if (key == "container_format") {
    return enum_value(v, kContainerOrder, img.container_format);
  } else if (key == "visibility") {
    std::optional<std::string> vis;
    if (v.is_null()) return schema_error("None is not one of ['community', 'public', 'private', 'shared']");
    if (!v.is_string() || (v != "community" && v != "public" && v != "private" && v != "shared"))
      return schema_error(py_repr(v) + " is not one of ['community', 'public', 'private', 'shared']");
    vis = v.get<std::string>();
    img.visibility = *vis;
  } else if (key == "protected" || key == "os_hidden") {
    if (!v.is_boolean()) return schema_error(py_repr(v) + " is not of type 'boolean'");
    (key == "protected" ? img.protected_ : img.os_hidden) = v.get<bool>();
  } else if (key == "min_ram" || key == "min_disk") {
    return non_negative(key, v, key == "min_ram" ? img.min_ram : img.min_disk);
  } else if (key == "tags") {
    if (!v.is_array()) return schema_error(py_repr(v) + " is not of type 'array'");
    std::set<std::string> seen;
    for (const auto& t : v) {
      if (!t.is_string()) return schema_error(py_repr(t) + " is not of type 'string'");
      if (t.get<std::string>().size() > 255) return schema_error(py_repr(t) + " is too long");
      if (seen.insert(t.get<std::string>()).second) img.tags.push_back(t.get<std::string>());
    }
  } else {
    if (key.size() > 255) return schema_error("property name is too long");
    if (!v.is_string()) return schema_error(py_repr(v) + " is not of type 'string'");
    img.properties[key] = v.get<std::string>();
  }
  return std::nullopt;
}

bool is_read_only_attribute(const std::string& key) { return kReadOnly.count(key) > 0 || key == "id"; }

bool is_standard_attribute(const std::string& key) {
  static const std::set<std::string> standard = {"id", "name", "owner", "disk_format", "container_format", "visibility",
                                                 "protected", "os_hidden", "min_ram", "min_disk", "tags"};
  return standard.count(key) > 0 || kReadOnly.count(key) > 0;
}

std::variant<db::ImageRow, ApiError> image_from_create_body(const std::string& body) {
  if (body.empty()) return ApiError{400, "Body expected in request."};
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return ApiError{400, "Malformed JSON in request body."};
  if (!j.is_object()) return ApiError{400, "Request body must be a JSON object."};
  db::ImageRow img;
  img.status = ImageStatus::queued;
  img.visibility = "shared";
  for (const auto& [key, value] : j.items())
    if (auto e = apply_attribute(key, value, img)) return *e;
  if (img.id.empty()) img.id = random_uuid();
  return img;
}

}  // namespace glint::api
