#include "workers/api/api_routes.hpp"

#include <gtest/gtest.h>

namespace glint::api {
namespace {

using K = ApiRoute::Kind;

TEST(ApiRoutes, VersionsAndRedirect) {
  EXPECT_EQ(route("/").kind, K::versions_multiple);
  EXPECT_EQ(route("/images").kind, K::versions_multiple);
  EXPECT_EQ(route("/v3/images").kind, K::versions_multiple);
  EXPECT_EQ(route("/versions").kind, K::versions);
  EXPECT_EQ(route("/v2").kind, K::v2_redirect);
  EXPECT_EQ(route("/v2/").kind, K::not_found);
  EXPECT_EQ(route("/v2/nonexistent").kind, K::not_found);
}

TEST(ApiRoutes, Images) {
  EXPECT_EQ(route("/v2/images").kind, K::images);
  auto r = route("/v2/images/abc");
  EXPECT_EQ(r.kind, K::image);
  EXPECT_EQ(r.image_id, "abc");
  EXPECT_EQ(route("/v2/images/abc/file").kind, K::image_file);
  r = route("/v2/images/abc/tags/a%20b");
  EXPECT_EQ(r.kind, K::image_tag);
  EXPECT_EQ(r.name, "a b");
  EXPECT_EQ(route("/v2/images/abc/tags/%zz").kind, K::not_found);
  r = route("/v2/images/abc/actions/deactivate");
  EXPECT_EQ(r.kind, K::image_action);
  EXPECT_EQ(r.name, "deactivate");
  EXPECT_EQ(route("/v2/images/abc/other").kind, K::not_found);
  EXPECT_EQ(route("/v2/schemas/image").kind, K::schema);
}

TEST(ApiRoutes, Cache) {
  EXPECT_EQ(route("/v2/cache").kind, K::cache);
  EXPECT_EQ(route("/v2/cache/clean").kind, K::cache_clean);
  EXPECT_EQ(route("/v2/cache/prune").kind, K::cache_prune);
  auto r = route("/v2/cache/abc");
  EXPECT_EQ(r.kind, K::cache_image);
  EXPECT_EQ(r.image_id, "abc");
  r = route("/v2/cache/nodes/abc");
  EXPECT_EQ(r.kind, K::cache_nodes);
  EXPECT_EQ(r.image_id, "abc");
  EXPECT_EQ(route("/v2/cache/").kind, K::not_found);
  EXPECT_EQ(route("/v2/cache/clean/x").kind, K::not_found);
}

TEST(ApiRoutes, AnEmptyImageIdIsNotTheList) {
  // tempest's test_get_image_null_id / test_delete_image_null_id: Glance answers 404.
  EXPECT_EQ(route("/v2/images/").kind, K::not_found);
  EXPECT_EQ(route("/v2/images//file").kind, K::not_found);
  EXPECT_EQ(route("/v2/images/abc/").kind, K::not_found);
}

TEST(ApiRoutes, PercentDecode) {
  std::string out;
  EXPECT_TRUE(percent_decode("a%2Fb", out));
  EXPECT_EQ(out, "a/b");
  EXPECT_FALSE(percent_decode("%4", out));
  EXPECT_FALSE(percent_decode("%", out));
  EXPECT_FALSE(percent_decode("%g0", out));
}

}  // namespace
}  // namespace glint::api
