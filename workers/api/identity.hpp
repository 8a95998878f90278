// Who is asking, and what they may see and change. Three modes: Glance's no-auth default (one
// context for everybody: sees and changes every image, has no roles); keystone, where identity
// comes only from a token Keystone validated; and a header mode that trusts X-Project-Id / X-Roles
// as sent (only behind a proxy that authenticates and sets them). Pure; thread-safe.
#pragma once
#include <optional>
#include <set>
#include <string>

#include "shared/db/repositories.hpp"
#include "shared/http/message.hpp"
#include "workers/api/keystone/token.hpp"

namespace glint::api {

enum class AuthMode { noauth, keystone, headers };
bool parse_auth_mode(const std::string& text, AuthMode& out);

struct Identity {
  std::optional<std::string> project;  // owner of the images it creates
  std::optional<std::string> user;
  std::optional<std::string> project_domain, user_domain;  // from a Keystone token
  std::set<std::string> roles;
  bool unrestricted = false;  // no-auth: every image is visible and changeable
  bool admin = false;         // the context_is_admin rule (role:admin unless a policy file says otherwise)
  bool is_admin() const { return unrestricted || admin; }
};

// nullopt in header mode when the request carries no X-Project-Id (not authenticated). Not for
// keystone mode, whose identity is identity_from_token's.
std::optional<Identity> identity_from(const http::Request& req, AuthMode mode);
// The identity a validated token carries (client headers play no part).
Identity identity_from_token(const TokenInfo& token);

bool can_see(const Identity& who, const db::ImageRow& img);
bool owns(const Identity& who, const db::ImageRow& img);  // may change it
// Narrows a list query to what `who` may see.
void scope_query(const Identity& who, db::ImageQuery& q);

}  // namespace glint::api
