// Keystone's answers and what comes with a token: the token body parser, the access-rule glob,
// the token plausibility check, the URL and timestamp parsers. None may crash, hang or accept
// an expired token.
#include <cstddef>
#include <cstdint>
#include <string>

#include "shared/core/time_text.hpp"
#include "workers/api/keystone/token.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  const auto now = std::chrono::system_clock::from_time_t(1767225600);  // 2026-01-01
  glint::api::TokenCheck c = glint::api::token_from_body(in, now);
  if (c.outcome == glint::api::TokenCheck::Outcome::valid) {
    if (c.info.expires_at <= now || c.info.user_id.empty()) __builtin_trap();
    const size_t cut = in.size() / 2;
    (void)glint::api::access_allows(c.info, in.substr(0, cut % 8), in.substr(cut));
  }
  glint::api::TokenInfo rules;
  rules.access_rules.emplace();
  rules.access_rules->push_back({"image", "GET", in.substr(0, in.size() / 2)});
  (void)glint::api::access_allows(rules, "GET", in.substr(in.size() / 2));
  (void)glint::api::plausible_token(in);
  (void)glint::api::parse_keystone_url(in);
  std::chrono::system_clock::time_point t;
  (void)glint::parse_iso8601(in, t);
  return 0;
}
