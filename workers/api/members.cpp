// /v2/images/{id}/members[/{member}]: sharing an image with other projects, as Glance does. The
// owner adds and removes members; each member accepts or rejects for itself.
#include "workers/api/api_handler.hpp"
#include "workers/api/image_json.hpp"

namespace glint::api {
namespace {

nlohmann::json member_json(const db::MemberRow& m) {
  return {{"member_id", m.member},        {"image_id", m.image_id},
          {"status", m.status},           {"created_at", iso8601(m.created_at)},
          {"updated_at", iso8601(m.updated_at)}, {"schema", "/v2/schemas/member"}};
}

}  // namespace

http::Response ApiHandler::members(const http::Request& req, const Identity& who, const std::string& id,
                                   const std::string& member, const std::string& body) {
  auto img = visible_image(who, id);
  if (!img) return unavailable(req, img.error());
  if (!*img) return glance_error(req, 404, "No image found with ID " + id);
  const db::ImageRow& row = **img;
  const bool owner = owns(who, row);
  const std::string& m = req.method;
  const Action action = member.empty() ? (m == "POST" ? Action::add_member : Action::get_members)
                                       : (m == "PUT" ? Action::modify_member : m == "DELETE" ? Action::delete_member : Action::get_member);
  if (auto refused = refuse(req, who, action, row)) {
    // Glance answers every refusal of a single member's GET with 404 (its message kept).
    if (action == Action::get_member && refused->status != 404)
      return glance_error(req, 404, "You are not authorized to complete get_member action.");
    return std::move(*refused);
  }

  if (member.empty()) {  // the collection
    if (m == "GET") {
      auto all = members_.list(id);
      if (!all) return unavailable(req, all.error());
      nlohmann::json list = nlohmann::json::array();
      for (const auto& mr : *all)
        if (owner || (who.project && mr.member == *who.project)) list.push_back(member_json(mr));
      return json_response(200, {{"members", list}, {"schema", "/v2/schemas/members"}});
    }
    if (m != "POST") return method_not_allowed(req, "GET, POST");
    if (!owner || row.visibility != "shared")
      return glance_error(req, 403, "Not allowed to create members for image " + id + ".");
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) return glance_error(req, 400, "Malformed JSON in request body.");
    if (!j.is_object() || !j.contains("member") || !j["member"].is_string() || j["member"].get<std::string>().empty())
      return glance_error(req, 400, "Member to be added not specified");
    auto added = members_.add(id, j["member"].get<std::string>());
    if (added.code() == Errc::conflict) return glance_error(req, 409, added.error().message);
    if (added.code() == Errc::not_found) return glance_error(req, 404, "No image found with ID " + id);
    if (!added) return unavailable(req, added.error());
    return json_response(200, member_json(*added));
  }

  const bool self = who.project && *who.project == member;
  if (m == "GET") {
    if (!owner && !self) return glance_error(req, 404, "The resource could not be found.");
    auto got = members_.get(id, member);
    if (!got) return unavailable(req, got.error());
    if (!*got) return glance_error(req, 404, "The resource could not be found.");
    return json_response(200, member_json(**got));
  }
  if (m == "PUT") {
    if (!self && !who.is_admin()) return glance_error(req, 403, "Not allowed to update members for image " + id + ".");
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) return glance_error(req, 400, "Malformed JSON in request body.");
    const std::string status = j.is_object() && j.contains("status") && j["status"].is_string() ? j["status"].get<std::string>() : "";
    if (status != "pending" && status != "accepted" && status != "rejected")
      return glance_error(req, 400, "Incorrect request: Status must be \"pending\", \"accepted\" or \"rejected\".");
    auto updated = members_.set_status(id, member, status);
    if (updated.code() == Errc::not_found) return glance_error(req, 404, "The resource could not be found.");
    if (!updated) return unavailable(req, updated.error());
    return json_response(200, member_json(*updated));
  }
  if (m == "DELETE") {
    if (!owner) return glance_error(req, 403, "Not allowed to delete members for image " + id + ".");
    Status s = members_.remove(id, member);
    if (s.code() == Errc::not_found) return glance_error(req, 404, "The resource could not be found.");
    if (!s) return unavailable(req, s.error());
    http::Response r;
    r.status = 204;
    return r;
  }
  return method_not_allowed(req, "GET, PUT, DELETE");
}

}  // namespace glint::api
