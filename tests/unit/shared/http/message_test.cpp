#include "shared/http/message.hpp"

#include <gtest/gtest.h>

namespace glint::http {
namespace {

TEST(Headers, LookupIsCaseInsensitiveAndSetReplaces) {
  Headers h;
  h.add("Content-Type", "a");
  h.add("content-type", "b");
  EXPECT_EQ(*h.get("CONTENT-TYPE"), "a");
  h.set("Content-type", "c");
  EXPECT_EQ(h.all().size(), 1u);
  EXPECT_EQ(*h.get("content-type"), "c");
  EXPECT_FALSE(h.get("missing").has_value());
}

TEST(Responses, JsonErrorCarriesCodeAndMessage) {
  auto r = json_error(404, "Not Found", "no such blob");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("\"code\":404"), std::string::npos);
  EXPECT_NE(r.body.find("no such blob"), std::string::npos);
  EXPECT_EQ(*r.headers.get("Content-Type"), "application/json");
}

}  // namespace
}  // namespace glint::http
