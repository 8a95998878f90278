// Request signing between glint processes. The signature (HMAC-SHA256 with the cluster's shared
// secret) covers everything a request could be re-aimed or re-used with: method, target, date,
// the destination node, a nonce, the body's framing (declared length or chunked) and the
// conditions (expected digest, If-Match). A store accepts a request only if it is signed for it,
// dated within the allowed skew, and its nonce was not seen before (NonceCache): a captured
// request cannot be replayed, sent to another node or given another body. Thread-safe (pure
// functions; NonceCache locks).
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "shared/core/result.hpp"
#include "shared/http/message.hpp"

namespace glint::http {

inline constexpr std::string_view kDateHeader = "X-Glint-Date";
inline constexpr std::string_view kNodeHeader = "X-Glint-Node";
inline constexpr std::string_view kNonceHeader = "X-Glint-Nonce";
inline constexpr std::string_view kExpectDigestHeader = "X-Glint-Expect-Digest";
inline constexpr std::string_view kAuthScheme = "GLINT-HMAC-SHA256 ";

// What a signature binds, besides date and nonce.
struct SignedFields {
  std::string method;
  std::string target;
  std::string node;           // the destination node's name
  std::string length;         // body_binding() of the request
  std::string expect_digest;  // X-Glint-Expect-Digest, or empty
  std::string if_match;       // If-Match as sent, or empty
};

// The fields of a request about to be sent with `headers` (its conditions are read from them).
SignedFields fields_for(std::string method, std::string target, std::string node, std::string length,
                        const Headers& headers);

// The body's framing as signed: "chunked", the byte count when positive, "" without a body.
std::string body_binding(std::optional<uint64_t> content_length, bool chunked);

// The Authorization header value.
std::string sign(std::string_view secret, const SignedFields& f, int64_t unix_seconds, std::string_view nonce);
// Adds X-Glint-Date, X-Glint-Node, a fresh X-Glint-Nonce and Authorization to `headers`.
void sign_headers(Headers& headers, std::string_view secret, const SignedFields& f,
                  std::chrono::system_clock::time_point now);

struct Verified {
  std::string nonce;
  int64_t date = 0;  // unix seconds
};
// Checks the request against what it carries and against `node` (this store's name): unauthorized
// with the reason (missing, malformed, skew, other node, bad signature). The caller must still
// admit the nonce.
Expected<Verified> verify(const Request& req, std::string_view secret, std::string_view node,
                          std::chrono::system_clock::time_point now, std::chrono::seconds max_skew);

// Nonces seen within the skew window, each kept until its request could no longer pass the date
// check; bounded, so a flood of signed requests cannot grow it without limit. Thread-safe.
class NonceCache {
 public:
  NonceCache(size_t capacity, std::chrono::seconds max_skew) : capacity_(capacity), skew_(max_skew) {}
  // ok the first time; unauthorized for a nonce seen before (a replay) or not a uuid;
  // unavailable when the cache is full of nonces still inside their window.
  Status admit(std::string_view nonce, int64_t date, std::chrono::system_clock::time_point now);
  size_t size() const;

 private:
  using Key = std::array<unsigned char, 16>;
  const size_t capacity_;
  const std::chrono::seconds skew_;
  mutable std::mutex mu_;
  std::set<Key> seen_;
  std::multimap<int64_t, Key> by_expiry_;
};

}  // namespace glint::http
