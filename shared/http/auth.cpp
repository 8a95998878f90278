#include "shared/http/auth.hpp"

#include <charconv>
#include <cstdlib>

#include "shared/hash/hash.hpp"

namespace glint::http {

std::string sign(std::string_view secret, std::string_view method, std::string_view target, int64_t unix_seconds) {
  std::string msg;
  msg.reserve(method.size() + target.size() + 24);
  msg.append(method).append("\n").append(target).append("\n").append(std::to_string(unix_seconds));
  return std::string(kAuthScheme) + hash::hmac_sha256_hex(secret, msg);
}

void sign_headers(Headers& headers, std::string_view secret, std::string_view method, std::string_view target,
                  std::chrono::system_clock::time_point now) {
  const int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  headers.set(std::string(kDateHeader), std::to_string(t));
  headers.set("Authorization", sign(secret, method, target, t));
}

Status verify(const Request& req, std::string_view secret, std::chrono::system_clock::time_point now,
              std::chrono::seconds max_skew) {
  auto date = req.headers.get(kDateHeader);
  auto auth = req.headers.get("Authorization");
  if (!date || !auth) return {Errc::unauthorized, "request is not signed"};
  int64_t t = 0;
  auto [p, ec] = std::from_chars(date->data(), date->data() + date->size(), t);
  if (ec != std::errc() || p != date->data() + date->size()) return {Errc::unauthorized, "malformed X-Glint-Date"};
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (std::llabs(now_s - t) > max_skew.count()) return {Errc::unauthorized, "request date outside the allowed clock skew"};
  const std::string expect = sign(secret, req.method, req.target, t);
  if (!hash::equal_constant_time(expect, *auth)) return {Errc::unauthorized, "bad signature"};
  return {};
}

}  // namespace glint::http
