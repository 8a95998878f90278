// PATCH /v2/images/{id}: Glance's two JSON-patch dialects applied to an image row. v2.1 is RFC
// 6902's shape ({"op": "replace", "path": "/name", "value": …}); v2.0, which tempest and older
// clients send, names the operation as the key ({"replace": "/name", "value": …}). Pure; thread-safe.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "shared/db/repositories.hpp"
#include "workers/api/image_create.hpp"

namespace glint::api {

inline constexpr const char* kJsonPatchType = "application/openstack-images-v2.1-json-patch";
inline constexpr const char* kJsonPatchTypeV20 = "application/openstack-images-v2.0-json-patch";

enum class PatchDialect { v2_0, v2_1 };
// The dialect a Content-Type names (parameters after ';' ignored); nullopt: 415.
std::optional<PatchDialect> patch_dialect(std::string_view content_type);

// Applies every operation of `body` to img (all or nothing: on error img may be partly changed,
// so callers work on a copy). The error says what Glance answers.
std::optional<ApiError> apply_patch(const std::string& body, db::ImageRow& img, PatchDialect dialect = PatchDialect::v2_1);

}  // namespace glint::api
