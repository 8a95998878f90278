#include "workers/api/identity.hpp"

#include <algorithm>

namespace glint::api {

bool parse_auth_mode(const std::string& text, AuthMode& out) {
  if (text == "noauth") out = AuthMode::noauth;
  else if (text == "keystone") out = AuthMode::keystone;
  else if (text == "headers") out = AuthMode::headers;
  else return false;
  return true;
}

std::optional<Identity> identity_from(const http::Request& req, AuthMode mode) {
  Identity who;
  if (mode == AuthMode::noauth) {
    who.unrestricted = true;
    return who;
  }
  if (mode != AuthMode::headers) return std::nullopt;
  auto project = req.headers.get("X-Project-Id");
  if (!project) project = req.headers.get("X-Tenant-Id");
  if (!project || project->empty()) return std::nullopt;
  if (auto status = req.headers.get("X-Identity-Status"); status && *status != "Confirmed") return std::nullopt;
  who.project = std::string(*project);
  if (auto roles = req.headers.get("X-Roles")) {
    std::string r(*roles);
    size_t i = 0;
    while (i <= r.size()) {
      size_t j = r.find(',', i);
      if (j == std::string::npos) j = r.size();
      std::string role = r.substr(i, j - i);
      role.erase(0, role.find_first_not_of(' '));
      role.erase(role.find_last_not_of(' ') + 1);
      std::transform(role.begin(), role.end(), role.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (!role.empty()) who.roles.insert(role);
      i = j + 1;
    }
  }
  who.admin = who.roles.count("admin") > 0;
  return who;
}

Identity identity_from_token(const TokenInfo& token) {
  Identity who;
  who.project = token.project_id;
  who.user = token.user_id;
  if (!token.project_domain_id.empty()) who.project_domain = token.project_domain_id;
  if (!token.user_domain_id.empty()) who.user_domain = token.user_domain_id;
  who.roles = token.roles;
  who.admin = who.roles.count("admin") > 0;
  return who;
}

bool owns(const Identity& who, const db::ImageRow& img) {
  return who.is_admin() || (who.project && img.owner && *who.project == *img.owner);
}

bool can_see(const Identity& who, const db::ImageRow& img) {
  if (owns(who, img)) return true;
  // Shared images become visible through members (the members API comes with a later part).
  return img.visibility == "public" || img.visibility == "community";
}

void scope_query(const Identity& who, db::ImageQuery& q) {
  if (!who.is_admin()) q.visible_to = who.project.value_or("");
}

}  // namespace glint::api
