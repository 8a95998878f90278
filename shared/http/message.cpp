#include "shared/http/message.hpp"

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
  return text_response(status, j.dump(), "application/json");
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
