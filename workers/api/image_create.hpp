// Validates a POST /v2/images body the way Glance's image schema does and builds the new row.
// Pure; thread-safe.
#pragma once
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

// body: the raw request body. On success the row has a fresh id unless the body named one.
std::variant<db::ImageRow, ApiError> image_from_create_body(const std::string& body);

}  // namespace glint::api
