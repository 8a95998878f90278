// Request signing between glint processes: what the signature binds (method, target, date,
// destination node, nonce, body framing, conditions), the skew window, and the replay cache.
#include "shared/http/auth.hpp"

#include <gtest/gtest.h>

namespace glint::http {
namespace {

using namespace std::chrono_literals;
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

Request signed_request(const std::string& secret, const std::string& method, const std::string& target,
                       std::chrono::system_clock::time_point at, const std::string& node = "node1",
                       std::optional<uint64_t> length = std::nullopt, Headers extra = {}) {
  Request r;
  r.method = method;
  r.target = target;
  r.content_length = length;
  r.headers = extra;
  sign_headers(r.headers, secret, fields_for(method, target, node, body_binding(length, false), extra), at);
  return r;
}

TEST(Auth, GoodSignatureVerifies) {
  auto r = signed_request("s3cret", "PUT", "/v1/blobs/x", kNow, "node1", 10);
  auto v = verify(r, "s3cret", "node1", kNow, 300s);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->date, 1'800'000'000);
  EXPECT_EQ(v->nonce, std::string(*r.headers.get(kNonceHeader)));
}

TEST(Auth, UnsignedWrongSecretOrTamperedIsRejected) {
  Request bare;
  bare.method = "GET";
  bare.target = "/v1/blobs/x";
  EXPECT_EQ(verify(bare, "s", "node1", kNow, 300s).code(), Errc::unauthorized);
  auto r = signed_request("s3cret", "GET", "/v1/blobs/x", kNow);
  EXPECT_EQ(verify(r, "other", "node1", kNow, 300s).code(), Errc::unauthorized);
  r.method = "DELETE";  // signature was for GET
  EXPECT_EQ(verify(r, "s3cret", "node1", kNow, 300s).code(), Errc::unauthorized);
  auto r2 = signed_request("s3cret", "GET", "/v1/blobs/x", kNow);
  r2.headers.set("X-Glint-Date", "12x");
  EXPECT_EQ(verify(r2, "s3cret", "node1", kNow, 300s).code(), Errc::unauthorized);
  auto r3 = signed_request("s3cret", "GET", "/v1/blobs/x", kNow);
  r3.headers.set(std::string(kNonceHeader), "00000000-0000-4000-8000-000000000000");  // another nonce
  EXPECT_EQ(verify(r3, "s3cret", "node1", kNow, 300s).code(), Errc::unauthorized);
}

TEST(Auth, ARequestSignedForOneNodeIsRefusedByAnother) {
  auto r = signed_request("k", "DELETE", "/v1/blobs/x", kNow, "node1");
  auto v = verify(r, "k", "node2", kNow, 300s);
  EXPECT_EQ(v.code(), Errc::unauthorized);
  EXPECT_NE(v.error().message.find("another node"), std::string::npos);
  r.headers.set(std::string(kNodeHeader), "node2");  // re-aimed: the signature no longer matches
  EXPECT_EQ(verify(r, "k", "node2", kNow, 300s).code(), Errc::unauthorized);
}

TEST(Auth, TheBodyFramingAndConditionsAreBound) {
  auto r = signed_request("k", "PUT", "/v1/blobs/x", kNow, "node1", 100);
  r.content_length = 101;
  EXPECT_EQ(verify(r, "k", "node1", kNow, 300s).code(), Errc::unauthorized);
  r.content_length.reset();
  r.chunked = true;
  EXPECT_EQ(verify(r, "k", "node1", kNow, 300s).code(), Errc::unauthorized);

  Headers cond;
  cond.set("If-Match", "\"aa\"");
  auto d = signed_request("k", "DELETE", "/v1/blobs/x", kNow, "node1", std::nullopt, cond);
  EXPECT_TRUE(verify(d, "k", "node1", kNow, 300s).ok());
  d.headers.set("If-Match", "*");  // widened to any copy
  EXPECT_EQ(verify(d, "k", "node1", kNow, 300s).code(), Errc::unauthorized);
  Headers expect;
  expect.set(std::string(kExpectDigestHeader), "bb");
  auto p = signed_request("k", "PUT", "/v1/blobs/x", kNow, "node1", 5, expect);
  p.headers.set(std::string(kExpectDigestHeader), "cc");
  EXPECT_EQ(verify(p, "k", "node1", kNow, 300s).code(), Errc::unauthorized);
}

TEST(Auth, ClockSkewIsBounded) {
  auto r = signed_request("k", "GET", "/v1/blobs/x", kNow);
  EXPECT_TRUE(verify(r, "k", "node1", kNow + 300s, 300s).ok());
  auto s = verify(r, "k", "node1", kNow + 301s, 300s);
  EXPECT_EQ(s.code(), Errc::unauthorized);
  EXPECT_NE(s.error().message.find("skew"), std::string::npos);
  EXPECT_EQ(verify(r, "k", "node1", kNow - 301s, 300s).code(), Errc::unauthorized);
}

TEST(NonceCache, ANonceIsAdmittedOnceWithinItsWindow) {
  NonceCache c(10, 300s);
  const std::string n = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
  const int64_t date = 1'800'000'000;
  EXPECT_TRUE(c.admit(n, date, kNow).ok());
  auto again = c.admit(n, date, kNow + 10s);
  EXPECT_EQ(again.code(), Errc::unauthorized);
  EXPECT_NE(again.message().find("replay"), std::string::npos);
  EXPECT_EQ(c.admit("not-a-nonce", date, kNow).code(), Errc::unauthorized);
  // Past date + skew the request fails the date check anyway, so the nonce is forgotten.
  EXPECT_TRUE(c.admit("3f2504e0-4f89-41d3-9a0c-0305e82c3302", date, kNow + 301s).ok());
  EXPECT_EQ(c.size(), 1u);
}

TEST(NonceCache, AFullCacheRefusesInsteadOfForgetting) {
  NonceCache c(2, 300s);
  const int64_t date = 1'800'000'000;
  EXPECT_TRUE(c.admit("3f2504e0-4f89-41d3-9a0c-0305e82c3301", date, kNow).ok());
  EXPECT_TRUE(c.admit("3f2504e0-4f89-41d3-9a0c-0305e82c3302", date, kNow).ok());
  EXPECT_EQ(c.admit("3f2504e0-4f89-41d3-9a0c-0305e82c3303", date, kNow).code(), Errc::unavailable);
  // A full cache never lets an old nonce in again.
  EXPECT_EQ(c.admit("3f2504e0-4f89-41d3-9a0c-0305e82c3301", date, kNow).code(), Errc::unauthorized);
}

}  // namespace
}  // namespace glint::http
