// KeystoneValidator against a real Keystone (the `keystone` ctest fixture, tests/support/keystone.sh):
// a user's token validates to its project and roles, garbage and revoked tokens are invalid, and
// a Keystone that refuses glint's service user or cannot be reached is `unavailable`, not a 401.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "shared/http/client.hpp"
#include "tests/support/store_node.hpp"
#include "workers/api/keystone/keystone_validator.hpp"

namespace glint::api {
namespace {

// The fixture's env file sits beside the PostgreSQL one: <build>/keystone/env.
const std::string kKeystoneEnv = std::string(GLINT_TEST_PG_ENV).substr(0, std::string(GLINT_TEST_PG_ENV).size() - 6) + "keystone/env";

std::map<std::string, std::string> keystone_env() {
  std::map<std::string, std::string> out;
  std::ifstream f(kKeystoneEnv);
  std::string line;
  while (std::getline(f, line))
    if (auto eq = line.find('='); eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  return out;
}

class KeystoneValidatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = keystone_env();
    ASSERT_FALSE(env_["KEYSTONE_URL"].empty()) << "no " << kKeystoneEnv;
    ep_ = *parse_keystone_url(env_["KEYSTONE_URL"]);
  }
  KeystoneOptions options(const std::string& password) {
    KeystoneOptions o;
    o.auth_url = env_["KEYSTONE_URL"] + "/v3";
    o.username = "glint";
    o.password = password;
    o.project_name = "service";
    o.timeout = std::chrono::seconds(10);
    return o;
  }
  // The admin user's own project-scoped token, as a client would get it.
  std::string admin_token() {
    const nlohmann::json auth = {
        {"auth", {{"identity", {{"methods", {"password"}},
                                {"password", {{"user", {{"name", "admin"}, {"domain", {{"id", "default"}}},
                                                        {"password", env_["KEYSTONE_ADMIN_PASSWORD"]}}}}}}},
                  {"scope", {{"project", {{"name", "admin"}, {"domain", {{"id", "default"}}}}}}}}}};
    http::Headers h;
    h.set("Content-Type", "application/json");
    auto resp = http::Client(ep_.host, ep_.port).request("POST", "/v3/auth/tokens?nocatalog", h, auth.dump());
    EXPECT_TRUE(resp.ok());
    EXPECT_EQ(resp->status, 201) << resp->body;
    return resp->header("x-subject-token");
  }
  std::map<std::string, std::string> env_;
  KeystoneEndpoint ep_;
  SystemClock clock_;
};

TEST_F(KeystoneValidatorTest, AUsersTokenGivesItsProjectAndRoles) {
  auto v = make_keystone_validator(options(env_["KEYSTONE_SERVICE_PASSWORD"]), clock_, log::Logger::null());
  const std::string token = admin_token();
  TokenCheck c = v->validate(token);
  ASSERT_EQ(c.outcome, TokenCheck::Outcome::valid) << c.reason;
  EXPECT_TRUE(c.info.project_id.has_value());
  EXPECT_EQ(c.info.project_name, "admin");
  EXPECT_EQ(c.info.user_name, "admin");
  EXPECT_TRUE(c.info.roles.count("admin"));
  EXPECT_TRUE(c.info.roles.count("reader"));  // implied roles come with the token
  EXPECT_GT(c.info.expires_at, std::chrono::system_clock::now());
}

TEST_F(KeystoneValidatorTest, GarbageAndRevokedTokensAreInvalid) {
  auto v = make_keystone_validator(options(env_["KEYSTONE_SERVICE_PASSWORD"]), clock_, log::Logger::null());
  EXPECT_EQ(v->validate("gAAAAABnot-a-real-token").outcome, TokenCheck::Outcome::invalid);
  EXPECT_EQ(v->validate(std::string(300, 'x')).outcome, TokenCheck::Outcome::invalid);
  EXPECT_EQ(v->validate("two words").outcome, TokenCheck::Outcome::invalid);
  const std::string token = admin_token();
  ASSERT_EQ(v->validate(token).outcome, TokenCheck::Outcome::valid);
  http::Headers h;
  h.set("X-Auth-Token", token);
  h.set("X-Subject-Token", token);
  auto revoked = http::Client(ep_.host, ep_.port).request("DELETE", "/v3/auth/tokens", h);
  ASSERT_TRUE(revoked.ok());
  ASSERT_EQ(revoked->status, 204);
  EXPECT_EQ(v->validate(token).outcome, TokenCheck::Outcome::invalid);
}

TEST_F(KeystoneValidatorTest, RefusedServiceCredentialsOrNoKeystoneAreUnavailable) {
  auto wrong = make_keystone_validator(options("not-the-password"), clock_, log::Logger::null());
  EXPECT_EQ(wrong->validate(admin_token()).outcome, TokenCheck::Outcome::unavailable);
  KeystoneOptions gone = options("x");
  gone.auth_url = "http://127.0.0.1:" + std::to_string(testing::closed_port());  // nothing listens
  auto nobody = make_keystone_validator(gone, clock_, log::Logger::null());
  EXPECT_EQ(nobody->validate("gAAAAABsomething").outcome, TokenCheck::Outcome::unavailable);
}

}  // namespace
}  // namespace glint::api
