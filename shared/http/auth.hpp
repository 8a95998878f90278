// Request signing between glint processes: HMAC-SHA256 over "METHOD\nTARGET\nDATE" with a shared
// secret; DATE (unix seconds, header X-Glint-Date) must lie within the allowed clock skew.
// Pure functions; thread-safe.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "shared/core/result.hpp"
#include "shared/http/message.hpp"

namespace glint::http {

inline constexpr std::string_view kDateHeader = "X-Glint-Date";
inline constexpr std::string_view kAuthScheme = "GLINT-HMAC-SHA256 ";

// The Authorization header value for a request.
std::string sign(std::string_view secret, std::string_view method, std::string_view target, int64_t unix_seconds);
// Adds X-Glint-Date and Authorization to `headers`.
void sign_headers(Headers& headers, std::string_view secret, std::string_view method, std::string_view target,
                  std::chrono::system_clock::time_point now);
// ok, or unauthorized with the reason (missing, malformed, skew, bad signature).
Status verify(const Request& req, std::string_view secret, std::chrono::system_clock::time_point now,
              std::chrono::seconds max_skew);

}  // namespace glint::http
