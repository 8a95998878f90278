#include "workers/api/image_list.hpp"

#include <gtest/gtest.h>

namespace glint::api {
namespace {

db::ImageQuery ok(const std::string& q) {
  auto r = image_query_from(q, 25, 1000);
  EXPECT_TRUE(std::holds_alternative<db::ImageQuery>(r)) << q;
  return std::holds_alternative<db::ImageQuery>(r) ? std::get<db::ImageQuery>(r) : db::ImageQuery{};
}

ApiError bad(const std::string& q) {
  auto r = image_query_from(q, 25, 1000);
  EXPECT_TRUE(std::holds_alternative<ApiError>(r)) << q;
  return std::holds_alternative<ApiError>(r) ? std::get<ApiError>(r) : ApiError{0, ""};
}

TEST(ImageList, LimitsMarkersAndFilters) {
  EXPECT_EQ(ok("").limit, 25u);
  EXPECT_EQ(ok("limit=5000").limit, 1000u);
  EXPECT_EQ(ok("limit=0").limit, 0u);
  EXPECT_EQ(bad("limit=abc").message, "limit param must be an integer");
  EXPECT_EQ(bad("limit=-1").message, "limit param must be positive");
  auto q = ok("name=my+image&status=active&tag=x&protected=true&size_min=10&marker=abc");
  EXPECT_EQ(q.equals.at("name"), "my image");
  EXPECT_EQ(q.equals.at("status"), "active");
  EXPECT_EQ(*q.tag, "x");
  EXPECT_TRUE(*q.protected_);
  EXPECT_EQ(*q.size_min, 10);
  EXPECT_EQ(*q.marker, "abc");
  EXPECT_EQ(bad("visibility=bogus").status, 400);
  EXPECT_EQ(bad("size_min=abc").status, 400);
  EXPECT_EQ(ok("").member_status, "accepted");
  EXPECT_EQ(ok("member_status=pending").member_status, "pending");
  EXPECT_EQ(ok("member_status=all").member_status, "all");
  EXPECT_EQ(bad("member_status=bogus").message, "Invalid status value: bogus");
}

TEST(ImageList, SizeIsAColumnNotAProperty) {
  auto q = ok("size=3700");
  EXPECT_EQ(q.properties.count("size"), 0u);
  EXPECT_EQ(*q.size_min, 3700);
  EXPECT_EQ(*q.size_max, 3700);
  EXPECT_EQ(bad("size=big").status, 400);
}

TEST(ImageList, SortForms) {
  auto q = ok("sort_key=name&sort_dir=asc&sort_key=size");
  ASSERT_EQ(q.sort.size(), 2u);
  EXPECT_EQ(q.sort[0], (std::pair<std::string, bool>{"name", true}));
  EXPECT_EQ(q.sort[1], (std::pair<std::string, bool>{"size", true}));
  q = ok("sort=name:asc,created_at");
  EXPECT_EQ(q.sort[1], (std::pair<std::string, bool>{"created_at", false}));
  EXPECT_EQ(bad("sort_key=bogus").status, 400);
  EXPECT_EQ(bad("sort_dir=sideways").status, 400);
  EXPECT_EQ(bad("sort=name:up").status, 400);
}

TEST(ImageList, TimePropertyAndHiddenFilters) {
  auto q = ok("created_at=gte:2026-01-02T03:04:05Z&updated_at=2026-01-02T03:04:05.5%2B01:00&hw_disk_bus=virtio");
  ASSERT_EQ(q.times.size(), 2u);
  EXPECT_EQ(q.times[0].op, "gte");
  EXPECT_EQ(q.times[0].value.time_since_epoch(), std::chrono::seconds(1767323045));
  EXPECT_EQ(q.times[1].op, "eq");
  EXPECT_EQ(q.times[1].value.time_since_epoch(), std::chrono::seconds(1767323045 - 3600) + std::chrono::milliseconds(500));
  EXPECT_EQ(q.properties.at("hw_disk_bus"), "virtio");
  EXPECT_FALSE(*q.os_hidden);  // hidden images are left out by default
  EXPECT_TRUE(*ok("os_hidden=true").os_hidden);
  EXPECT_EQ(bad("created_at=gte:bogus").message, "Bad \"created_at\" query filter format. Use ISO 8601 DateTime notation.");
  EXPECT_EQ(bad("updated_at=2026-13-01T00:00:00Z").status, 400);
}

TEST(ImageList, Links) {
  EXPECT_EQ(first_link(""), "/v2/images");
  EXPECT_EQ(first_link("limit=2&marker=x"), "/v2/images?limit=2");
  EXPECT_EQ(next_link("limit=2&marker=x", "y"), "/v2/images?limit=2&marker=y");
  EXPECT_EQ(next_link("", "y"), "/v2/images?marker=y");
}

}  // namespace
}  // namespace glint::api
