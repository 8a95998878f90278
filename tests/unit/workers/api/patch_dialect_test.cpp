// Glance's older JSON-patch media type (v2.0: the operation is the key), which tempest sends.
#include <gtest/gtest.h>

#include "workers/api/image_patch.hpp"

namespace glint::api {
namespace {

TEST(PatchDialect, BothMediaTypesAreKnownAndOthersAreNot) {
  EXPECT_EQ(patch_dialect("application/openstack-images-v2.1-json-patch"), PatchDialect::v2_1);
  EXPECT_EQ(patch_dialect("application/openstack-images-v2.0-json-patch; charset=UTF-8"), PatchDialect::v2_0);
  EXPECT_FALSE(patch_dialect("application/json-patch+json").has_value());
  EXPECT_FALSE(patch_dialect("").has_value());
}

TEST(PatchDialect, V20NamesTheOperationAsTheKey) {
  db::ImageRow img;
  img.name = "old";
  ASSERT_FALSE(apply_patch(R"([{"replace": "/name", "value": "new"}, {"add": "/colour", "value": "blue"}])", img,
                           PatchDialect::v2_0));
  EXPECT_EQ(img.name, "new");
  EXPECT_EQ(img.properties.at("colour"), "blue");
  ASSERT_FALSE(apply_patch(R"([{"remove": "/colour"}])", img, PatchDialect::v2_0));
  EXPECT_EQ(img.properties.count("colour"), 0u);
}

TEST(PatchDialect, V20RefusesAmbiguousOrMissingOperations) {
  db::ImageRow img;
  auto two = apply_patch(R"([{"replace": "/name", "add": "/x", "value": "v"}])", img, PatchDialect::v2_0);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->status, 400);
  auto none = apply_patch(R"([{"op": "replace", "path": "/name", "value": "v"}])", img, PatchDialect::v2_0);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 400);
  auto bad_path = apply_patch(R"([{"replace": 7, "value": "v"}])", img, PatchDialect::v2_0);
  ASSERT_TRUE(bad_path);
  EXPECT_EQ(bad_path->status, 400);
  // And the v2.1 body under v2.0's name is refused, not half-applied.
  EXPECT_TRUE(apply_patch(R"([{"op": "replace", "path": "/name", "value": "v"}])", img, PatchDialect::v2_0));
  EXPECT_EQ(img.name, "");
}

}  // namespace
}  // namespace glint::api
