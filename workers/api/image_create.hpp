// Validates a POST /v2/images body the way Glance's image schema does and builds the new row.
// Pure; thread-safe.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "shared/db/repositories.hpp"

namespace glint::api {

struct ApiError {
  int status;
  std::string message;
  std::string detail = {};  // Glance's second part ("explanation<br /><br />\ndetail"), if any
};

// Validates one attribute (standard or custom property) as the image schema does and sets it on
// img; the error otherwise (read-only 403, reserved 403, schema mismatch 400, …).
std::optional<ApiError> apply_attribute(const std::string& key, const nlohmann::json& value, db::ImageRow& img);
bool is_read_only_attribute(const std::string& key);
// Attributes that are columns of the image (not custom properties).
bool is_standard_attribute(const std::string& key);

// body: the raw request body. On success the row has a fresh id unless the body named one.
std::variant<db::ImageRow, ApiError> image_from_create_body(const std::string& body);

}  // namespace glint::api
