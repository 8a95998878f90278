// Glance's policies: the rule language, the policy file (errors with file and line), Glance 25's
// defaults in both modes, and every rule the API enforces seen from both sides (the default
// allows the request, a policy file that refuses the rule makes the API refuse it).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/fake_image_repository.hpp"
#include "tests/unit/workers/api/fake_data.hpp"
#include "workers/api/api_handler.hpp"
#include "workers/api/policy/policy.hpp"

namespace glint::api {
namespace {

using json = nlohmann::json;

bool eval(const std::string& text, const PolicyCredentials& who, const PolicyTarget& target = {}) {
  auto r = parse_rule(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() && evaluate(**r, who, target, nullptr);
}

PolicyCredentials creds(std::set<std::string> roles, std::optional<std::string> project = "p1") {
  PolicyCredentials c;
  c.roles = std::move(roles);
  c.project_id = std::move(project);
  return c;
}

TEST(PolicyRule, ChecksAndPrecedence) {
  const auto member = creds({"member"});
  EXPECT_TRUE(eval("", member));
  EXPECT_TRUE(eval("@", member));
  EXPECT_FALSE(eval("!", member));
  EXPECT_TRUE(eval("role:member", member));
  EXPECT_TRUE(eval("role:MEMBER", member));
  EXPECT_FALSE(eval("role:admin", member));
  EXPECT_TRUE(eval("project_id:%(project_id)s", member, {{"project_id", "p1"}}));
  EXPECT_FALSE(eval("project_id:%(project_id)s", member, {{"project_id", "p2"}}));
  EXPECT_FALSE(eval("project_id:%(missing)s", member, {}));
  EXPECT_TRUE(eval("'public':%(visibility)s", member, {{"visibility", "public"}}));
  EXPECT_FALSE(eval("'public':%(visibility)s", member, {{"visibility", "private"}}));
  // and binds tighter than or; not tighter than and.
  EXPECT_TRUE(eval("role:admin or role:member and project_id:p1", member));
  EXPECT_FALSE(eval("(role:admin or role:member) and project_id:p2", member));
  EXPECT_FALSE(eval("not role:member", member));
  EXPECT_TRUE(eval("not role:admin and role:member", member));
  EXPECT_TRUE(eval("role:admin OR role:member", member));  // keywords in any case, as oslo.policy
  EXPECT_FALSE(eval("NOT role:member", member));
  // oslo.policy's None: a missing owner matches a caller without a project.
  EXPECT_TRUE(eval("project_id:%(owner)s", creds({}, std::nullopt), {{"owner", std::nullopt}}));
  EXPECT_FALSE(eval("project_id:%(owner)s", member, {{"owner", std::nullopt}}));
}

TEST(PolicyRule, BadSyntaxSaysWhere) {
  for (const std::string& bad : std::vector<std::string>{"role:admin or", "(role:admin", "role:admin)", "and role:x", "admin", "role:", ":x",
                                "'public:%(visibility)s", "not", std::string(100, '(') + "@" + std::string(100, ')')}) {
    auto r = parse_rule(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().message.rfind("column ", 0), 0u) << r.error().message;
  }
}

TEST(PolicyFile, OverridesAliasesAndJson) {
  auto p = Policy::parse(R"(# an operator's file
"admin_or_owner": "role:admin or project_id:%(project_id)s"
modify_image: rule:admin_or_owner
'delete_image': '!'
)", "policy.yaml", false);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_TRUE(p->allows(Action::modify_image, creds({}), {{"project_id", "p1"}}));
  EXPECT_FALSE(p->allows(Action::modify_image, creds({}), {{"project_id", "p2"}}));
  EXPECT_FALSE(p->allows(Action::delete_image, creds({"admin"}), {{"project_id", "p1"}}));
  auto j = Policy::parse(R"({"get_images": "role:reader"})", "policy.json", false);
  ASSERT_TRUE(j.ok()) << j.error().message;
  EXPECT_FALSE(j->allows(Action::get_images, creds({"member"}), {}));
  EXPECT_TRUE(j->allows(Action::get_images, creds({"reader"}), {}));
}

TEST(PolicyFile, MistakesFailWithFileAndLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"modify_image: role:admin\nmodfy_image: role:admin\n", "policy.yaml:2: unknown rule 'modfy_image'"},
      {"\n\nget_image: \"role:admin or\"\n", "policy.yaml:3: rule 'get_image': column"},
      {"get_image: rule:nothing\n", "policy.yaml:1: rule 'get_image' refers to rule:nothing"},
      {"a: rule:b\nb: rule:a\nget_image: rule:a\n", "refers to itself"},
      {"get_image: \"role:admin\n", "policy.yaml:1: unterminated quote"},
      {"get_image:\n  nested: role:admin\n", "policy.yaml:2: only a flat mapping"},
      {"{\"get_image\": 3}", "policy.yaml:1: rule 'get_image' is not a string"},
      {"{broken", "policy.yaml:1:"},
      // "not" over a chain deeper than evaluation goes would read a cut-short false as true.
      {[] {
         std::string t = "get_image: not rule:r1\n";
         for (int i = 1; i < 40; ++i) t += "r" + std::to_string(i) + ": rule:r" + std::to_string(i + 1) + "\n";
         return t + "r40: '!'\n";
       }(),
       "nests rules too deeply"},
  };
  for (const auto& [text, want] : cases) {
    auto p = Policy::parse(text, "policy.yaml", false);
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_NE(p.error().message.find(want), std::string::npos) << p.error().message;
  }
  EXPECT_FALSE(Policy::load("/nonexistent/policy.yaml", false).ok());
}

TEST(PolicyDefaults, LegacyIsOwnershipAndSecureRbacIsPersonas) {
  const Policy legacy = Policy::defaults(false), rbac = Policy::defaults(true);
  const PolicyTarget own = {{"project_id", "p1"}, {"owner", "p1"}, {"visibility", "private"}, {"member_id", std::nullopt}};
  const PolicyTarget other = {{"project_id", "p2"}, {"owner", "p2"}, {"visibility", "private"}, {"member_id", std::nullopt}};
  const auto reader = creds({"reader"}), member = creds({"member", "reader"}), admin = creds({"admin"}), none = creds({});
  // Legacy: every rule but the admin-only ones lets everybody through (ownership is checked apart).
  EXPECT_TRUE(legacy.allows(Action::modify_image, none, other));
  EXPECT_TRUE(legacy.allows(Action::get_images, none, {}));
  EXPECT_FALSE(legacy.allows(Action::publicize_image, member, own));
  EXPECT_TRUE(legacy.allows(Action::publicize_image, admin, own));
  EXPECT_TRUE(legacy.allows(Action::context_is_admin, admin, {}));
  EXPECT_FALSE(legacy.allows(Action::context_is_admin, member, {}));
  // Secure RBAC: the reader reads, the member changes its project's images, admin does all.
  EXPECT_TRUE(rbac.allows(Action::get_image, reader, own));
  EXPECT_FALSE(rbac.allows(Action::modify_image, reader, own));
  EXPECT_TRUE(rbac.allows(Action::modify_image, member, own));
  EXPECT_FALSE(rbac.allows(Action::modify_image, member, other));
  EXPECT_FALSE(rbac.allows(Action::get_image, member, other));
  EXPECT_TRUE(rbac.allows(Action::get_image, member, {{"project_id", "p2"}, {"visibility", "public"}}));
  EXPECT_TRUE(rbac.allows(Action::modify_image, admin, other));
  EXPECT_FALSE(rbac.allows(Action::download_image, reader, own));
  EXPECT_TRUE(rbac.allows(Action::modify_member, member, {{"member_id", "p1"}}));
  EXPECT_FALSE(rbac.allows(Action::modify_member, member, {{"member_id", std::nullopt}}));
  EXPECT_FALSE(rbac.allows(Action::add_image, member, {{"project_id", "p2"}, {"owner", "p2"}}));
  EXPECT_FALSE(rbac.allows(Action::get_images, none, {{"project_id", "p1"}}));
}

// One API request per rule: allowed under the defaults, refused when the policy file says "!".
struct RuleCase {
  const char* rule;
  const char* caller;  // project:roles
  const char* method;
  const char* path;    // {id} is the image
  const char* body;
  ImageStatus status;
  const char* visibility;
  int allowed;  // status under the defaults (0: an upload sink)
  int refused;
};

const RuleCase kCases[] = {
    {"add_image", "p1:member", "POST", "/v2/images", R"({"name": "x"})", ImageStatus::queued, "private", 201, 403},
    {"get_image", "p1:member", "GET", "/v2/images/{id}", "", ImageStatus::queued, "private", 200, 404},
    {"get_images", "p1:member", "GET", "/v2/images", "", ImageStatus::queued, "private", 200, 403},
    {"modify_image", "p1:member", "PATCH", "/v2/images/{id}", R"([{"op": "replace", "path": "/name", "value": "y"}])",
     ImageStatus::queued, "private", 200, 403},
    {"delete_image", "p1:member", "DELETE", "/v2/images/{id}", "", ImageStatus::queued, "private", 204, 403},
    {"publicize_image", "p1:admin", "PATCH", "/v2/images/{id}", R"([{"op": "replace", "path": "/visibility", "value": "public"}])",
     ImageStatus::queued, "private", 200, 403},
    {"communitize_image", "p1:member", "PATCH", "/v2/images/{id}",
     R"([{"op": "replace", "path": "/visibility", "value": "community"}])", ImageStatus::queued, "private", 200, 403},
    {"download_image", "p1:member", "GET", "/v2/images/{id}/file", "", ImageStatus::queued, "private", 204, 403},
    {"upload_image", "p1:member", "PUT", "/v2/images/{id}/file", "", ImageStatus::queued, "private", 0, 403},
    {"deactivate", "p1:member", "POST", "/v2/images/{id}/actions/deactivate", "", ImageStatus::active, "private", 204, 403},
    {"reactivate", "p1:member", "POST", "/v2/images/{id}/actions/reactivate", "", ImageStatus::deactivated, "private", 204, 403},
    {"add_member", "p1:member", "POST", "/v2/images/{id}/members", R"({"member": "p3"})", ImageStatus::queued, "shared", 200, 403},
    {"get_members", "p1:member", "GET", "/v2/images/{id}/members", "", ImageStatus::queued, "shared", 200, 403},
    {"get_member", "p2:member", "GET", "/v2/images/{id}/members/p2", "", ImageStatus::queued, "shared", 200, 404},
    {"modify_member", "p2:member", "PUT", "/v2/images/{id}/members/p2", R"({"status": "accepted"})", ImageStatus::queued,
     "shared", 200, 403},
    {"delete_member", "p1:member", "DELETE", "/v2/images/{id}/members/p2", "", ImageStatus::queued, "shared", 204, 403},
};

// The status of the case's request on a fresh catalog under `policy` (0: an upload sink).
int run(const RuleCase& c, const Policy& policy) {
  testing::FakeImageRepository repo;
  testing::FakeMemberRepository members;
  testing::FakeData data{repo};
  metrics::Metrics metrics;
  ApiOptions o{25, 1000, AuthMode::headers};
  o.policy = &policy;
  ApiHandler handler(o, repo, members, data.data, metrics, log::Logger::null());
  db::ImageRow img;
  img.id = "11111111-1111-4111-8111-111111111111";
  img.owner = "p1";
  img.visibility = c.visibility;
  img.status = c.status;
  EXPECT_TRUE(repo.create(img).ok());
  EXPECT_TRUE(members.add(img.id, "p2").ok());
  http::Request r;
  r.method = c.method;
  std::string path = c.path;
  if (const size_t at = path.find("{id}"); at != std::string::npos) path.replace(at, 4, img.id);
  r.target = r.path = path;
  r.request_id = "req-policy";
  const std::string caller = c.caller;
  r.headers.set("X-Project-Id", caller.substr(0, caller.find(':')));
  r.headers.set("X-Roles", caller.substr(caller.find(':') + 1));
  r.headers.set("Accept", "application/json");
  r.headers.set("Content-Type", std::string(c.method) == "PATCH" ? "application/openstack-images-v2.1-json-patch"
                                : std::string(c.method) == "PUT" && r.path.find("/file") != std::string::npos
                                    ? "application/octet-stream"
                                    : "application/json");
  auto reply = handler.handle_request(r);
  if (!reply.sink) return reply.response.status;
  if (r.path.find("/file") != std::string::npos) {
    reply.sink->abort();
    return 0;
  }
  const std::string body = c.body;
  if (!body.empty()) {
    EXPECT_TRUE(reply.sink->write({reinterpret_cast<const std::byte*>(body.data()), body.size()}).ok());
  }
  return reply.sink->finish().status;
}

class PolicyApiTest : public ::testing::TestWithParam<RuleCase> {};

TEST_P(PolicyApiTest, AllowedByDefaultRefusedWhenTheRuleSaysNo) {
  const RuleCase& c = GetParam();
  EXPECT_EQ(run(c, Policy::defaults(false)), c.allowed) << c.rule << " under the defaults";
  auto refusing = Policy::parse(std::string(c.rule) + ": '!'\n", "policy.yaml", false);
  ASSERT_TRUE(refusing.ok()) << refusing.error().message;
  EXPECT_EQ(run(c, *refusing), c.refused) << c.rule << " refused by the policy file";
}

INSTANTIATE_TEST_SUITE_P(EveryRule, PolicyApiTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<RuleCase>& i) { return std::string(i.param.rule); });

TEST(PolicyApi, ContextIsAdminDecidesWhoIsAdmin) {
  // A member may not publicize by default; with "publicize_image: role:member" it may; and
  // with context_is_admin narrowed, an admin-role caller is no longer admin for ownership.
  auto member_publicizes = Policy::parse("publicize_image: role:member\n", "p.yaml", false);
  ASSERT_TRUE(member_publicizes.ok());
  RuleCase c{"publicize_image", "p1:member", "PATCH", "/v2/images/{id}", R"([{"op": "replace", "path": "/visibility", "value": "public"}])",
             ImageStatus::queued, "private", 0, 0};
  EXPECT_EQ(run(c, Policy::defaults(false)), 403);
  EXPECT_EQ(run(c, *member_publicizes), 200);
  RuleCase other{"modify_image", "p9:admin", "PATCH", "/v2/images/{id}", R"([{"op": "replace", "path": "/name", "value": "y"}])",
                 ImageStatus::queued, "private", 0, 0};
  EXPECT_EQ(run(other, Policy::defaults(false)), 200);
  auto narrow = Policy::parse("context_is_admin: role:cloud_admin\n", "p.yaml", false);
  ASSERT_TRUE(narrow.ok());
  EXPECT_EQ(run(other, *narrow), 404);  // no longer admin: p1's private image is not visible
}

}  // namespace
}  // namespace glint::api
