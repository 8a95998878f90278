#include "workers/api/image_create.hpp"

#include <gtest/gtest.h>

namespace glint::api {
namespace {

ApiError error_of(const std::string& body) {
  auto r = image_from_create_body(body);
  EXPECT_TRUE(std::holds_alternative<ApiError>(r)) << body;
  return std::holds_alternative<ApiError>(r) ? std::get<ApiError>(r) : ApiError{0, ""};
}

TEST(ImageCreate, MinimalBodyGetsDefaults) {
  auto r = image_from_create_body("{}");
  ASSERT_TRUE(std::holds_alternative<db::ImageRow>(r));
  const auto& img = std::get<db::ImageRow>(r);
  EXPECT_EQ(img.status, ImageStatus::queued);
  EXPECT_EQ(img.visibility, "shared");
  EXPECT_EQ(img.id.size(), 36u);
}

TEST(ImageCreate, FullBody) {
  auto r = image_from_create_body(
      R"({"id":"3F2504E0-4F89-41D3-9A0C-0305E82C3301","name":"cirros","disk_format":"qcow2","container_format":"bare",
          "min_ram":512,"min_disk":1,"protected":true,"tags":["a","b","a"],"hw_disk_bus":"virtio","visibility":"community"})");
  ASSERT_TRUE(std::holds_alternative<db::ImageRow>(r));
  const auto& img = std::get<db::ImageRow>(r);
  EXPECT_EQ(img.id, "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
  EXPECT_EQ(img.name, "cirros");
  EXPECT_EQ(*img.disk_format, "qcow2");
  EXPECT_EQ(img.min_ram, 512);
  EXPECT_TRUE(img.protected_);
  EXPECT_EQ(img.tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(img.properties.at("hw_disk_bus"), "virtio");
  EXPECT_EQ(img.visibility, "community");
}

TEST(ImageCreate, BadInputMatchesGlance) {
  EXPECT_EQ(error_of("").message, "Body expected in request.");
  EXPECT_EQ(error_of("{bad").message, "Malformed JSON in request body.");
  EXPECT_EQ(error_of("[1,2]").status, 400);
  EXPECT_EQ(error_of(R"({"disk_format":"bogus"})").status, 400);
  EXPECT_EQ(error_of(R"({"min_ram":"abc"})").status, 400);
  EXPECT_EQ(error_of(R"({"name":")" + std::string(256, 'n') + "\"}").status, 400);
  EXPECT_EQ(error_of(R"({"min_ram":-1})").message,
            "Invalid value '-1' for parameter 'min_ram': Cannot be a negative value");
  auto ro = error_of(R"({"status":"active"})");
  EXPECT_EQ(ro.status, 403);
  EXPECT_EQ(ro.message, "Attribute 'status' is read-only.");
  EXPECT_EQ(error_of(R"({"size":5})").status, 403);
  auto reserved = error_of(R"({"os_glance_foo":"x"})");
  EXPECT_EQ(reserved.status, 403);
  EXPECT_EQ(reserved.detail, "Attribute 'os_glance_foo' is reserved.");
  EXPECT_EQ(error_of(R"({"id":"not-a-uuid"})").status, 400);
  EXPECT_EQ(error_of(R"({"foo":5})").status, 400);
  EXPECT_EQ(error_of(R"({"visibility":"everyone"})").status, 400);
}

}  // namespace
}  // namespace glint::api
