// A bounded cache in front of a TokenValidator, so a hot path costs no Keystone round trip.
// A valid token is trusted for `ttl` after Keystone last said so (never past its own expiry), so
// a revoked token stops working within ttl; an invalid one is remembered for ttl too. While
// Keystone is unavailable, a token it validated before is still served until the token itself
// expires, and unknown tokens get `unavailable`. Keys are SHA-256 digests, never the tokens.
// Least recently used entries go first. Thread-safe.
#pragma once
#include <chrono>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "shared/core/clock.hpp"
#include "shared/metrics/metrics.hpp"
#include "workers/api/keystone/token.hpp"

namespace glint::api {

struct TokenCacheOptions {
  size_t max_entries = 10000;
  std::chrono::milliseconds ttl{300000};  // keystonemiddleware's token_cache_time default
};

class TokenCache final : public TokenValidator {
 public:
  TokenCache(TokenValidator& upstream, const Clock& clock, TokenCacheOptions opts, metrics::Metrics& metrics);
  TokenCheck validate(const std::string& token) override;
  size_t size() const;

 private:
  struct Entry {
    std::string key;
    TokenCheck check;
    std::chrono::steady_clock::time_point fresh_until;
  };
  void store(const std::string& key, const TokenCheck& check);

  TokenValidator& upstream_;
  const Clock& clock_;
  const TokenCacheOptions opts_;
  // One counter per result, looked up once: Family::Add hashes labels under a lock per call, and
  // this runs on every authenticated request.
  prometheus::Family<prometheus::Counter>& lookups_;
  prometheus::Counter &hit_, &miss_, &negative_, &stale_, &unavailable_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // front = most recently used
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace glint::api
