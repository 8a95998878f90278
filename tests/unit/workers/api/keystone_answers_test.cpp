// KeystoneValidator against a Keystone that misbehaves (a scripted HTTP server on loopback):
// slow, garbage, huge or failing answers are `unavailable` or `invalid`, never a valid token,
// never a crash or a hang past the timeout.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "shared/http/server.hpp"
#include "tests/support/process.hpp"
#include "workers/api/keystone/keystone_validator.hpp"

namespace glint::api {
namespace {

using namespace std::chrono_literals;

// Issues service tokens normally; answers token validation as `mode` says. Thread-safe.
class ScriptedKeystone final : public http::Handler {
 public:
  enum class Mode { garbage, huge, error500, slow, not_found, wrong_service_token, valid };
  http::Reply handle_request(const http::Request& req) override {
    if (req.method == "POST") {
      ++service_logins;
      http::Response r = http::text_response(201, R"({"token": {"expires_at": "2099-01-01T00:00:00.000000Z", "user": {"id": "glint"}}})",
                                             "application/json");
      r.headers.set("X-Subject-Token", "service-token");
      return http::Reply::of(std::move(r));
    }
    ++validations;
    switch (mode) {
      case Mode::garbage: return http::Reply::of(http::text_response(200, "<html>proxy error</html>", "text/html"));
      case Mode::huge: return http::Reply::of(http::text_response(200, std::string(3 << 20, '{'), "application/json"));
      case Mode::error500: return http::Reply::of(http::text_response(500, "oops"));
      case Mode::not_found: return http::Reply::of(http::text_response(404, "{}", "application/json"));
      case Mode::wrong_service_token: return http::Reply::of(http::text_response(401, "{}", "application/json"));
      case Mode::slow: {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [this] { return released_; });  // until the test ends: only the client's timeout can end the call
        return http::Reply::of(http::text_response(500, "late"));
      }
      case Mode::valid:
        return http::Reply::of(http::text_response(
            200, R"({"token": {"expires_at": "2099-01-01T00:00:00Z", "user": {"id": "u"}, "project": {"id": "p"}, "roles": [{"name": "member"}]}})",
            "application/json"));
    }
    return http::Reply::of(http::text_response(500, ""));
  }
  void release() {
    std::lock_guard<std::mutex> lk(mu_);
    released_ = true;
    cv_.notify_all();
  }
  std::atomic<Mode> mode{Mode::valid};
  std::atomic<int> service_logins{0};
  std::atomic<int> validations{0};

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

class KeystoneAnswersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http::ServerOptions o;
    o.threads = 2;
    o.drain_timeout = 1s;
    server_ = std::make_unique<http::Server>(o, keystone_, log::Logger::null());
    ASSERT_TRUE(server_->listen().ok());
    thread_ = std::thread([this] { server_->run(); });
    KeystoneOptions k;
    k.auth_url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/v3";
    k.username = "glint";
    k.password = "pw";
    k.project_name = "service";
    k.timeout = 500ms;
    options_ = k;
    validator_ = make_keystone_validator(k, clock_, log::Logger::null());
  }
  void TearDown() override {
    keystone_.release();
    server_->stop();
    thread_.join();
  }
  TokenCheck::Outcome check(ScriptedKeystone::Mode m) {
    keystone_.mode = m;
    return validator_->validate("gAAAAABtoken").outcome;
  }
  ScriptedKeystone keystone_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
  SystemClock clock_;
  std::unique_ptr<TokenValidator> validator_;
  KeystoneOptions options_;
};

TEST_F(KeystoneAnswersTest, OnlyAProperAnswerIsAValidToken) {
  EXPECT_EQ(check(ScriptedKeystone::Mode::valid), TokenCheck::Outcome::valid);
  EXPECT_EQ(check(ScriptedKeystone::Mode::not_found), TokenCheck::Outcome::invalid);
  // A 200 that is no token document is a broken Keystone (a proxy's page), not a verdict on the
  // token: unavailable, so a cache does not lock the token's owner out for its whole TTL.
  EXPECT_EQ(check(ScriptedKeystone::Mode::garbage), TokenCheck::Outcome::unavailable);
  EXPECT_NE(check(ScriptedKeystone::Mode::huge), TokenCheck::Outcome::valid);
  EXPECT_EQ(check(ScriptedKeystone::Mode::error500), TokenCheck::Outcome::unavailable);
  EXPECT_EQ(keystone_.service_logins.load(), 1);  // the service token is reused
}

TEST_F(KeystoneAnswersTest, ARefusedServiceTokenIsRenewedOnceThenUnavailable) {
  ASSERT_EQ(check(ScriptedKeystone::Mode::valid), TokenCheck::Outcome::valid);
  EXPECT_EQ(check(ScriptedKeystone::Mode::wrong_service_token), TokenCheck::Outcome::unavailable);
  EXPECT_EQ(keystone_.service_logins.load(), 2);
  // A refusal that persists does not turn every request into a password login.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(check(ScriptedKeystone::Mode::wrong_service_token), TokenCheck::Outcome::unavailable);
  EXPECT_EQ(keystone_.service_logins.load(), 2);
}

TEST_F(KeystoneAnswersTest, AKeystoneThatNeverAnswersIsUnavailable) {
  // The server holds the request until TearDown: without the client's timeout this never returns.
  EXPECT_EQ(check(ScriptedKeystone::Mode::slow), TokenCheck::Outcome::unavailable);
  // And for a moment after, calls fail at once instead of each waiting out the timeout.
  const int asked = keystone_.validations.load();
  EXPECT_EQ(check(ScriptedKeystone::Mode::valid), TokenCheck::Outcome::unavailable);
  EXPECT_EQ(keystone_.validations.load(), asked);
}

TEST_F(KeystoneAnswersTest, OnlySoManyValidationsWaitOnKeystoneAtOnce) {
  KeystoneOptions one = options_;
  one.max_in_flight = 1;
  one.timeout = 30s;  // the first call waits until the server is released below
  auto v = make_keystone_validator(one, clock_, log::Logger::null());
  ASSERT_EQ(v->validate("gAAAAABwarmup").outcome, TokenCheck::Outcome::valid);  // service token fetched
  keystone_.mode = ScriptedKeystone::Mode::slow;
  std::thread first([&] { v->validate("gAAAAABfirst"); });
  ASSERT_TRUE(testing::wait_for([&] { return keystone_.validations.load() == 2; }, 20s));  // the first call waits on Keystone
  TokenCheck second = v->validate("gAAAAABsecond");
  EXPECT_EQ(second.outcome, TokenCheck::Outcome::unavailable);
  EXPECT_NE(second.reason.find("too many"), std::string::npos) << second.reason;
  EXPECT_EQ(keystone_.validations.load(), 2);
  keystone_.release();
  first.join();
}

// Keystone behind https: verified against [keystone_authtoken] cafile and by its host name.
TEST(KeystoneHttps, KeystoneIsVerifiedAgainstTheCaFile) {
  testing::TempDir certs("glint-keystone-tls");
  const std::string cmd = std::string(GLINT_TEST_SOURCE_DIR) + "/tests/support/make_certs.sh " + certs.path() + " localhost";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  ScriptedKeystone keystone;
  http::ServerOptions o;
  o.threads = 2;
  o.drain_timeout = 1s;
  o.tls.cert_file = certs / "localhost.pem";
  o.tls.key_file = certs / "localhost.key";
  http::Server server(o, keystone, log::Logger::null());
  ASSERT_TRUE(server.listen().ok());
  std::thread t([&] { server.run(); });
  SystemClock clock;
  KeystoneOptions k;
  k.auth_url = "https://localhost:" + std::to_string(server.port()) + "/v3";
  k.username = "glint";
  k.password = "pw";
  k.project_name = "service";
  k.timeout = 5s;
  k.cafile = certs / "ca.pem";
  auto trusted = make_keystone_validator(k, clock, log::Logger::null());
  ASSERT_TRUE(trusted);
  EXPECT_EQ(trusted->validate("gAAAAABtoken").outcome, TokenCheck::Outcome::valid);
  k.cafile = certs / "other-ca.pem";
  auto wrong = make_keystone_validator(k, clock, log::Logger::null());
  ASSERT_TRUE(wrong);
  const TokenCheck refused = wrong->validate("gAAAAABtoken");
  EXPECT_EQ(refused.outcome, TokenCheck::Outcome::unavailable);
  EXPECT_NE(refused.reason.find("certificate"), std::string::npos) << refused.reason;
  k.auth_url = "http://localhost:" + std::to_string(server.port()) + "/v3";  // plain HTTP to a TLS port
  EXPECT_NE(make_keystone_validator(k, clock, log::Logger::null())->validate("gAAAAABtoken").outcome, TokenCheck::Outcome::valid);
  server.stop();
  t.join();
}

}  // namespace
}  // namespace glint::api
