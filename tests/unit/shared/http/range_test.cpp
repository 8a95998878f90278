#include "shared/http/range.hpp"

#include <gtest/gtest.h>

namespace glint::http {
namespace {

using K = ByteRange::Kind;

TEST(Range, NoHeaderOrOtherUnitIsIgnored) {
  EXPECT_EQ(parse_range("", 100).kind, K::none);
  EXPECT_EQ(parse_range("items=0-1", 100).kind, K::none);
  EXPECT_EQ(parse_range("bytes=abc", 100).kind, K::none);
  EXPECT_EQ(parse_range("bytes=5-2", 100).kind, K::none);
  EXPECT_EQ(parse_range("bytes=-", 100).kind, K::none);
}

TEST(Range, ClosedOpenAndSuffixRanges) {
  auto r = parse_range("bytes=0-9", 100);
  ASSERT_EQ(r.kind, K::satisfiable);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, 9u);
  EXPECT_EQ(r.length(), 10u);
  r = parse_range("bytes=90-", 100);
  EXPECT_EQ(r.first, 90u);
  EXPECT_EQ(r.last, 99u);
  r = parse_range("bytes=-10", 100);
  EXPECT_EQ(r.first, 90u);
  EXPECT_EQ(r.last, 99u);
  r = parse_range("bytes=-1000", 100);  // suffix longer than the resource: all of it
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, 99u);
  r = parse_range("bytes=50-1000", 100);  // last clamped
  EXPECT_EQ(r.last, 99u);
}

TEST(Range, OutOfRangeIsUnsatisfiable) {
  EXPECT_EQ(parse_range("bytes=100-", 100).kind, K::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=100-200", 100).kind, K::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 100).kind, K::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-", 0).kind, K::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-1,5-6", 100).kind, K::unsatisfiable);
}

TEST(Range, HugeNumbersDoNotOverflow) {
  EXPECT_EQ(parse_range("bytes=99999999999999999999999-", 100).kind, K::none);
  EXPECT_EQ(parse_range("bytes=0-99999999999999999999999", 100).kind, K::none);
  auto r = parse_range("bytes=0-18446744073709551615", 100);
  // 20 digits is over the 19-digit guard: ignored rather than misparsed.
  EXPECT_EQ(r.kind, K::none);
}

}  // namespace
}  // namespace glint::http
