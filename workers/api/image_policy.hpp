// What Glance's policy rules see: credentials from the caller's identity and targets built from
// an image as Glance builds them (project_id is the image's owner; member_id is the caller's
// project when the image is shared with it). Pure; thread-safe.
#pragma once
#include <optional>
#include <string>

#include "shared/db/repositories.hpp"
#include "workers/api/identity.hpp"
#include "workers/api/policy/policy.hpp"

namespace glint::api {

PolicyCredentials credentials_of(const Identity& who);
PolicyTarget image_target(const db::ImageRow& img, const Identity& who);
// POST /v2/images: the proposed owner, and the visibility asked for ('private' when none).
PolicyTarget create_target(const std::optional<std::string>& owner, const std::string& visibility);

}  // namespace glint::api
