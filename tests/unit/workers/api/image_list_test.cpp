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

TEST(ImageList, Links) {
  EXPECT_EQ(first_link(""), "/v2/images");
  EXPECT_EQ(first_link("limit=2&marker=x"), "/v2/images?limit=2");
  EXPECT_EQ(next_link("limit=2&marker=x", "y"), "/v2/images?limit=2&marker=y");
  EXPECT_EQ(next_link("", "y"), "/v2/images?marker=y");
}

}  // namespace
}  // namespace glint::api
