// Keystone mode: the token body parser, access rules, the token cache (TTL, expiry, revocation,
// outage, bound) and the handler's answers, on a fake Keystone and a simulated clock.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "shared/core/time_text.hpp"
#include "shared/hash/hash.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/support/fake_image_repository.hpp"
#include "tests/support/fake_token_validator.hpp"
#include "tests/unit/workers/api/fake_data.hpp"
#include "workers/api/api_handler.hpp"
#include "workers/api/keystone/keystone_validator.hpp"
#include "workers/api/keystone/token_cache.hpp"

namespace glint::api {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

json token_doc(std::chrono::system_clock::time_point expires) {
  return {{"token",
           {{"expires_at", iso8601_utc(expires).insert(19, ".000000")},
            {"user", {{"id", "u1"}, {"name", "alice"}, {"domain", {{"id", "default"}}}}},
            {"project", {{"id", "p1"}, {"name", "demo"}, {"domain", {{"id", "default"}}}}},
            {"roles", {{{"id", "r1"}, {"name", "Member"}}, {{"id", "r2"}, {"name", "reader"}}}}}}};
}

TEST(KeystoneUrl, SplitsHostPortAndPrefix) {
  auto a = parse_keystone_url("http://127.0.0.1:15000");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 15000);
  EXPECT_EQ(a->prefix, "");
  auto b = parse_keystone_url("http://keystone.example/identity/v3/");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->port, 80);
  EXPECT_EQ(b->prefix, "/identity");
  EXPECT_FALSE(parse_keystone_url("ftp://x").ok());
  EXPECT_FALSE(parse_keystone_url("http://:80").ok());
  EXPECT_FALSE(parse_keystone_url("http://h:99999").ok());
  EXPECT_FALSE(parse_keystone_url("http://h:").ok());
  auto c = parse_keystone_url("https://keystone.example");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->https);
  EXPECT_EQ(c->port, 443);
  EXPECT_FALSE(b->https);
  EXPECT_EQ(parse_keystone_url("https://h:5001/v3")->port, 5001);
  EXPECT_EQ(parse_keystone_url("httpx://h").code(), Errc::invalid);
}

TEST(KeystoneToken, BodyGivesProjectUserAndLowerCasedRoles) {
  const auto now = std::chrono::system_clock::now();
  TokenCheck c = token_from_body(token_doc(now + 1h).dump(), now);
  ASSERT_EQ(c.outcome, TokenCheck::Outcome::valid) << c.reason;
  EXPECT_EQ(c.info.project_id, "p1");
  EXPECT_EQ(c.info.user_id, "u1");
  EXPECT_EQ(c.info.roles, (std::set<std::string>{"member", "reader"}));
  EXPECT_FALSE(c.info.access_rules.has_value());
  EXPECT_GT(c.info.expires_at, now + 59min);
}

TEST(KeystoneToken, ExpiredGarbageOrUserlessBodiesAreInvalid) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(token_from_body(token_doc(now - 1s).dump(), now).outcome, TokenCheck::Outcome::invalid);
  for (const std::string body : {"", "null", "[]", "{\"token\": 3}", "{\"token\": {}}", "{\"token\": {\"expires_at\": \"soon\"}}",
                                 "\xff\xfe"}) {
    EXPECT_EQ(token_from_body(body, now).outcome, TokenCheck::Outcome::invalid) << body;
  }
  json no_user = token_doc(now + 1h);
  no_user["token"].erase("user");
  EXPECT_EQ(token_from_body(no_user.dump(), now).outcome, TokenCheck::Outcome::invalid);
  json unscoped = token_doc(now + 1h);
  unscoped["token"].erase("project");
  TokenCheck u = token_from_body(unscoped.dump(), now);
  ASSERT_EQ(u.outcome, TokenCheck::Outcome::valid);
  EXPECT_FALSE(u.info.project_id.has_value());
}

TEST(KeystoneToken, AccessRulesAllowOnlyTheirImageRequests) {
  const auto now = std::chrono::system_clock::now();
  json doc = token_doc(now + 1h);
  doc["token"]["application_credential"] = {
      {"id", "ac"},
      {"access_rules", {{{"service", "image"}, {"method", "GET"}, {"path", "/v2/images/*"}},
                        {{"service", "compute"}, {"method", "DELETE"}, {"path", "/v2/images/**"}}}}};
  TokenCheck c = token_from_body(doc.dump(), now);
  ASSERT_EQ(c.outcome, TokenCheck::Outcome::valid);
  EXPECT_TRUE(access_allows(c.info, "GET", "/v2/images/abc"));
  EXPECT_FALSE(access_allows(c.info, "GET", "/v2/images"));
  EXPECT_FALSE(access_allows(c.info, "GET", "/v2/images/abc/file"));
  EXPECT_FALSE(access_allows(c.info, "DELETE", "/v2/images/abc"));  // the rule is for another service
  c.info.access_rules->push_back({"image", "GET", "/v2/images/**"});
  EXPECT_TRUE(access_allows(c.info, "GET", "/v2/images/abc/file"));
  TokenInfo open;
  EXPECT_TRUE(access_allows(open, "DELETE", "/anything"));
  // A hostile rule of many "**" against a long path is decided at once (memoised), not by
  // trying every split.
  TokenInfo hostile;
  hostile.access_rules.emplace();
  std::string glob, path = "/v2";
  for (int i = 0; i < 30; ++i) glob += "/**";
  for (int i = 0; i < 60; ++i) path += "/a";
  hostile.access_rules->push_back({"image", "GET", glob + "/x"});
  EXPECT_FALSE(access_allows(hostile, "GET", path));
}

TEST(KeystoneToken, ImplausibleTokensNeverLeave) {
  EXPECT_TRUE(plausible_token("gAAAAABk-_x.y="));
  EXPECT_FALSE(plausible_token(""));
  EXPECT_FALSE(plausible_token("a b"));
  EXPECT_FALSE(plausible_token("a\r\nX-Roles: admin"));
  EXPECT_FALSE(plausible_token("caf\xc3\xa9"));
  EXPECT_FALSE(plausible_token(std::string(8193, 'a')));
}

class TokenCacheTest : public ::testing::Test {
 protected:
  TokenInfo info(std::chrono::seconds left) {
    TokenInfo i;
    i.user_id = "u1";
    i.project_id = "p1";
    i.roles = {"member"};
    i.expires_at = clock_.wall() + left;
    return i;
  }
  testing::FakeClock clock_;
  testing::FakeTokenValidator keystone_;
  metrics::Metrics metrics_;
  TokenCache cache_{keystone_, clock_, TokenCacheOptions{3, 300s}, metrics_};
};

TEST_F(TokenCacheTest, AWarmTokenCostsNoKeystoneCall) {
  keystone_.add("t1", info(3600s));
  EXPECT_EQ(cache_.validate("t1").outcome, TokenCheck::Outcome::valid);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(cache_.validate("t1").outcome, TokenCheck::Outcome::valid);
  EXPECT_EQ(keystone_.calls.load(), 1);
}

TEST_F(TokenCacheTest, ARevokedTokenStopsWorkingWithinTheTtl) {
  keystone_.add("t1", info(3600s));
  ASSERT_EQ(cache_.validate("t1").outcome, TokenCheck::Outcome::valid);
  keystone_.revoke("t1");
  clock_.advance(299s);
  EXPECT_EQ(cache_.validate("t1").outcome, TokenCheck::Outcome::valid);  // within the TTL: trusted
  clock_.advance(2s);
  EXPECT_EQ(cache_.validate("t1").outcome, TokenCheck::Outcome::invalid);
  EXPECT_EQ(cache_.validate("t1").outcome, TokenCheck::Outcome::invalid);  // remembered as invalid
  EXPECT_EQ(keystone_.calls.load(), 2);
}

TEST_F(TokenCacheTest, NeverTrustedPastItsExpiry) {
  keystone_.add("t1", info(10s));
  ASSERT_EQ(cache_.validate("t1").outcome, TokenCheck::Outcome::valid);
  keystone_.revoke("t1");  // Keystone forgets expired tokens
  clock_.advance(11s);
  EXPECT_EQ(cache_.validate("t1").outcome, TokenCheck::Outcome::invalid);
  keystone_.down = true;  // and an outage does not bring it back
  EXPECT_NE(cache_.validate("t1").outcome, TokenCheck::Outcome::valid);
}

TEST_F(TokenCacheTest, AnOutageServesKnownTokensUntilTheyExpireAndRefusesUnknownOnes) {
  keystone_.add("t1", info(900s));
  keystone_.add("t2", info(900s));
  ASSERT_EQ(cache_.validate("t1").outcome, TokenCheck::Outcome::valid);
  keystone_.down = true;
  clock_.advance(600s);  // past the TTL: Keystone is asked, does not answer, the known answer stands
  EXPECT_EQ(cache_.validate("t1").outcome, TokenCheck::Outcome::valid);
  const int asked = keystone_.calls.load();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(cache_.validate("t1").outcome, TokenCheck::Outcome::valid);
  EXPECT_EQ(keystone_.calls.load(), asked);  // a Keystone that times out is not waited for per request
  EXPECT_EQ(cache_.validate("t2").outcome, TokenCheck::Outcome::unavailable);
  clock_.advance(301s);  // t1's own expiry
  EXPECT_EQ(cache_.validate("t1").outcome, TokenCheck::Outcome::unavailable);
  keystone_.down = false;
  EXPECT_EQ(cache_.validate("t2").outcome, TokenCheck::Outcome::valid);
}

TEST_F(TokenCacheTest, BoundedLeastRecentlyUsedFirst) {
  for (const char* t : {"a", "b", "c", "d"}) keystone_.add(t, info(3600s));
  for (const char* t : {"a", "b", "c"}) ASSERT_EQ(cache_.validate(t).outcome, TokenCheck::Outcome::valid);
  ASSERT_EQ(cache_.validate("a").outcome, TokenCheck::Outcome::valid);  // a is now the freshest
  ASSERT_EQ(cache_.validate("d").outcome, TokenCheck::Outcome::valid);  // evicts b
  EXPECT_EQ(cache_.size(), 3u);
  const int before = keystone_.calls.load();
  cache_.validate("a");
  cache_.validate("c");
  EXPECT_EQ(keystone_.calls.load(), before);
  cache_.validate("b");
  EXPECT_EQ(keystone_.calls.load(), before + 1);
  for (int i = 0; i < 100; ++i) cache_.validate("garbage" + std::to_string(i));
  EXPECT_EQ(cache_.size(), 3u);
}

class KeystoneModeTest : public ::testing::Test {
 protected:
  KeystoneModeTest() {
    TokenInfo member;
    member.user_id = "u1";
    member.project_id = "p1";
    member.roles = {"member", "reader"};
    member.expires_at = std::chrono::system_clock::now() + 1h;
    keystone_.add("member-token", member);
  }
  http::Request get(const std::string& path, std::initializer_list<std::pair<std::string, std::string>> headers) {
    http::Request r;
    r.method = "GET";
    r.target = r.path = path;
    r.request_id = "req-ks";
    for (const auto& [k, v] : headers) r.headers.set(k, v);
    return r;
  }
  http::Response answer(const http::Request& r) {
    auto reply = handler_.handle_request(r);
    return std::move(reply.response);
  }
  ApiOptions options() {
    ApiOptions o{25, 1000, AuthMode::keystone};
    o.tokens = &keystone_;
    o.www_authenticate_uri = "http://127.0.0.1:5000";
    return o;
  }
  testing::FakeTokenValidator keystone_;
  testing::FakeImageRepository repo_;
  testing::FakeMemberRepository members_;
  testing::FakeData data_{repo_};
  metrics::Metrics metrics_;
  ApiHandler handler_{options(), repo_, members_, data_.data, metrics_, log::Logger::null()};
};

TEST_F(KeystoneModeTest, NoTokenOrABadOneIs401WithWhereToAuthenticate) {
  for (const auto& r : {get("/v2/images", {}), get("/v2/images", {{"X-Auth-Token", "nope"}}),
                        get("/v2/images", {{"X-Auth-Token", " "}})}) {
    http::Response resp = answer(r);
    EXPECT_EQ(resp.status, 401);
    EXPECT_EQ(resp.headers.get("WWW-Authenticate").value_or(""), "Keystone uri=\"http://127.0.0.1:5000\"");
    const json body = json::parse(resp.body);
    EXPECT_EQ(body["error"]["code"], 401);
    EXPECT_EQ(body["error"]["title"], "Unauthorized");
  }
}

TEST_F(KeystoneModeTest, IdentityHeadersFromTheClientAreIgnored) {
  db::ImageRow other;
  other.id = "11111111-1111-4111-8111-111111111111";
  other.owner = "p2";
  other.visibility = "private";
  ASSERT_TRUE(repo_.create(other).ok());
  // Claims admin without a token: refused.
  EXPECT_EQ(answer(get("/v2/images/" + other.id, {{"X-Roles", "admin"}, {"X-Project-Id", "p2"}})).status, 401);
  // A member's token with admin headers added: still the member, who cannot see p2's image.
  EXPECT_EQ(answer(get("/v2/images/" + other.id,
                       {{"X-Auth-Token", "member-token"}, {"X-Roles", "admin"}, {"X-Project-Id", "p2"},
                        {"X-Identity-Status", "Confirmed"}}))
                .status,
            404);
}

TEST_F(KeystoneModeTest, AValidTokenActsAsItsProject) {
  http::Request create = get("/v2/images", {{"X-Auth-Token", "member-token"}, {"Content-Type", "application/json"}});
  create.method = "POST";
  auto reply = handler_.handle_request(create);
  ASSERT_TRUE(reply.sink);
  ASSERT_TRUE(reply.sink->write(hash::as_bytes(std::string(R"({"name": "mine"})"))).ok());
  http::Response made = reply.sink->finish();
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(json::parse(made.body)["owner"], "p1");
  EXPECT_EQ(answer(get("/v2/images", {{"X-Auth-Token", "member-token"}})).status, 200);
}

TEST_F(KeystoneModeTest, KeystoneDownIs503AndOpenPathsNeedNoToken) {
  keystone_.down = true;
  http::Response resp = answer(get("/v2/images", {{"X-Auth-Token", "member-token"}, {"Accept", "application/json"}}));
  EXPECT_EQ(resp.status, 503);
  EXPECT_NE(resp.body.find("Keystone"), std::string::npos);
  EXPECT_EQ(answer(get("/", {})).status, 300);
  EXPECT_EQ(answer(get("/healthcheck", {})).status, 200);
  EXPECT_EQ(answer(get("/versions", {})).status, 200);
}

}  // namespace
}  // namespace glint::api
