#include "shared/http/auth.hpp"

#include <charconv>
#include <cstdlib>

#include "shared/core/uuid.hpp"
#include "shared/hash/hash.hpp"

namespace glint::http {

std::string body_binding(std::optional<uint64_t> content_length, bool chunked) {
  if (chunked) return "chunked";
  if (content_length && *content_length > 0) return std::to_string(*content_length);
  return "";
}

SignedFields fields_for(std::string method, std::string target, std::string node, std::string length,
                        const Headers& headers) {
  SignedFields f;
  f.method = std::move(method);
  f.target = std::move(target);
  f.node = std::move(node);
  f.length = std::move(length);
  f.expect_digest = std::string(headers.get(kExpectDigestHeader).value_or(""));
  f.if_match = std::string(headers.get("If-Match").value_or(""));
  return f;
}

std::string sign(std::string_view secret, const SignedFields& f, int64_t unix_seconds, std::string_view nonce) {
  std::string msg;
  msg.reserve(f.method.size() + f.target.size() + f.node.size() + 128);
  for (std::string_view part : {std::string_view(f.method), std::string_view(f.target)}) msg.append(part).push_back('\n');
  msg.append(std::to_string(unix_seconds)).push_back('\n');
  for (std::string_view part : {std::string_view(f.node), nonce, std::string_view(f.length),
                                std::string_view(f.expect_digest), std::string_view(f.if_match)})
    msg.append(part).push_back('\n');
  return std::string(kAuthScheme) + hash::hmac_sha256_hex(secret, msg);
}

void sign_headers(Headers& headers, std::string_view secret, const SignedFields& f,
                  std::chrono::system_clock::time_point now) {
  const int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const std::string nonce = random_uuid();
  headers.set(std::string(kDateHeader), std::to_string(t));
  headers.set(std::string(kNodeHeader), f.node);
  headers.set(std::string(kNonceHeader), nonce);
  headers.set("Authorization", sign(secret, f, t, nonce));
}

Expected<Verified> verify(const Request& req, std::string_view secret, std::string_view node,
                          std::chrono::system_clock::time_point now, std::chrono::seconds max_skew) {
  auto date = req.headers.get(kDateHeader);
  auto auth = req.headers.get("Authorization");
  auto to = req.headers.get(kNodeHeader);
  auto nonce = req.headers.get(kNonceHeader);
  if (!date || !auth || !to || !nonce) return Error{Errc::unauthorized, "request is not signed"};
  int64_t t = 0;
  auto [p, ec] = std::from_chars(date->data(), date->data() + date->size(), t);
  // Bounded before any arithmetic (an absurd date must not overflow the skew computation).
  if (ec != std::errc() || p != date->data() + date->size() || t < 0 || t > 100'000'000'000LL)
    return Error{Errc::unauthorized, "malformed X-Glint-Date"};
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (std::llabs(now_s - t) > max_skew.count())
    return Error{Errc::unauthorized, "request date outside the allowed clock skew"};
  if (*to != node) return Error{Errc::unauthorized, "request is signed for another node"};
  if (!is_canonical_uuid(*nonce)) return Error{Errc::unauthorized, "malformed X-Glint-Nonce"};
  SignedFields f;
  f.method = req.method;
  f.target = req.target;
  f.node = std::string(node);
  f.length = body_binding(req.content_length, req.chunked);
  f.expect_digest = std::string(req.headers.get(kExpectDigestHeader).value_or(""));
  f.if_match = std::string(req.headers.get("If-Match").value_or(""));
  if (!hash::equal_constant_time(sign(secret, f, t, *nonce), *auth)) return Error{Errc::unauthorized, "bad signature"};
  return Verified{std::string(*nonce), t};
}

Status NonceCache::admit(std::string_view nonce, int64_t date, std::chrono::system_clock::time_point now) {
  if (!is_canonical_uuid(nonce)) return Status(Errc::unauthorized, "malformed X-Glint-Nonce");
  Key k{};
  size_t j = 0;
  for (size_t i = 0; i + 1 < nonce.size() && j < k.size(); ++i) {
    if (nonce[i] == '-') continue;
    auto nib = [](char c) { return static_cast<unsigned char>(c <= '9' ? c - '0' : c - 'a' + 10); };
    k[j++] = static_cast<unsigned char>(nib(nonce[i]) << 4 | nib(nonce[i + 1]));
    ++i;
  }
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::lock_guard lk(mu_);
  // Forget nonces whose requests would fail the date check anyway.
  while (!by_expiry_.empty() && by_expiry_.begin()->first < now_s) {
    seen_.erase(by_expiry_.begin()->second);
    by_expiry_.erase(by_expiry_.begin());
  }
  if (seen_.count(k)) return Status(Errc::unauthorized, "replayed request (nonce seen before)");
  if (seen_.size() >= capacity_) return Status(Errc::unavailable, "too many signed requests in the skew window");
  seen_.insert(k);
  by_expiry_.emplace(date + skew_.count(), k);
  return {};
}

size_t NonceCache::size() const {
  std::lock_guard lk(mu_);
  return seen_.size();
}

}  // namespace glint::http
