// Replays the answers the real Glance gave with Keystone-style identities (recorded with the
// reference's fakeauth filter, X-Auth-Token "PROJECT:ROLE,ROLE") through ApiHandler in header
// mode, after creating the image each request names in the state it had.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "tests/support/fake_image_repository.hpp"
#include "tests/unit/workers/api/fake_data.hpp"
#include "workers/api/api_handler.hpp"

namespace glint::api {
namespace {

using json = nlohmann::json;

struct Case {
  std::string file;
  std::string owner;       // empty: the request needs no existing image
  std::string visibility = "shared";
  std::string status = "queued";
  std::string projB_member = {};  // non-empty: projB is a member of the image with this status
};

std::string headline(std::string m) {
  const auto p = m.find("<br />");
  return p == std::string::npos ? m : m.substr(0, p);
}

class IdentityConformance : public ::testing::TestWithParam<Case> {
 protected:
  testing::FakeImageRepository repo_;
  testing::FakeMemberRepository members_;
  testing::FakeData data_{repo_};
  metrics::Metrics metrics_;
  ApiHandler handler_{ApiOptions{25, 1000, AuthMode::headers}, repo_, members_, data_.data, metrics_, log::Logger::null()};
};

TEST_P(IdentityConformance, SameStatusAndMessage) {
  const Case& c = GetParam();
  std::ifstream f(std::string(GLINT_TEST_SOURCE_DIR) + "/tests/e2e/reference/glance/" + c.file);
  const json fx = json::parse(f);
  const json& rq = fx["request"];
  http::Request r;
  r.method = rq["method"];
  r.target = r.path = rq["path"];
  r.request_id = "req-conformance";
  for (const auto& [k, v] : rq["headers"].items()) {
    if (k != "X-Auth-Token") {
      r.headers.set(k, v.get<std::string>());
      continue;
    }
    const std::string token = v;  // what the reference's fakeauth filter turned into identity headers
    const auto colon = token.find(':');
    r.headers.set("X-Project-Id", token.substr(0, colon));
    r.headers.set("X-Roles", colon == std::string::npos ? "member" : token.substr(colon + 1));
  }
  if (!rq["headers"].contains("X-Auth-Token")) {  // fakeauth: no token = project admin, all roles
    r.headers.set("X-Project-Id", "admin");
    r.headers.set("X-Roles", "admin,member,reader");
  }
  if (!c.owner.empty()) {
    db::ImageRow img;
    img.id = r.path.substr(std::string("/v2/images/").size(), 36);
    img.owner = c.owner;
    img.visibility = c.visibility;
    img.status = *parse_state<ImageStatus>(c.status);
    ASSERT_TRUE(repo_.create(img).ok());
    if (!c.projB_member.empty()) {
      ASSERT_TRUE(members_.add(img.id, "projB").ok());
      ASSERT_TRUE(members_.set_status(img.id, "projB", c.projB_member).ok());
    }
  }
  auto reply = handler_.handle_request(r);
  http::Response got;
  if (reply.sink) {
    const std::string body = rq["body"].is_null() ? "" : rq["body"].dump();
    if (!body.empty()) {
      ASSERT_TRUE(reply.sink->write({reinterpret_cast<const std::byte*>(body.data()), body.size()}).ok());
    }
    got = reply.sink->finish();
  } else {
    got = std::move(reply.response);
  }
  const json& want = fx["response"];
  EXPECT_EQ(got.status, want["status"].get<int>()) << got.body;
  if (want["body"].is_object() && want["body"].contains("message")) {
    EXPECT_EQ(headline(json::parse(got.body)["message"]), headline(want["body"]["message"]));
  }
  if (want["body"].is_object() && want["body"].contains("member_id")) {
    const json mine = json::parse(got.body);
    EXPECT_EQ(mine["member_id"], want["body"]["member_id"]);
    EXPECT_EQ(mine["status"], want["body"]["status"]);
    EXPECT_EQ(mine["schema"], want["body"]["schema"]);
  }
  if (want["body"].is_object() && want["body"].contains("owner")) {
    const json mine = json::parse(got.body);
    EXPECT_EQ(mine["owner"], want["body"]["owner"]);
    EXPECT_EQ(mine["visibility"], want["body"]["visibility"]);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Recorded, IdentityConformance,
    ::testing::Values(Case{"fakeauth_create_default_projB.json", ""}, Case{"fakeauth_create_no_token.json", ""},
                      Case{"fakeauth_create_owner_other_admin.json", ""},
                      Case{"fakeauth_create_owner_other_projB_403.json", ""},
                      Case{"fakeauth_create_owner_self_projB.json", ""}, Case{"fakeauth_create_private_projA.json", ""},
                      Case{"fakeauth_create_public_admin.json", ""}, Case{"fakeauth_create_public_projB_403.json", ""},
                      Case{"fakeauth_get_private_projA.json", "projA", "private"},
                      Case{"fakeauth_get_private_projB_404.json", "projA", "private"},
                      Case{"fakeauth_patch_private_projB_404.json", "projA", "private"},
                      Case{"fakeauth_delete_private_projB_404.json", "projA", "private"},
                      Case{"fakeauth_delete_private_projA.json", "projA", "private"},
                      Case{"fakeauth_get_shared_projB_before_member_404.json", "projA", "shared"},
                      Case{"fakeauth_patch_visibility_public_projB_403.json", "projB", "shared"},
                      Case{"fakeauth_deactivate_by_owner_member_projA.json", "projA", "shared", "active"},
                      Case{"fakeauth_reactivate_admin.json", "projA", "shared", "deactivated"},
                      Case{"fakeauth_member_create.json", "projA", "shared"},
                      Case{"fakeauth_member_create_on_private_403.json", "projA", "private"},
                      Case{"fakeauth_member_create_duplicate_409.json", "projA", "shared", "queued", "pending"},
                      Case{"fakeauth_member_accept_by_owner_403.json", "projA", "shared", "queued", "pending"},
                      Case{"fakeauth_member_accept.json", "projA", "shared", "queued", "pending"},
                      Case{"fakeauth_member_status_bogus_400.json", "projA", "shared", "queued", "pending"},
                      Case{"fakeauth_member_delete_by_member_403.json", "projA", "shared", "queued", "accepted"},
                      Case{"fakeauth_member_delete.json", "projA", "shared", "queued", "accepted"},
                      Case{"fakeauth_member_get_projB.json", "projA", "shared", "queued", "accepted"},
                      Case{"fakeauth_get_shared_projB_pending.json", "projA", "shared", "queued", "pending"},
                      Case{"fakeauth_deactivate_by_image_member_projB.json", "projA", "shared", "active", "accepted"}),
    [](const ::testing::TestParamInfo<Case>& i) {
      std::string n = i.param.file.substr(9, i.param.file.find('.') - 9);
      for (auto& ch : n)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return n;
    });

TEST(Identity, HeaderModeNeedsAProject) {
  testing::FakeImageRepository repo;
  testing::FakeMemberRepository members;
  testing::FakeData data{repo};
  metrics::Metrics m;
  ApiHandler h(ApiOptions{25, 1000, AuthMode::headers}, repo, members, data.data, m, log::Logger::null());
  http::Request r;
  r.method = "GET";
  r.target = r.path = "/v2/images";
  r.headers.set("Accept", "application/json");
  EXPECT_EQ(h.handle_request(r).response.status, 401);
  r.target = r.path = "/versions";
  EXPECT_EQ(h.handle_request(r).response.status, 200);  // discovery stays open
}

}  // namespace
}  // namespace glint::api
