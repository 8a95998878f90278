// PATCH /v2/images/{id}: Glance's JSON-patch dialect (application/openstack-images-v2.1-json-patch)
// applied to an image row. Pure; thread-safe.
#pragma once
#include <optional>
#include <string>

#include "shared/db/repositories.hpp"
#include "workers/api/image_create.hpp"

namespace glint::api {

inline constexpr const char* kJsonPatchType = "application/openstack-images-v2.1-json-patch";

// Applies every operation of `body` to img (all or nothing: on error img may be partly changed,
// so callers work on a copy). The error says what Glance answers.
std::optional<ApiError> apply_patch(const std::string& body, db::ImageRow& img);

}  // namespace glint::api
