// glint-api as a real process over a real PostgreSQL: the image record lifecycle over HTTP.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/pg.hpp"
#include "tests/support/service_process.hpp"
#include "tests/support/store_node.hpp"

namespace glint::testing {
namespace {

using json = nlohmann::json;

class ApiProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!admin_database_url()) GTEST_SKIP() << "no PostgreSQL";
    IniMap ini;
    ini["DEFAULT"]["log_level"] = "debug";
    ini["database"]["connection"] = fresh_database_url("api");
    ini["auth"]["shared_secret"] = "api-test-secret";
    ASSERT_TRUE(api_.start(ini)) << read_file(api_.log_path());
  }
  void TearDown() override {
    if (api_.running()) {
      EXPECT_EQ(api_.stop(), 0) << read_file(api_.log_path());
    }
  }
  Expected<http::ClientResponse> call(const std::string& method, const std::string& target, std::string body = {}) {
    http::Headers h;
    h.set("Accept", "application/json");
    h.set("Content-Type", "application/json");
    return api_.client().request(method, target, h, std::move(body));
  }

  TempDir dir_{"glint-api-it"};
  ServiceProcess api_{"glint-api", "api", dir_ / "api"};
};

TEST_F(ApiProcessTest, ImageRecordLifecycle) {
  auto root = call("GET", "/");
  ASSERT_TRUE(root.ok()) << root.error().message;
  EXPECT_EQ(root->status, 300);
  EXPECT_FALSE(root->header("x-openstack-request-id").empty());

  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto r = call("POST", "/v2/images", R"({"name":"img)" + std::to_string(i) + R"(","disk_format":"raw","tags":["t"]})");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 201) << r->body;
    EXPECT_EQ(r->header("location").rfind("http://127.0.0.1:", 0), 0u);
    ids.push_back(json::parse(r->body)["id"]);
  }
  auto page = call("GET", "/v2/images?limit=2&sort_key=name&sort_dir=asc");
  ASSERT_TRUE(page.ok());
  auto j = json::parse(page->body);
  ASSERT_EQ(j["images"].size(), 2u);
  EXPECT_EQ(j["images"][0]["name"], "img0");
  auto rest = call("GET", j["next"].get<std::string>());
  auto k = json::parse(rest->body);
  ASSERT_EQ(k["images"].size(), 1u);
  EXPECT_EQ(k["images"][0]["name"], "img2");
  EXPECT_FALSE(k.contains("next"));

  EXPECT_EQ(call("PUT", "/v2/images/" + ids[0] + "/tags/blue")->status, 204);
  auto shown = json::parse(call("GET", "/v2/images/" + ids[0])->body);
  EXPECT_EQ(shown["tags"], json::array({"blue", "t"}));
  auto tagged = json::parse(call("GET", "/v2/images?tag=blue")->body);
  ASSERT_EQ(tagged["images"].size(), 1u);
  EXPECT_EQ(tagged["images"][0]["id"], ids[0]);

  EXPECT_EQ(call("POST", "/v2/images/" + ids[0] + "/actions/deactivate")->status, 403);  // still queued
  EXPECT_EQ(call("DELETE", "/v2/images/" + ids[0])->status, 204);
  EXPECT_EQ(call("DELETE", "/v2/images/" + ids[0])->status, 404);
  EXPECT_EQ(call("GET", "/v2/images/" + ids[0])->status, 404);
  EXPECT_EQ(call("POST", "/v2/images", R"({"id":")" + ids[0] + "\"}")->status, 409);
  EXPECT_EQ(json::parse(call("GET", "/v2/images")->body)["images"].size(), 2u);

  auto metrics = api_.client().request("GET", "/metrics");
  EXPECT_NE(metrics->body.find("glint_api_requests_total{code=\"201\",method=\"POST\"} 3"), std::string::npos)
      << metrics->body.substr(0, 2000);
}

// glint-api started against a closed database port with `extra` on top: it must exit 1; its log.
std::string exits_one_without_database(const std::string& name, const IniMap& extra = {}) {
  TempDir dir(name);
  ServiceProcess api("glint-api", "api", dir / "api");
  IniMap ini = extra;
  ini["database"]["connection"] = "postgresql://postgres@127.0.0.1:" + std::to_string(closed_port()) + "/none";
  ini["database"]["retry_budget"] = "300ms";
  ini["auth"]["shared_secret"] = "api-test-secret";
  EXPECT_FALSE(api.start(ini, std::chrono::seconds(20)));
  EXPECT_EQ(api.stop(), 1 << 8);  // exit status 1
  return read_file(api.log_path());
}

TEST(ApiStartup, UnreachableDatabaseExitsWithAClearError) {
  EXPECT_NE(exits_one_without_database("glint-api-nodb").find("event=db.migrate_failed"), std::string::npos);
}

TEST(ApiStartup, ALocalStoreNodeWithoutItsDirectoryExitsBeforeTheDatabase) {
  IniMap extra;
  extra["api"]["local_store_node"] = "node1";
  // The database is unreachable on purpose: the configuration must be refused first.
  const std::string log = exits_one_without_database("glint-api-localstore", extra);
  EXPECT_NE(log.find("local_store_node and local_store_dir go together"), std::string::npos) << log;
  EXPECT_EQ(log.find("event=db.migrate_failed"), std::string::npos) << log;
}

}  // namespace
}  // namespace glint::testing
