// The policy checks of ApiHandler and the targets they use.
#include "workers/api/image_policy.hpp"

#include "workers/api/api_handler.hpp"
#include "workers/api/image_json.hpp"

namespace glint::api {

PolicyCredentials credentials_of(const Identity& who) {
  PolicyCredentials c;
  c.roles = who.roles;
  c.project_id = who.project;
  c.user_id = who.user;
  c.project_domain_id = who.project_domain;
  c.user_domain_id = who.user_domain;
  return c;
}

PolicyTarget image_target(const db::ImageRow& img, const Identity& who) {
  PolicyTarget t;
  for (const auto& [k, v] : img.properties) t[k] = v;  // extra properties, below the attributes
  t["project_id"] = img.owner;
  t["owner"] = img.owner;
  t["visibility"] = img.visibility;
  t["image_id"] = img.id;
  t["name"] = img.name;
  t["status"] = to_string(img.status);
  const bool shared_with_caller = img.visibility == "shared" && who.project != img.owner;
  t["member_id"] = shared_with_caller ? who.project : std::nullopt;
  return t;
}

PolicyTarget create_target(const std::optional<std::string>& owner, const std::string& visibility) {
  return {{"project_id", owner}, {"owner", owner}, {"visibility", visibility.empty() ? "private" : visibility}};
}

bool ApiHandler::allows(const Identity& who, Action a, const PolicyTarget& target) const {
  return policy().allows(a, credentials_of(who), target);
}

std::optional<http::Response> ApiHandler::refuse(const http::Request& req, const Identity& who, Action a,
                                                 const db::ImageRow& img) const {
  const PolicyTarget target = image_target(img, who);
  if (allows(who, a, target)) return std::nullopt;
  // Glance hides an image from a caller who may not even get it: 404, not 403.
  if (a == Action::get_image || !allows(who, Action::get_image, target))
    return glance_error(req, 404, "The resource could not be found.");
  return glance_error(req, 403, std::string("You are not authorized to complete ") + action_name(a) + " action.");
}

std::optional<http::Response> ApiHandler::refuse_visibility(const http::Request& req, const Identity& who,
                                                            const std::string& visibility, const PolicyTarget& target) const {
  Action a;
  if (visibility == "public") a = Action::publicize_image;
  else if (visibility == "community") a = Action::communitize_image;
  else return std::nullopt;
  if (allows(who, a, target)) return std::nullopt;
  return glance_error(req, 403, std::string("You are not authorized to complete ") + action_name(a) + " action.");
}

}  // namespace glint::api
