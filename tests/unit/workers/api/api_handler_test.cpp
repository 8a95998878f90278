// ApiHandler called directly (no sockets) over an in-memory image repository.
#include "workers/api/api_handler.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/fake_image_repository.hpp"
#include "tests/unit/workers/api/fake_data.hpp"

namespace glint::api {
namespace {

using json = nlohmann::json;

class ApiHandlerTest : public ::testing::Test {
 protected:
  http::Request req(const std::string& method, const std::string& target, bool want_json = true) {
    http::Request r;
    r.method = method;
    r.target = target;
    const auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.headers.set("Host", "api.example:9292");
    r.headers.set("Accept", want_json ? "application/json" : "*/*");  // */* is what glanceclient sends
    r.request_id = "req-test";
    return r;
  }
  http::Response call(const std::string& method, const std::string& target, const std::string& body = {},
                      bool want_json = true) {
    auto reply = handler_.handle_request(req(method, target, want_json));
    if (!reply.sink) return std::move(reply.response);
    if (!body.empty()) {
      Status s = reply.sink->write({reinterpret_cast<const std::byte*>(body.data()), body.size()});
      if (!s) return reply.sink->failed(s);
    }
    return reply.sink->finish();
  }
  json create(const std::string& body) {
    auto r = call("POST", "/v2/images", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body);
  }

  testing::FakeImageRepository repo_;
  testing::FakeMemberRepository members_;
  testing::FakeData data_{repo_};
  metrics::Metrics metrics_;
  ApiHandler handler_{ApiOptions{}, repo_, members_, data_.data, metrics_, log::Logger::null()};
};

// Percent-encoded bytes that are not UTF-8 (in an id, a tag, a list filter) are a clear 400 from
// the API, and nothing is created or changed.
TEST_F(ApiHandlerTest, PercentEncodedBytesThatAreNotUtf8Are400) {
  for (const char* target : {"/v2/images/%FF", "/v2/images?name=%C3%28", "/v2/images?%FF=1",
                             "/v2/images/3f2504e0-4f89-41d3-9a0c-0305e82c3301/tags/%ED%A0%80"}) {
    auto r = call(target[12] == '3' ? "PUT" : "GET", target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_NE(r.body.find("UTF-8"), std::string::npos) << r.body;
  }
  EXPECT_EQ(call("GET", "/v2/images?name=caf%C3%A9").status, 200);
}

TEST_F(ApiHandlerTest, VersionDocuments) {
  auto root = call("GET", "/");
  EXPECT_EQ(root.status, 300);
  auto j = json::parse(root.body);
  EXPECT_EQ(j["versions"][0]["status"], "CURRENT");
  EXPECT_EQ(j["versions"][0]["links"][0]["href"], "http://api.example:9292/v2/");
  EXPECT_EQ(call("GET", "/versions").status, 200);
  auto redirect = call("GET", "/v2");
  EXPECT_EQ(redirect.status, 302);
  EXPECT_EQ(*redirect.headers.get("Location"), "http://api.example:9292/v2/");
}

TEST_F(ApiHandlerTest, CreateShowsGlanceShapedImage) {
  auto r = call("POST", "/v2/images", R"({"name":"cirros","disk_format":"qcow2","container_format":"bare","hw":"x"})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto img = json::parse(r.body);
  const std::string id = img["id"];
  EXPECT_EQ(*r.headers.get("Location"), "http://api.example:9292/v2/images/" + id);
  EXPECT_EQ(img["status"], "queued");
  EXPECT_EQ(img["visibility"], "shared");
  EXPECT_EQ(img["size"], nullptr);
  EXPECT_EQ(img["checksum"], nullptr);
  EXPECT_EQ(img["hw"], "x");
  EXPECT_EQ(img["self"], "/v2/images/" + id);
  EXPECT_EQ(img["file"], "/v2/images/" + id + "/file");
  EXPECT_EQ(img["schema"], "/v2/schemas/image");
  EXPECT_EQ(img["tags"], json::array());
  EXPECT_EQ(img["created_at"].get<std::string>().size(), 20u);
  auto shown = call("GET", "/v2/images/" + id);
  EXPECT_EQ(shown.status, 200);
  EXPECT_EQ(json::parse(shown.body)["name"], "cirros");
}

TEST_F(ApiHandlerTest, CreateErrorsAndConflicts) {
  auto bad = call("POST", "/v2/images", "{oops");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["message"], "Malformed JSON in request body.<br /><br />\n\n\n");
  EXPECT_EQ(json::parse(bad.body)["code"], "400 Bad Request");
  EXPECT_EQ(call("POST", "/v2/images").status, 400);  // no body
  auto img = create(R"({"id":"3f2504e0-4f89-41d3-9a0c-0305e82c3301"})");
  auto dup = call("POST", "/v2/images", R"({"id":"3f2504e0-4f89-41d3-9a0c-0305e82c3301"})");
  EXPECT_EQ(dup.status, 409);
  EXPECT_NE(dup.body.find("Image ID 3f2504e0-4f89-41d3-9a0c-0305e82c3301 already exists!"), std::string::npos);
  EXPECT_EQ(call("PUT", "/v2/images").status, 405);
  auto html = call("GET", "/v2/images/nope", {}, /*want_json=*/false);
  EXPECT_EQ(html.status, 404);
  EXPECT_EQ(*html.headers.get("Content-Type"), "text/html; charset=UTF-8");
  EXPECT_NE(html.body.find("No image found with ID nope"), std::string::npos);
}

TEST_F(ApiHandlerTest, DeleteProtectedAndTwice) {
  auto prot = create(R"({"protected":true})");
  auto r = call("DELETE", "/v2/images/" + prot["id"].get<std::string>());
  EXPECT_EQ(r.status, 403);
  auto img = create("{}");
  const std::string id = img["id"];
  EXPECT_EQ(call("DELETE", "/v2/images/" + id).status, 204);
  EXPECT_EQ(call("GET", "/v2/images/" + id).status, 404);
  auto again = call("DELETE", "/v2/images/" + id);
  EXPECT_EQ(again.status, 404);
  EXPECT_NE(again.body.find("Failed to find image " + id + " to delete"), std::string::npos);
  EXPECT_EQ(call("POST", "/v2/images", R"({"id":")" + id + "\"}").status, 409);  // never reused
}

TEST_F(ApiHandlerTest, TagsAndActions) {
  const std::string id = create("{}")["id"];
  EXPECT_EQ(call("PUT", "/v2/images/" + id + "/tags/blue").status, 204);
  EXPECT_EQ(call("PUT", "/v2/images/" + id + "/tags/blue").status, 204);
  EXPECT_EQ(json::parse(call("GET", "/v2/images/" + id).body)["tags"], json::array({"blue"}));
  EXPECT_EQ(call("DELETE", "/v2/images/" + id + "/tags/blue").status, 204);
  EXPECT_EQ(call("DELETE", "/v2/images/" + id + "/tags/blue").status, 404);
  EXPECT_EQ(call("PUT", "/v2/images/" + id + "/tags/" + std::string(256, 't')).status, 400);
  EXPECT_EQ(call("PUT", "/v2/images/" + std::string("unknown") + "/tags/x").status, 404);
  // A queued image cannot be deactivated (403); an active one can, idempotently.
  EXPECT_EQ(call("POST", "/v2/images/" + id + "/actions/deactivate").status, 403);
  ASSERT_TRUE(repo_.transition(id, ImageStatus::queued, ImageStatus::active).ok());
  EXPECT_EQ(call("POST", "/v2/images/" + id + "/actions/deactivate").status, 204);
  EXPECT_EQ(call("POST", "/v2/images/" + id + "/actions/deactivate").status, 204);
  EXPECT_EQ(json::parse(call("GET", "/v2/images/" + id).body)["status"], "deactivated");
  EXPECT_EQ(call("POST", "/v2/images/" + id + "/actions/reactivate").status, 204);
  EXPECT_EQ(json::parse(call("GET", "/v2/images/" + id).body)["status"], "active");
  EXPECT_EQ(call("POST", "/v2/images/" + id + "/actions/bogus").status, 404);
}

TEST_F(ApiHandlerTest, ListPagesWithLinks) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(create("{}")["id"]);
  auto page = json::parse(call("GET", "/v2/images?limit=2").body);
  ASSERT_EQ(page["images"].size(), 2u);
  EXPECT_EQ(page["images"][0]["id"], ids[2]);
  EXPECT_EQ(page["first"], "/v2/images?limit=2");
  EXPECT_EQ(page["schema"], "/v2/schemas/images");
  EXPECT_EQ(page["next"], "/v2/images?limit=2&marker=" + ids[1]);
  auto last = json::parse(call("GET", page["next"].get<std::string>()).body);
  ASSERT_EQ(last["images"].size(), 1u);
  EXPECT_FALSE(last.contains("next"));
  EXPECT_EQ(call("GET", "/v2/images?limit=abc").status, 400);
  EXPECT_EQ(call("GET", "/v2/images?marker=unknown").status, 400);
  EXPECT_EQ(json::parse(call("GET", "/v2/images?limit=0").body)["images"], json::array());
}

TEST_F(ApiHandlerTest, DatabaseOutageIs503) {
  repo_.unavailable = true;
  EXPECT_EQ(call("POST", "/v2/images", "{}").status, 503);
  EXPECT_EQ(call("GET", "/v2/images/3f2504e0-4f89-41d3-9a0c-0305e82c3301").status, 503);
}

}  // namespace
}  // namespace glint::api
