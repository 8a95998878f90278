// A Keystone stand-in for unit tests: tokens the test registers are valid, everything else is
// invalid; `down` makes every call unavailable (an outage); counts the calls that reached it.
// Thread-safe.
#pragma once
#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "workers/api/keystone/token.hpp"

namespace glint::testing {

class FakeTokenValidator final : public api::TokenValidator {
 public:
  void add(const std::string& token, api::TokenInfo info) {
    std::lock_guard<std::mutex> lk(mu_);
    tokens_[token] = std::move(info);
  }
  void revoke(const std::string& token) {
    std::lock_guard<std::mutex> lk(mu_);
    tokens_.erase(token);
  }
  api::TokenCheck validate(const std::string& token) override {
    ++calls;
    if (down) return api::TokenCheck::unavailable("fake keystone is down");
    std::lock_guard<std::mutex> lk(mu_);
    auto it = tokens_.find(token);
    if (it == tokens_.end()) return api::TokenCheck::invalid("unknown token");
    return {api::TokenCheck::Outcome::valid, it->second, {}};
  }
  std::atomic<bool> down{false};
  std::atomic<int> calls{0};

 private:
  std::mutex mu_;
  std::map<std::string, api::TokenInfo> tokens_;
};

}  // namespace glint::testing
