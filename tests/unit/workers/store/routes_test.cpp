#include "workers/store/routes.hpp"

#include <gtest/gtest.h>

namespace glint::store {
namespace {

constexpr const char* kId = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

TEST(Routes, BlobOperations) {
  const std::string p = std::string("/v1/blobs/") + kId;
  EXPECT_EQ(route("PUT", p).op, Route::Op::put);
  EXPECT_EQ(route("GET", p).op, Route::Op::get);
  EXPECT_EQ(route("HEAD", p).op, Route::Op::head);
  EXPECT_EQ(route("DELETE", p).op, Route::Op::del);
  EXPECT_EQ(route("GET", p).image_id, kId);
  auto r = route("POST", p);
  EXPECT_EQ(r.kind, Route::Kind::method_not_allowed);
  EXPECT_EQ(r.allow, "PUT, GET, HEAD, DELETE");
}

TEST(Routes, PathTricksAndBadIdsAreNotFound) {
  for (const char* p : {"/v1/blobs/", "/v1/blobs/../../etc/passwd", "/v1/blobs/3F2504E0-4F89-41D3-9A0C-0305E82C3301",
                        "/v1/blobs/3f2504e0-4f89-41d3-9a0c-0305e82c3301/", "/v1/blobs/3f2504e0%2D4f89-41d3-9a0c-0305e82c3301",
                        "/v1/blobs/3f2504e04f8941d39a0c0305e82c3301", "/v1/blobs//3f2504e0-4f89-41d3-9a0c-0305e82c3301",
                        "/v2/blobs/3f2504e0-4f89-41d3-9a0c-0305e82c3301", "/", ""}) {
    EXPECT_EQ(route("GET", p).kind, Route::Kind::not_found) << p;
  }
}

TEST(Routes, HealthAndMetrics) {
  EXPECT_EQ(route("GET", "/healthcheck").kind, Route::Kind::health);
  EXPECT_EQ(route("HEAD", "/healthcheck").kind, Route::Kind::health);
  EXPECT_EQ(route("PUT", "/healthcheck").kind, Route::Kind::method_not_allowed);
  EXPECT_EQ(route("GET", "/metrics").kind, Route::Kind::metrics);
  EXPECT_EQ(route("DELETE", "/metrics").kind, Route::Kind::method_not_allowed);
}

}  // namespace
}  // namespace glint::store
