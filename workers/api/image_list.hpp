// GET /v2/images: query-string parsing into an ImageQuery (Glance's parameters and errors) and
// the paging links. Pure; thread-safe.
#pragma once
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "shared/db/repositories.hpp"
#include "workers/api/image_create.hpp"

namespace glint::api {

// Decoded key=value pairs of a query string, in order ('+' is a space).
std::vector<std::pair<std::string, std::string>> parse_query(const std::string& query);

std::variant<db::ImageQuery, ApiError> image_query_from(const std::string& query, size_t limit_default,
                                                        size_t limit_max);

// ISO 8601 date-time ("2026-11-26T21:00:00Z", fractions and ±HH:MM offsets accepted).

// "first" link (the query without marker) and "next" link (with marker = last_id).
std::string first_link(const std::string& query);
std::string next_link(const std::string& query, const std::string& last_id);

}  // namespace glint::api
