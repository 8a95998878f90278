// Glance's JSON shapes: image documents, error bodies, timestamps. Pure functions; thread-safe.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "shared/db/repositories.hpp"
#include "shared/http/message.hpp"

namespace glint::api {

// "2026-11-26T19:45:23Z", as Glance renders created_at/updated_at.
std::string iso8601(db::Timestamp t);

// The image document: standard attributes, custom properties at top level, tags and links.
nlohmann::json image_to_json(const db::ImageRow& img);

// An error as Glance (webob) answers: JSON {"message","code","title"} when the request accepts
// JSON, otherwise the HTML page.
// detail, when given, is Glance's second part ("explanation<br /><br />\ndetail"). Without an
// Accept header the body is plain text, as webob does.
http::Response glance_error(const http::Request& req, int status, const std::string& message,
                            const std::string& detail = {});

// 405 with an Allow header, and 415, worded as Glance words them.
http::Response method_not_allowed(const http::Request& req, const std::string& allow);
http::Response unsupported_media(const http::Request& req, const std::string& type);

// 204 with no body.
http::Response no_content();

// A JSON response with Glance's content type.
http::Response json_response(int status, const nlohmann::json& body);

}  // namespace glint::api
