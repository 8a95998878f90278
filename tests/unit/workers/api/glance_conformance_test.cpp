// Replays requests recorded against the real Glance 25 (tests/e2e/reference/glance) through
// ApiHandler and compares status codes, error messages and document shapes. Only requests that
// need no prior state are replayed here; stateful flows run end to end against real processes.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <set>

#include "tests/support/fake_image_repository.hpp"
#include "tests/unit/workers/api/fake_data.hpp"
#include "workers/api/api_handler.hpp"

namespace glint::api {
namespace {

using json = nlohmann::json;

json load(const std::string& name) {
  std::ifstream f(std::string(GLINT_TEST_SOURCE_DIR) + "/tests/e2e/reference/glance/" + name);
  EXPECT_TRUE(f.good()) << name;
  return json::parse(f, nullptr, false);
}

// The part of a Glance message a client shows: jsonschema's "Failed validating" appendix is dropped.
std::string headline(std::string m) {
  for (const char* cut : {"\n\nFailed validating", "<br />"}) {
    const auto p = m.find(cut);
    if (p != std::string::npos) m = m.substr(0, p);
  }
  return m;
}

class GlanceConformance : public ::testing::TestWithParam<std::string> {
 protected:
  http::Response replay(const json& request) {
    http::Request r;
    r.method = request["method"];
    r.target = request["path"];
    const auto q = r.target.find('?');
    r.path = r.target.substr(0, q);
    if (q != std::string::npos) r.query = r.target.substr(q + 1);
    for (const auto& [k, v] : request["headers"].items()) r.headers.set(k, v.get<std::string>());
    r.request_id = "req-conformance";
    auto reply = handler_.handle_request(r);
    if (!reply.sink) return std::move(reply.response);
    std::string body;
    if (request.contains("body") && !request["body"].is_null())
      body = request["body"].is_string() ? request["body"].get<std::string>() : request["body"].dump();
    if (!body.empty()) {
      Status s = reply.sink->write({reinterpret_cast<const std::byte*>(body.data()), body.size()});
      if (!s) return reply.sink->failed(s);
    }
    return reply.sink->finish();
  }

  testing::FakeImageRepository repo_;
  testing::FakeMemberRepository members_;
  testing::FakeData data_{repo_};
  metrics::Metrics metrics_;
  ApiHandler handler_{ApiOptions{}, repo_, members_, data_.data, metrics_, log::Logger::null()};
};

// Fixtures recorded against an existing image: the image named in the request is created first,
// in the state the recording had.
struct Setup {
  std::string status = "queued";
  bool protected_ = false;
};
const std::map<std::string, Setup>& stateful() {
  static const std::map<std::string, Setup> m = {
      {"error_patch_add_tags_dash.json", {}},       {"error_patch_bogus_op.json", {}},
      {"error_patch_malformed_json.json", {}},      {"error_patch_object_not_list.json", {}},
      {"error_patch_readonly_id.json", {}},         {"error_patch_readonly_status.json", {}},
      {"error_patch_remove_missing_property.json", {}}, {"error_patch_replace_missing_property.json", {}},
      {"error_patch_disk_format_active.json", {"active"}}, {"image_patch_remove_name.json", {}},
      {"image_patch_add_property.json", {}},        {"image_patch_add_name.json", {}},
      {"error_delete_protected.json", {"queued", true}}, {"error_tag_delete_absent.json", {}},
      {"error_deactivate_queued.json", {}},         {"error_create_existing_id.json", {}},
      {"error_tag_too_long.json", {}},
      {"error_get_file_queued.json", {}},           {"error_head_file.json", {}},
      {"error_upload_content_type_json.json", {}},  {"error_upload_no_content_type.json", {}},
      {"error_upload_twice.json", {"active"}},
  };
  return m;
}

std::string image_id_of(const json& request) {
  const std::string path = request["path"];
  const std::string prefix = "/v2/images/";
  if (path.rfind(prefix, 0) == 0) return path.substr(prefix.size(), 36);
  return request["body"]["id"];
}

TEST_P(GlanceConformance, SameStatusAndMessage) {
  const json fx = load(GetParam());
  ASSERT_FALSE(fx.is_discarded());
  if (auto it = stateful().find(GetParam()); it != stateful().end()) {
    db::ImageRow img;
    img.id = image_id_of(fx["request"]);
    img.status = *parse_state<ImageStatus>(it->second.status);
    img.protected_ = it->second.protected_;
    ASSERT_TRUE(repo_.create(img).ok());
  }
  const http::Response got = replay(fx["request"]);
  const json& want = fx["response"];
  EXPECT_EQ(got.status, want["status"].get<int>()) << got.body;
  if (want["body"].is_object() && want["body"].contains("message")) {
    const json mine = json::parse(got.body, nullptr, false);
    ASSERT_TRUE(mine.is_object()) << got.body;
    EXPECT_EQ(headline(mine["message"]), headline(want["body"]["message"]));
    EXPECT_EQ(mine["code"], want["body"]["code"]);
  } else if (want["body"].is_object() && want["body"].contains("properties")) {
    EXPECT_EQ(json::parse(got.body), want["body"]);  // schema documents: identical
  } else if (want["body"].is_object() && want["body"].contains("versions")) {
    const json mine = json::parse(got.body);
    ASSERT_EQ(mine["versions"].size(), want["body"]["versions"].size());
    for (size_t i = 0; i < mine["versions"].size(); ++i) {
      EXPECT_EQ(mine["versions"][i]["id"], want["body"]["versions"][i]["id"]);
      EXPECT_EQ(mine["versions"][i]["status"], want["body"]["versions"][i]["status"]);
    }
  } else if (want["body"].is_object() && (want["body"].contains("images") || want["body"].contains("id"))) {
    // Same keys (values such as ids and timestamps differ by nature).
    const json mine = json::parse(got.body);
    std::set<std::string> a, b;
    for (const auto& [k, v] : mine.items()) a.insert(k);
    for (const auto& [k, v] : want["body"].items()) b.insert(k);
    EXPECT_EQ(a, b);
  } else if (want["body"].is_string() && !want["body"].get<std::string>().empty()) {
    EXPECT_EQ(got.body, want["body"].get<std::string>());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Recorded, GlanceConformance,
    ::testing::Values("schema_image.json", "schema_images.json", "schema_member.json", "schema_members.json",
                      "schema_task.json", "schema_tasks.json", "schema_metadefs_namespace.json",
                      "schema_metadefs_resource_type.json", "versions_root.json", "error_versions_images_300.json", "error_versions_v3_images_300.json",
                      "error_versions_versions_200.json", "error_versions_v2_302.json", "image_create_minimal.json",
                      "error_create_bogus_container_format.json", "error_create_bogus_disk_format.json",
                      "error_create_content_type_text_plain.json", "error_create_extra_property_non_string.json",
                      "error_create_id_not_uuid.json", "error_create_malformed_json.json",
                      "error_create_min_ram_negative.json", "error_create_min_ram_string.json",
                      "error_create_name_too_long.json", "error_create_no_body.json",
                      "error_create_no_content_type.json", "error_create_readonly_size.json",
                      "error_create_readonly_status.json", "error_create_reserved_os_glance.json",
                      "error_create_visibility_public_noauth.json", "error_list_limit_abc.json", "error_list_created_at_bogus.json",
                      "error_list_limit_negative.json", "error_list_limit_zero.json", "error_list_marker_unknown.json",
                      "error_list_size_min_abc.json", "error_list_sort_dir_sideways.json",
                      "error_list_sort_key_bogus.json", "error_list_status_bogus.json",
                      "error_list_visibility_bogus.json", "error_get_unknown_id.json", "error_get_non_uuid.json",
                      "error_get_v2_slash.json", "error_get_v2_nonexistent.json", "error_put_images_collection.json",
                      "error_delete_images_collection.json", "error_delete_unknown_id.json",
                      "error_noaccept_get_unknown_id.json", "error_html_get_unknown_id.json",
                      "error_patch_unknown_id.json", "error_patch_content_type_json.json",
                      "error_patch_add_tags_dash.json", "error_patch_bogus_op.json", "error_patch_malformed_json.json",
                      "error_patch_object_not_list.json", "error_patch_readonly_id.json",
                      "error_patch_readonly_status.json", "error_patch_remove_missing_property.json",
                      "error_patch_replace_missing_property.json", "error_patch_disk_format_active.json",
                      "image_patch_remove_name.json", "image_patch_add_property.json", "image_patch_add_name.json",
                      "error_delete_protected.json", "error_tag_delete_absent.json", "error_deactivate_queued.json",
                      "error_create_existing_id.json", "error_tag_too_long.json", "error_get_file_queued.json",
                      "error_head_file.json", "error_upload_content_type_json.json",
                      "error_upload_no_content_type.json", "error_upload_twice.json",
                      "error_get_file_unknown_id.json", "error_get_file_non_uuid.json",
                      "error_put_file_unknown_id.json"),
    [](const ::testing::TestParamInfo<std::string>& i) {
      std::string n = i.param.substr(0, i.param.find('.'));
      for (auto& c : n)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return n;
    });

}  // namespace
}  // namespace glint::api
