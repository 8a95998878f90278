#include "shared/http/auth.hpp"

#include <gtest/gtest.h>

namespace glint::http {
namespace {

Request signed_request(const std::string& secret, const std::string& method, const std::string& target,
                       std::chrono::system_clock::time_point at) {
  Request r;
  r.method = method;
  r.target = target;
  sign_headers(r.headers, secret, method, target, at);
  return r;
}

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

TEST(Auth, GoodSignatureVerifies) {
  auto r = signed_request("s3cret", "PUT", "/v1/blobs/x", kNow);
  EXPECT_TRUE(verify(r, "s3cret", kNow, std::chrono::seconds(300)).ok());
}

TEST(Auth, UnsignedWrongSecretOrTamperedIsRejected) {
  Request bare;
  bare.method = "GET";
  bare.target = "/v1/blobs/x";
  EXPECT_EQ(verify(bare, "s", kNow, std::chrono::seconds(300)).code(), Errc::unauthorized);
  auto r = signed_request("s3cret", "GET", "/v1/blobs/x", kNow);
  EXPECT_EQ(verify(r, "other", kNow, std::chrono::seconds(300)).code(), Errc::unauthorized);
  r.method = "DELETE";  // signature was for GET
  EXPECT_EQ(verify(r, "s3cret", kNow, std::chrono::seconds(300)).code(), Errc::unauthorized);
  auto r2 = signed_request("s3cret", "GET", "/v1/blobs/x", kNow);
  r2.headers.set("X-Glint-Date", "12x");
  EXPECT_EQ(verify(r2, "s3cret", kNow, std::chrono::seconds(300)).code(), Errc::unauthorized);
}

TEST(Auth, ClockSkewIsBounded) {
  auto r = signed_request("k", "GET", "/v1/blobs/x", kNow);
  EXPECT_TRUE(verify(r, "k", kNow + std::chrono::seconds(300), std::chrono::seconds(300)).ok());
  auto s = verify(r, "k", kNow + std::chrono::seconds(301), std::chrono::seconds(300));
  EXPECT_EQ(s.code(), Errc::unauthorized);
  EXPECT_NE(s.message().find("skew"), std::string::npos);
  EXPECT_EQ(verify(r, "k", kNow - std::chrono::seconds(301), std::chrono::seconds(300)).code(), Errc::unauthorized);
}

}  // namespace
}  // namespace glint::http
