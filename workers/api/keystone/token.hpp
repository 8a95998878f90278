// What a validated Keystone token says about its bearer, and the seam that validates one
// (KeystoneValidator against a real Keystone, TokenCache in front of it, fakes in tests).
// Values only; implementations of TokenValidator are thread-safe.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "shared/core/result.hpp"

namespace glint::api {

// An application credential's access rule: the token may only be used for these requests.
struct AccessRule {
  std::string service;  // service type, e.g. "image"
  std::string method;
  std::string path;     // glob: "*" one path segment, "**" any number
};

struct TokenInfo {
  std::string user_id, user_name, user_domain_id;
  std::optional<std::string> project_id;  // nullopt: not project-scoped (domain/system/unscoped)
  std::string project_name, project_domain_id;
  std::set<std::string> roles;  // lower-cased names
  std::chrono::system_clock::time_point expires_at{};
  std::optional<std::vector<AccessRule>> access_rules;  // nullopt: unrestricted
};

struct TokenCheck {
  enum class Outcome { valid, invalid, unavailable };
  Outcome outcome = Outcome::invalid;
  TokenInfo info;      // when valid
  std::string reason;  // for the log when not valid; never the token itself
  static TokenCheck invalid(std::string why) { return {Outcome::invalid, {}, std::move(why)}; }
  static TokenCheck unavailable(std::string why) { return {Outcome::unavailable, {}, std::move(why)}; }
};

class TokenValidator {
 public:
  virtual ~TokenValidator() = default;
  virtual TokenCheck validate(const std::string& token) = 0;
};

// A Keystone v3 endpoint split into what the HTTP client needs.
struct KeystoneEndpoint {
  std::string host;
  uint16_t port = 80;  // 443 for https without a port
  std::string prefix;  // path before /v3, without a trailing slash ("" or "/identity")
  bool https = false;
};
// Errc::invalid for anything but http[s]://HOST[:PORT][/PATH].
Expected<KeystoneEndpoint> parse_keystone_url(const std::string& url);

// What Keystone's token body says (GET /v3/auth/tokens). Pure: the body of a 200, checked
// against `now` (an expired token is invalid); invalid with a reason for a body that is not one.
TokenCheck token_from_body(const std::string& body, std::chrono::system_clock::time_point now);

inline constexpr const char* kNotATokenDocument = "Keystone's answer is not a token document";

// Whether a token restricted by access rules may make this request to the image service
// (keystonemiddleware's rule: same method, service type "image", path glob matches).
bool access_allows(const TokenInfo& info, const std::string& method, const std::string& path);

// A token is sent to Keystone only if it looks like one: printable ASCII without spaces, at most
// 8 KiB (fernet and JWS tokens are far shorter). Anything else is invalid without a round trip.
bool plausible_token(const std::string& token);

}  // namespace glint::api
