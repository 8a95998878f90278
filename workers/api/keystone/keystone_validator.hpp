// Validates user tokens against a Keystone v3 as keystonemiddleware does: a service user's own
// token (password auth, project-scoped, renewed before it expires or when Keystone refuses it)
// authorises GET /v3/auth/tokens for each user token. Thread-safe: calls from many request
// threads share the service token under a lock; each call uses its own connection.
#pragma once
#include <chrono>
#include <memory>
#include <string>

#include "shared/core/clock.hpp"
#include "shared/core/result.hpp"
#include "shared/log/log.hpp"
#include "workers/api/keystone/token.hpp"

namespace glint::config { class Config; }

namespace glint::api {

struct KeystoneOptions {
  std::string auth_url;  // http://HOST[:PORT][/PREFIX], with or without a trailing /v3
  std::string username, password, project_name;
  std::string user_domain_name = "Default", project_domain_name = "Default";
  std::string user_domain_id, project_domain_id;  // used instead of the names when set
  std::chrono::milliseconds timeout{5000};        // per Keystone request (connect, read, write)
  std::string cafile;  // https: the CAs Keystone's certificate may chain to (empty: the system's)
  int max_in_flight = 2;                          // validations waiting on Keystone at once
};

// The [keystone_authtoken] options; Errc::invalid naming the option when one is missing/bad.
Expected<KeystoneOptions> keystone_options(const config::Config& cfg);

std::unique_ptr<TokenValidator> make_keystone_validator(KeystoneOptions opts, const Clock& clock, log::Logger logger);

}  // namespace glint::api
