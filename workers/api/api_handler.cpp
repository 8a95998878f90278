#include "workers/api/api_handler.hpp"

#include "shared/core/uuid.hpp"
#include "workers/api/api_routes.hpp"
#include "workers/api/image_create.hpp"
#include "workers/api/image_json.hpp"
#include "workers/api/image_list.hpp"
#include "workers/api/image_patch.hpp"
#include "workers/api/schemas.hpp"

namespace glint::api {

namespace {

constexpr size_t kMaxJsonBody = 64 * 1024;

std::string host_of(const http::Request& req) {
  auto h = req.headers.get("Host");
  return h ? std::string(*h) : std::string("localhost");
}

}  // namespace

ApiHandler::ApiHandler(ApiOptions opts, db::ImageRepository& images, db::MemberRepository& members,
                       ImageData& data, metrics::Metrics& metrics, log::Logger logger)
    : opts_(opts),
      images_(images),
      members_(members),
      data_(data),
      metrics_(metrics),
      requests_(metrics.counter("glint_api_requests_total", "API requests served, by method and status code.")),
      latency_(metrics.histogram("glint_api_request_seconds", "Time to answer an API request.").Add({}, metrics::latency_buckets())),
      log_(std::move(logger)) {}

http::Reply ApiHandler::handle_request(const http::Request& req) {
  // What the path and query name once percent-decoded must be text too (%FF is not a name).
  if (!decodes_to_utf8(req.path) || !decodes_to_utf8(req.query))
    return http::Reply::of(glance_error(req, 400, "The request contains characters that are not valid UTF-8."));
  // Outside authentication, as in Glance's paste pipeline (and a load balancer's probe).
  const bool open = req.path == "/healthcheck" || req.path == "/metrics" || req.path == "/" || req.path == "/versions";
  if (opts_.auth_mode == AuthMode::keystone) return open ? route_request(req, Identity{}) : route_with_token(req);
  const auto who = identity_from(req, opts_.auth_mode);
  if (!who) {
    if (open) return route_request(req, Identity{});
    return http::Reply::of(glance_error(req, 401, "The request you have made requires authentication."));
  }
  return route_request(req, with_policy(*who));
}

http::Reply ApiHandler::route_with_token(const http::Request& req) {
  auto header = req.headers.get("X-Auth-Token");
  if (!header) header = req.headers.get("X-Storage-Token");
  std::string token = header ? std::string(*header) : std::string();
  token.erase(0, token.find_first_not_of(" \t"));
  token.erase(token.find_last_not_of(" \t") + 1);
  if (token.empty() || !opts_.tokens) return http::Reply::of(unauthorized(req));
  TokenCheck check = opts_.tokens->validate(token);
  switch (check.outcome) {
    case TokenCheck::Outcome::unavailable:
      log_.warn("auth.keystone_unavailable", {{"reason", check.reason}});
      return http::Reply::of(glance_error(req, 503, "The server is currently unavailable. Please try again at a later time.",
                                          "The Keystone service is temporarily unavailable."));
    case TokenCheck::Outcome::invalid:
      log_.info("auth.token_refused", {{"reason", check.reason}, {"path", req.path}});
      return http::Reply::of(unauthorized(req));
    case TokenCheck::Outcome::valid:
      break;
  }
  if (!access_allows(check.info, req.method, req.path)) {
    log_.info("auth.token_refused", {{"reason", "outside the application credential's access rules"}, {"path", req.path}});
    return http::Reply::of(unauthorized(req));
  }
  return route_request(req, with_policy(identity_from_token(check.info)));
}

Identity ApiHandler::with_policy(Identity who) const {
  who.admin = allows(who, Action::context_is_admin, {});
  return who;
}

http::Response ApiHandler::unauthorized(const http::Request&) {
  // keystonemiddleware's answer: JSON whatever the Accept header, and where to get a token.
  const nlohmann::json body = {{"error", {{"code", 401}, {"title", "Unauthorized"},
                                          {"message", "The request you have made requires authentication."}}}};
  http::Response resp = http::text_response(401, body.dump(), "application/json; charset=UTF-8");
  resp.headers.set("WWW-Authenticate", "Keystone uri=\"" + opts_.www_authenticate_uri + "\"");
  return resp;
}

http::Reply ApiHandler::route_request(const http::Request& req, const Identity& who) {
  const ApiRoute r = route(req.path);
  const std::string& m = req.method;
  switch (r.kind) {
    case ApiRoute::Kind::health:
      // Answered from memory: a database outage must not make the health check hang too.
      if (opts_.database_up && !opts_.database_up())
        return http::Reply::of(http::text_response(503, "database unavailable"));
      return http::Reply::of(http::text_response(200, "OK"));
    case ApiRoute::Kind::metrics:
      return http::Reply::of(http::text_response(200, metrics_.render(), "text/plain; version=0.0.4"));
    case ApiRoute::Kind::versions_multiple:
      return http::Reply::of(versions(req, 300));
    case ApiRoute::Kind::versions:
      return http::Reply::of(versions(req, 200));
    case ApiRoute::Kind::v2_redirect: {
      http::Response resp = http::text_response(302, "");
      resp.headers.set("Location", "http://" + host_of(req) + "/v2/");
      return http::Reply::of(std::move(resp));
    }
    case ApiRoute::Kind::images:
      if (m == "POST")
        return http::Reply::upload(http::buffered_sink(kMaxJsonBody, [this, req, who](std::string body) { return create(req, who, body); }));
      if (m == "GET") return http::Reply::of(list(req, who));
      return http::Reply::of(method_not_allowed(req, "GET, POST"));
    case ApiRoute::Kind::image:
      if (m == "GET") return http::Reply::of(show(req, who, r.image_id));
      if (m == "DELETE") return http::Reply::of(remove(req, who, r.image_id));
      if (m == "PATCH") {
        auto ct = req.headers.get("Content-Type");
        const auto dialect = ct ? patch_dialect(*ct) : std::nullopt;
        if (!dialect) {
          const std::string type = ct ? std::string(*ct) : std::string("None");
          return http::Reply::of(unsupported_media(req, type));
        }
        const std::string id = r.image_id;
        return http::Reply::upload(http::buffered_sink(
            kMaxJsonBody, [this, req, who, id, d = *dialect](std::string body) { return patch(req, who, id, body, d); }));
      }
      return http::Reply::of(method_not_allowed(req, "GET, PATCH, DELETE"));
    case ApiRoute::Kind::image_tag:
      if (m == "PUT" || m == "DELETE") return http::Reply::of(tag(req, who, r.image_id, r.name));
      return http::Reply::of(method_not_allowed(req, "PUT, DELETE"));
    case ApiRoute::Kind::image_action:
      if (m == "POST") return http::Reply::of(action(req, who, r.image_id, r.name));
      return http::Reply::of(method_not_allowed(req, "POST"));
    case ApiRoute::Kind::schema: {
      auto it = schema_documents().find(r.name);
      if (it == schema_documents().end()) break;
      if (m != "GET") return http::Reply::of(method_not_allowed(req, "GET"));
      return http::Reply::of(http::text_response(200, it->second, "application/json"));
    }
    case ApiRoute::Kind::image_file:
      return file(req, who, r.image_id);
    case ApiRoute::Kind::image_members:
    case ApiRoute::Kind::image_member: {
      const std::string id = r.image_id, member = r.name;
      if (m == "POST" || m == "PUT")
        return http::Reply::upload(http::buffered_sink(
            kMaxJsonBody, [this, req, who, id, member](std::string body) { return members(req, who, id, member, body); }));
      return http::Reply::of(members(req, who, id, member, {}));
    }
    case ApiRoute::Kind::cache:
    case ApiRoute::Kind::cache_image:
    case ApiRoute::Kind::cache_nodes:
    case ApiRoute::Kind::cache_clean:
    case ApiRoute::Kind::cache_prune:
      return http::Reply::of(cache_api(req, who, r.kind, r.image_id));
    case ApiRoute::Kind::not_found:
      break;
  }
  return http::Reply::of(glance_error(req, 404, "The resource could not be found."));
}

http::Response ApiHandler::versions(const http::Request& req, int status) {
  const std::string href = "http://" + host_of(req) + "/v2/";
  nlohmann::json list = nlohmann::json::array();
  // The versions Glance 25 advertises with its cache API (v2.14-2.16), without multi-store; with a
  // cache this node also has the cache's nodes (2.17) and clean/prune calls (2.18).
  std::vector<int> minors{16, 15, 14, 9, 7, 6, 5, 4, 3, 2, 1, 0};
  if (opts_.cache) minors.insert(minors.begin(), {18, 17});
  for (int minor : minors) {
    list.push_back({{"id", "v2." + std::to_string(minor)},
                    {"status", minor == minors.front() ? "CURRENT" : "SUPPORTED"},
                    {"links", {{{"rel", "self"}, {"href", href}}}}});
  }
  return json_response(status, {{"versions", list}});
}

http::Response ApiHandler::unavailable(const http::Request& req, const Error& e) {
  log_.error("db.failed", {{"req", req.request_id}, {"error", e.message}});
  return glance_error(req, 503, "The image catalog is unavailable; try again later.");
}

http::Response ApiHandler::create(const http::Request& req, const Identity& who, const std::string& body) {
  auto parsed = image_from_create_body(body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return glance_error(req, e->status, e->message, e->detail);
  db::ImageRow img = std::move(std::get<db::ImageRow>(parsed));
  if (!img.owner) img.owner = who.project;
  // Glance's order: add_image, the visibility's rule, then (legacy) the owner check. The target's
  // visibility is 'private' when none was asked for ("shared" is only the image's default).
  const PolicyTarget target = create_target(img.owner, img.visibility == "shared" ? "private" : img.visibility);
  const std::string owned_by = "You are not permitted to create images owned by '" + img.owner.value_or("None") + "'";
  if (!allows(who, Action::add_image, target))
    return glance_error(req, 403, img.owner != who.project ? owned_by : "You are not authorized to complete add_image action.");
  if (auto refused = refuse_visibility(req, who, img.visibility, target)) return std::move(*refused);
  if (!policy().secure_rbac() && img.owner != who.project && !who.is_admin()) return glance_error(req, 403, owned_by + ".");
  img.created_at = img.updated_at = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  Status s = images_.create(img);
  if (s.code() == Errc::conflict) return glance_error(req, 409, "Image ID " + img.id + " already exists!");
  if (!s) return unavailable(req, s.error());
  std::sort(img.tags.begin(), img.tags.end());
  auto resp = json_response(201, image_to_json(img));
  resp.headers.set("Location", "http://" + host_of(req) + "/v2/images/" + img.id);
  log_.info("image.created", {{"req", req.request_id}, {"image", img.id}});
  return resp;
}

Expected<std::optional<db::ImageRow>> ApiHandler::visible_image(const Identity& who, const std::string& id) {
  auto img = images_.get(id);
  if (!img) return img.error();
  if (!*img || (*img)->status == ImageStatus::deleted || (*img)->status == ImageStatus::pending_delete)
    return std::optional<db::ImageRow>();
  if (can_see(who, **img)) return img;
  // A shared image is visible to its members, whatever their status (Glance lists it only once
  // accepted; that is the list query's business).
  if ((*img)->visibility == "shared" && who.project) {
    auto m = members_.get(id, *who.project);
    if (!m) return m.error();
    if (*m) return img;
  }
  return std::optional<db::ImageRow>();
}

http::Response ApiHandler::show(const http::Request& req, const Identity& who, const std::string& id) {
  auto img = visible_image(who, id);
  if (!img) return unavailable(req, img.error());
  if (!*img) return glance_error(req, 404, "No image found with ID " + id);
  if (auto refused = refuse(req, who, Action::get_image, **img)) return std::move(*refused);
  return json_response(200, image_to_json(**img));
}

http::Response ApiHandler::patch(const http::Request& req, const Identity& who, const std::string& id,
                                 const std::string& body, PatchDialect dialect) {
  // Optimistic concurrency: re-read and re-apply when another writer changed the image meanwhile.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto cur = visible_image(who, id);
    if (!cur) return unavailable(req, cur.error());
    if (!*cur) return glance_error(req, 404, "No image found with ID " + id);
    db::ImageRow img = **cur;
    if (auto e = apply_patch(body, img, dialect)) return glance_error(req, e->status, e->message, e->detail);
    // Whatever the operation (replace or add), only an admin gives an image away.
    if (img.owner != (*cur)->owner && !who.is_admin())
      return glance_error(req, 403, "Access was denied to this resource.", "Owner can't be updated by non admin.");
    if (img.visibility != (*cur)->visibility)
      if (auto refused = refuse_visibility(req, who, img.visibility, image_target(**cur, who))) return std::move(*refused);
    if (auto refused = refuse(req, who, Action::modify_image, **cur)) return std::move(*refused);
    if (!owns(who, **cur)) return glance_error(req, 403, "You do not own this image");
    Status s = images_.save(img);
    if (s.code() == Errc::conflict) continue;
    if (s.code() == Errc::not_found) return glance_error(req, 404, "No image found with ID " + id);
    if (!s) return unavailable(req, s.error());
    return json_response(200, image_to_json(img));
  }
  return glance_error(req, 409, "Image " + id + " is being changed by others; retry.");
}

http::Response ApiHandler::remove(const http::Request& req, const Identity& who, const std::string& id) {
  auto img = visible_image(who, id);
  if (!img) return unavailable(req, img.error());
  if (!*img) return glance_error(req, 404, "Failed to find image " + id + " to delete");
  if (auto refused = refuse(req, who, Action::delete_image, **img)) return std::move(*refused);
  if (!owns(who, **img)) return glance_error(req, 403, "You do not own this image");
  if ((*img)->protected_) return glance_error(req, 403, "Image " + id + " is protected and cannot be deleted.");
  const bool delayed = data_.options().delayed_delete;
  Status s = images_.mark_deleted(id, delayed);
  if (s.code() == Errc::not_found) return glance_error(req, 404, "Failed to find image " + id + " to delete");
  if (!s) return unavailable(req, s.error());
  // The catalog already says deleted; removing the copies is best effort (leftovers are recorded).
  if (!delayed) data_.remove_data(id);
  log_.info("image.deleted", {{"req", req.request_id}, {"image", id}});
  return no_content();
}

http::Response ApiHandler::tag(const http::Request& req, const Identity& who, const std::string& id,
                               const std::string& tag) {
  auto img = visible_image(who, id);
  if (!img) return unavailable(req, img.error());
  if (!*img) return glance_error(req, 404, "No image found with ID " + id);
  if (auto refused = refuse(req, who, Action::modify_image, **img)) return std::move(*refused);
  if (!owns(who, **img))
    return glance_error(req, 403, std::string("Not allowed to ") + (req.method == "PUT" ? "update" : "delete") + " tags for image " + id + ".");
  if (tag.size() > 255) return glance_error(req, 400, "Provided object does not match schema 'image': '" + tag + "' is too long");
  Status s = req.method == "PUT" ? images_.add_tag(id, tag) : images_.remove_tag(id, tag);
  // The image was just seen, so not_found here means the tag (or a delete that raced this call).
  if (s.code() == Errc::not_found) return glance_error(req, 404, "The resource could not be found.");
  if (!s) return unavailable(req, s.error());
  return no_content();
}

http::Reply ApiHandler::file(const http::Request& req, const Identity& who, const std::string& id) {
  const std::string& m = req.method;
  if (m != "GET" && m != "PUT") {
    http::Response r;
    r.status = 405;
    r.headers.set("Allow", "GET, PUT");
    r.headers.set("Content-Type", "text/html; charset=UTF-8");
    r.content_length = 0;
    return http::Reply::of(std::move(r));
  }
  auto reply = [](http::Response r) { return http::Reply::of(std::move(r)); };
  if (m == "PUT") {
    auto ct = req.headers.get("Content-Type");
    const std::string type = ct ? std::string(ct->substr(0, ct->find(';'))) : std::string("text/plain");
    if (type != "application/octet-stream") return reply(unsupported_media(req, type));
  }
  auto img = visible_image(who, id);
  if (!img) return reply(unavailable(req, img.error()));
  if (!*img) return reply(glance_error(req, 404, "No image found with ID " + id));
  const db::ImageRow& row = **img;
  if (m == "GET") {
    if (row.status == ImageStatus::deactivated && !who.is_admin())
      return reply(glance_error(req, 403, "The requested image has been deactivated. Image data download is forbidden."));
    if (auto refused = refuse(req, who, Action::download_image, row)) return reply(std::move(*refused));
    // No data yet (queued, or an upload still running): Glance answers 204.
    if (!keeps_data(row.status)) return reply(no_content());
    return reply(data_.download(req, row));
  }
  if (auto refused = refuse(req, who, Action::upload_image, row)) return reply(std::move(*refused));
  if (!owns(who, row)) return reply(glance_error(req, 403, "Not allowed to upload image data for image " + id));
  auto refuse_transition = [&](ImageStatus from) {
    return reply(glance_error(req, 409, "Image status transition from " + to_string(from) + " to saving is not allowed"));
  };
  if (row.status != ImageStatus::queued) return refuse_transition(row.status);
  // Only one upload wins the queued -> saving step; a concurrent one gets the same 409 as Glance.
  Status s = images_.transition(id, ImageStatus::queued, ImageStatus::saving);
  if (s.code() == Errc::conflict) return refuse_transition(ImageStatus::saving);
  if (s.code() == Errc::not_found) return reply(glance_error(req, 404, "No image found with ID " + id));
  if (!s) return reply(unavailable(req, s.error()));
  auto sink = data_.begin_upload(req, row);
  if (!sink) {
    Status back = images_.transition(id, ImageStatus::saving, ImageStatus::queued);
    log_.warn("upload.refused", {{"req", req.request_id}, {"image", id}, {"error", sink.error().message},
                                 {"requeued", back ? "yes" : back.message()}});
    if (sink.code() == Errc::too_large) return reply(glance_error(req, 413, sink.error().message));
    return reply(glance_error(req, 503, sink.error().message));
  }
  return http::Reply::upload(std::move(*sink));
}

http::Response ApiHandler::action(const http::Request& req, const Identity& who, const std::string& id,
                                  const std::string& name) {
  if (name != "deactivate" && name != "reactivate") return glance_error(req, 404, "The resource could not be found.");
  auto img = visible_image(who, id);
  if (!img) return unavailable(req, img.error());
  if (!*img) return glance_error(req, 404, "No image found with ID " + id);
  if (auto refused = refuse(req, who, name == "deactivate" ? Action::deactivate : Action::reactivate, **img)) return std::move(*refused);
  if (!owns(who, **img)) return glance_error(req, 403, "You do not own this image");
  const ImageStatus status = (*img)->status;
  const bool deactivate = name == "deactivate";
  const ImageStatus target = deactivate ? ImageStatus::deactivated : ImageStatus::active;
  if (status == target) return no_content();  // idempotent, as in Glance
  const ImageStatus from = deactivate ? ImageStatus::active : ImageStatus::deactivated;
  if (status != from)
    return glance_error(req, 403, "Not allowed to " + name + " image in status '" + to_string(status) + "'");
  Status s = images_.transition(id, from, target);
  if (s.code() == Errc::conflict) return glance_error(req, 409, "Image status changed concurrently; retry.");
  if (!s) return unavailable(req, s.error());
  if (deactivate && opts_.cache) (void)opts_.cache->evict(id);  // never served from cache while deactivated
  return no_content();
}

void ApiHandler::on_complete(const http::Request& req, int status, uint64_t bytes_in, uint64_t bytes_out,
                             double seconds) {
  requests_.Add({{"method", req.method}, {"code", std::to_string(status)}}).Increment();
  latency_.Observe(seconds);
  if (req.path == "/healthcheck" || req.path == "/metrics") return;
  log_.info("http.request", {{"req", req.request_id}, {"method", req.method}, {"path", req.path}, {"status", status},
                             {"in", bytes_in}, {"out", bytes_out}, {"ms", static_cast<int64_t>(seconds * 1000)}});
}

}  // namespace glint::api

namespace glint::api {

http::Response ApiHandler::list(const http::Request& req, const Identity& who) {
  auto parsed = image_query_from(req.query, opts_.limit_default, opts_.limit_max);
  if (auto* e = std::get_if<ApiError>(&parsed)) return glance_error(req, e->status, e->message);
  db::ImageQuery& q = std::get<db::ImageQuery>(parsed);
  if (!allows(who, Action::get_images, {{"project_id", who.project}}))
    return glance_error(req, 403, "You are not authorized to complete get_images action.");
  scope_query(who, q);
  auto rows = q.limit == 0 ? Expected<std::vector<db::ImageRow>>(std::vector<db::ImageRow>{}) : images_.list(q);
  if (rows.code() == Errc::not_found) return glance_error(req, 400, rows.error().message);
  if (rows.code() == Errc::invalid) return glance_error(req, 400, rows.error().message);
  if (!rows) return unavailable(req, rows.error());
  nlohmann::json body = {{"images", nlohmann::json::array()}, {"first", first_link(req.query)}, {"schema", "/v2/schemas/images"}};
  // As Glance: a row the get_image rule refuses is left out (the page may come out shorter).
  for (const auto& img : *rows)
    if (allows(who, Action::get_image, image_target(img, who))) body["images"].push_back(image_to_json(img));
  if (q.limit > 0 && rows->size() == q.limit) body["next"] = next_link(req.query, rows->back().id);
  return json_response(200, body);
}

}  // namespace glint::api
