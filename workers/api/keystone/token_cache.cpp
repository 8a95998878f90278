#include "workers/api/keystone/token_cache.hpp"

#include <optional>

#include <openssl/evp.h>


namespace glint::api {

namespace {
constexpr std::chrono::seconds kOutageRetry{30};

prometheus::Family<prometheus::Counter>& lookups(metrics::Metrics& m) {
  return m.counter("glint_api_token_cache_total",
                   "Token lookups by result: hit, miss (asked Keystone), negative (known invalid), "
                   "stale (served while Keystone was unavailable), unavailable.");
}
}  // namespace

TokenCache::TokenCache(TokenValidator& upstream, const Clock& clock, TokenCacheOptions opts, metrics::Metrics& metrics)
    : upstream_(upstream),
      clock_(clock),
      opts_(opts),
      lookups_(lookups(metrics)),
      hit_(lookups_.Add({{"result", "hit"}})),
      miss_(lookups_.Add({{"result", "miss"}})),
      negative_(lookups_.Add({{"result", "negative"}})),
      stale_(lookups_.Add({{"result", "stale"}})),
      unavailable_(lookups_.Add({{"result", "unavailable"}})) {}

size_t TokenCache::size() const {
  std::lock_guard<std::mutex> lk(mu_);
  return lru_.size();
}

TokenCheck TokenCache::validate(const std::string& token) {
  if (!plausible_token(token)) return TokenCheck::invalid("not a token");
  // One-shot SHA-256 (no per-call digest lookup): this runs on every authenticated request.
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_Digest(token.data(), token.size(), md, &md_len, EVP_sha256(), nullptr);
  const std::string key(reinterpret_cast<const char*>(md), md_len);
  std::optional<TokenCheck> known;  // what the cache said last, for an outage
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (auto it = index_.find(key); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      const Entry& e = *it->second;
      const bool unexpired = e.check.outcome != TokenCheck::Outcome::valid || clock_.wall() < e.check.info.expires_at;
      if (clock_.now() < e.fresh_until && unexpired) {
        (e.check.outcome == TokenCheck::Outcome::valid ? hit_ : negative_).Increment();
        return e.check;
      }
      if (e.check.outcome == TokenCheck::Outcome::valid && unexpired) known = e.check;
    }
  }
  // Asked outside the lock: one slow Keystone call must not hold up every cached request.
  TokenCheck fresh = upstream_.validate(token);
  if (fresh.outcome == TokenCheck::Outcome::unavailable) {
    if (known) {
      stale_.Increment();
      // Trusted a little longer (never past its expiry), so a Keystone that times out costs
      // each token one wait per kOutageRetry, not one per request.
      std::lock_guard<std::mutex> lk(mu_);
      if (auto it = index_.find(key); it != index_.end() && it->second->check.outcome == TokenCheck::Outcome::valid)
        it->second->fresh_until = clock_.now() + std::min<std::chrono::steady_clock::duration>(
                                                     kOutageRetry, std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                                       known->info.expires_at - clock_.wall()));
      return *known;
    }
    unavailable_.Increment();
    return fresh;
  }
  miss_.Increment();
  store(key, fresh);
  return fresh;
}

void TokenCache::store(const std::string& key, const TokenCheck& check) {
  auto fresh_until = clock_.now() + opts_.ttl;
  if (check.outcome == TokenCheck::Outcome::valid) {
    const auto left = check.info.expires_at - clock_.wall();
    fresh_until = std::min(fresh_until, clock_.now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(left));
  }
  std::lock_guard<std::mutex> lk(mu_);
  if (auto it = index_.find(key); it != index_.end()) {
    it->second->check = check;
    it->second->fresh_until = fresh_until;
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Entry{key, check, fresh_until});
  index_[key] = lru_.begin();
  while (lru_.size() > opts_.max_entries) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

}  // namespace glint::api
