#include "workers/api/image_list.hpp"

#include "shared/core/time_text.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <set>

#include "workers/api/api_routes.hpp"

namespace glint::api {
namespace {

bool parse_int(const std::string& s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t i = 0;
  for (;;) {
    const size_t j = s.find(sep, i);
    out.push_back(s.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) return out;
    i = j + 1;
  }
}

// The raw query without marker parameters (they are page-specific).
std::string without_marker(const std::string& query) {
  std::string out;
  for (const auto& part : split(query, '&')) {
    if (part.empty() || part.rfind("marker=", 0) == 0) continue;
    out += (out.empty() ? "" : "&") + part;
  }
  return out;
}

// Glance accepts fewer sort keys than the repository can sort by.
const std::set<std::string> kSortKeys = {"name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"};

ApiError bad_sort_key(const std::string& key) {
  return {400, "Invalid sort key: " + key +
                   ". It must be one of the following: name, status, container_format, disk_format, size, id, "
                   "created_at, updated_at."};
}

const std::set<std::string> kEqualFilters = {"name", "status", "visibility", "owner", "disk_format", "container_format"};

// Parameters that are not filters on image properties.
const std::set<std::string> kNonProperty = {"limit", "marker", "sort_key", "sort_dir", "sort", "tag", "protected",
                                            "os_hidden", "size", "size_min", "size_max", "created_at", "updated_at",
                                            "member_status", "id"};

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_query(const std::string& query) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto part : split(query, '&')) {
    if (part.empty()) continue;
    for (auto& c : part)
      if (c == '+') c = ' ';
    const size_t eq = part.find('=');
    std::string k, v;
    if (!percent_decode(part.substr(0, eq), k)) continue;
    if (eq != std::string::npos && !percent_decode(part.substr(eq + 1), v)) continue;
    out.emplace_back(std::move(k), std::move(v));
  }
  return out;
}

std::variant<db::ImageQuery, ApiError> image_query_from(const std::string& query, size_t limit_default,
                                                        size_t limit_max) {
  db::ImageQuery q;
  q.limit = limit_default;
  std::vector<std::string> sort_keys, sort_dirs;
  for (const auto& [k, v] : parse_query(query)) {
    if (k == "limit") {
      int64_t n = 0;
      if (!parse_int(v, n)) return ApiError{400, "limit param must be an integer"};
      if (n < 0) return ApiError{400, "limit param must be positive"};
      q.limit = std::min<size_t>(static_cast<size_t>(n), limit_max);
    } else if (k == "marker") {
      q.marker = v;
    } else if (k == "sort_key") {
      sort_keys.push_back(v);
    } else if (k == "sort_dir") {
      sort_dirs.push_back(v);
    } else if (k == "sort") {
      for (const auto& item : split(v, ',')) {
        const size_t colon = item.find(':');
        const std::string key = item.substr(0, colon);
        const std::string dir = colon == std::string::npos ? "desc" : item.substr(colon + 1);
        if (dir != "asc" && dir != "desc") return ApiError{400, "Invalid sort direction: " + dir};
        if (!kSortKeys.count(key)) return bad_sort_key(key);
        q.sort.emplace_back(key, dir == "asc");
      }
    } else if (kEqualFilters.count(k)) {
      if (k == "visibility" && v != "public" && v != "private" && v != "shared" && v != "community" && v != "all")
        return ApiError{400, "Invalid visibility value: " + v};
      if (!(k == "visibility" && v == "all")) q.equals[k] = v;
    } else if (k == "member_status") {
      if (v != "pending" && v != "accepted" && v != "rejected" && v != "all")
        return ApiError{400, "Invalid status value: " + v};
      q.member_status = v;
    } else if (k == "tag") {
      q.tag = v;
    } else if (k == "protected" || k == "os_hidden") {
      if (v != "true" && v != "false") return ApiError{400, "Invalid value for " + k + ": " + v};
      (k == "protected" ? q.protected_ : q.os_hidden) = v == "true";
    } else if (k == "created_at" || k == "updated_at") {
      const size_t colon = v.find(':');
      std::string op = "eq", when = v;
      static const std::set<std::string> ops = {"eq", "neq", "gt", "gte", "lt", "lte"};
      if (colon != std::string::npos && ops.count(v.substr(0, colon))) {
        op = v.substr(0, colon);
        when = v.substr(colon + 1);
      }
      db::Timestamp ts;
      if (!parse_iso8601(when, ts))
        return ApiError{400, "Bad \"" + k + "\" query filter format. Use ISO 8601 DateTime notation."};
      q.times.push_back({k, op, ts});
    } else if (k == "size_min" || k == "size_max") {
      int64_t n = 0;
      if (!parse_int(v, n)) return ApiError{400, "Unable to filter on a range with a non-numeric value."};
      (k == "size_min" ? q.size_min : q.size_max) = n;
    } else if (k == "size") {
      // A column, not a custom property: an exact size is the range [size, size].
      int64_t n = 0;
      if (!parse_int(v, n)) return ApiError{400, "Unable to filter on a range with a non-numeric value."};
      q.size_min = q.size_max = n;
    } else if (!kNonProperty.count(k)) {
      q.properties[k] = v;  // any other key filters on a custom property, as in Glance
    }
  }
  // Hidden images stay out of lists unless asked for (os_hidden=true).
  if (!q.os_hidden) q.os_hidden = false;
  if (!sort_keys.empty() || !sort_dirs.empty()) {
    if (!q.sort.empty()) return ApiError{400, "The 'sort' parameter cannot be combined with sort_key/sort_dir"};
    if (sort_keys.empty()) sort_keys.push_back("created_at");
    for (size_t i = 0; i < sort_keys.size(); ++i) {
      const std::string dir = i < sort_dirs.size() ? sort_dirs[i] : (sort_dirs.empty() ? "desc" : sort_dirs.back());
      if (dir != "asc" && dir != "desc") return ApiError{400, "Invalid sort direction: " + dir};
      if (!kSortKeys.count(sort_keys[i])) return bad_sort_key(sort_keys[i]);
      q.sort.emplace_back(sort_keys[i], dir == "asc");
    }
  }
  return q;
}

std::string first_link(const std::string& query) {
  const std::string q = without_marker(query);
  return q.empty() ? "/v2/images" : "/v2/images?" + q;
}

std::string next_link(const std::string& query, const std::string& last_id) {
  const std::string q = without_marker(query);
  return "/v2/images?" + (q.empty() ? "" : q + "&") + "marker=" + last_id;
}

}  // namespace glint::api
