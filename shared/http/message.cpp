#include "shared/http/message.hpp"

#include <cstdint>

#include <nlohmann/json.hpp>

namespace glint::http {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

void Headers::set(std::string name, std::string value) {
  std::erase_if(items_, [&](const auto& kv) { return iequals(kv.first, name); });
  items_.emplace_back(std::move(name), std::move(value));
}

void Headers::add(std::string name, std::string value) { items_.emplace_back(std::move(name), std::move(value)); }

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : items_)
    if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

namespace {

class BufferedSink final : public BodySink {
 public:
  BufferedSink(size_t max, std::function<Response(std::string)> fn) : max_(max), fn_(std::move(fn)) {}
  Status write(std::span<const std::byte> chunk) override {
    if (body_.size() + chunk.size() > max_) return Status(Errc::too_large, "request body is larger than " + std::to_string(max_) + " bytes");
    body_.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    return {};
  }
  Response finish() override { return fn_(std::move(body_)); }
  Response failed(const Status& why) override { return json_error(413, "Request Entity Too Large", why.message()); }
  void abort() override { body_.clear(); }

 private:
  size_t max_;
  std::function<Response(std::string)> fn_;
  std::string body_;
};

}  // namespace

std::unique_ptr<BodySink> buffered_sink(size_t max_bytes, std::function<Response(std::string)> on_body) {
  return std::make_unique<BufferedSink>(max_bytes, std::move(on_body));
}

Response text_response(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.set("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

Response json_error(int status, std::string_view title, std::string_view message) {
  nlohmann::json j = {{"error", {{"code", status}, {"title", title}, {"message", message}}}};
  // A message may quote what the client sent: never let bad bytes there throw.
  return text_response(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;       // continuation bytes
    uint32_t cp = 0;    // the code point
    uint32_t min = 0;   // the smallest code point this length may encode (no overlong forms)
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xe0) == 0xc0) {
      n = 1, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

std::optional<Response> refuse_malformed(const Request& req) {
  auto control = [](std::string_view v, bool tab_ok) {
    for (unsigned char c : v)
      if ((c < 0x20 && !(tab_ok && c == '\t')) || c == 0x7f) return true;
    return false;
  };
  if (!valid_utf8(req.target) || control(req.target, false))
    return json_error(400, "Bad Request", "the request target is not valid UTF-8 text");
  for (const auto& [name, value] : req.headers.all())
    if (!valid_utf8(name) || !valid_utf8(value) || control(value, true))
      return json_error(400, "Bad Request", "a request header is not valid UTF-8 text");
  return std::nullopt;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 416: return "Requested Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
  }
}

}  // namespace glint::http
