#include "workers/api/api_routes.hpp"

#include "shared/http/message.hpp"

#include <vector>

namespace glint::api {
namespace {

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    const size_t j = path.find('/', i);
    parts.push_back(path.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
    i = j == std::string_view::npos ? path.size() : j;
  }
  return parts;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return http::valid_utf8(out);
}

bool decodes_to_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const int hi = in[i] == '%' && i + 2 < in.size() ? hex(in[i + 1]) : -1;
    const int lo = hi >= 0 ? hex(in[i + 2]) : -1;
    if (lo < 0) {
      out.push_back(in[i]);
      continue;
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return http::valid_utf8(out);
}

ApiRoute route(std::string_view path) {
  ApiRoute r;
  if (path == "/healthcheck") return {ApiRoute::Kind::health, {}, {}};
  if (path == "/metrics") return {ApiRoute::Kind::metrics, {}, {}};
  if (path == "/versions") return {ApiRoute::Kind::versions, {}, {}};
  if (path == "/v2") return {ApiRoute::Kind::v2_redirect, {}, {}};
  const auto p = split(path);
  if (p.empty()) return {ApiRoute::Kind::versions_multiple, {}, {}};
  if (p[0] != "v2") {
    // Glance answers unknown version prefixes (/images, /v3/...) with the versions document.
    if (p[0] == "v1" || p[0] == "v2.0" || p[0] == "v3" || p[0] == "images") return {ApiRoute::Kind::versions_multiple, {}, {}};
    return r;
  }
  if (p.size() == 3 && p[1] == "schemas") return {ApiRoute::Kind::schema, {}, std::string(p[2])};
  if (p.size() == 4 && p[1] == "schemas" && p[2] == "metadefs")
    return {ApiRoute::Kind::schema, {}, "metadefs/" + std::string(p[3])};
  if (p.size() >= 2 && p[1] == "cache" && path.back() != '/' && path.find("//") == std::string_view::npos) {
    if (p.size() == 2) return {ApiRoute::Kind::cache, {}, {}};
    // "clean" and "prune" are not image ids (no uuid is either), so they cannot hide one.
    if (p.size() == 3 && p[2] == "clean") return {ApiRoute::Kind::cache_clean, {}, {}};
    if (p.size() == 3 && p[2] == "prune") return {ApiRoute::Kind::cache_prune, {}, {}};
    if (p.size() == 3) return {ApiRoute::Kind::cache_image, std::string(p[2]), {}};
    if (p.size() == 4 && p[2] == "nodes") return {ApiRoute::Kind::cache_nodes, std::string(p[3]), {}};
    return r;
  }
  if (p.size() < 2 || p[1] != "images") return r;
  // An empty segment is not an image id: GET or DELETE /v2/images/ is Glance's 404, not the list.
  if (path.back() == '/' || path.find("//") != std::string_view::npos) return r;
  if (p.size() == 2) return {ApiRoute::Kind::images, {}, {}};
  r.image_id = std::string(p[2]);
  if (p.size() == 3) r.kind = ApiRoute::Kind::image;
  else if (p.size() == 4 && p[3] == "file") r.kind = ApiRoute::Kind::image_file;
  else if (p.size() == 5 && p[3] == "tags") {
    if (!percent_decode(p[4], r.name)) return {};
    r.kind = ApiRoute::Kind::image_tag;
  } else if (p.size() == 4 && p[3] == "members") {
    r.kind = ApiRoute::Kind::image_members;
  } else if (p.size() == 5 && p[3] == "members") {
    if (!percent_decode(p[4], r.name)) return {};
    r.kind = ApiRoute::Kind::image_member;
  } else if (p.size() == 5 && p[3] == "actions") {
    r.kind = ApiRoute::Kind::image_action;
    r.name = std::string(p[4]);
  } else {
    return {};
  }
  return r;
}

}  // namespace glint::api
