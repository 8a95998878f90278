#include "shared/blob/read_ahead.hpp"

#include <gtest/gtest.h>

#include <string>

namespace glint::blob {
namespace {

// Produces chunks "0", "1", … up to n, optionally failing at one of them.
ReadAhead::Fill counter(int n, int fail_at = -1) {
  auto i = std::make_shared<int>(0);
  return [=](std::vector<std::byte>& buf) -> Expected<std::span<const std::byte>> {
    if (*i == fail_at) return Error{Errc::corrupt, "block " + std::to_string(*i)};
    if (*i >= n) return std::span<const std::byte>();
    const std::string s = std::to_string((*i)++);
    buf.assign(reinterpret_cast<const std::byte*>(s.data()), reinterpret_cast<const std::byte*>(s.data() + s.size()));
    return std::span<const std::byte>(buf);
  };
}

std::string text(std::span<const std::byte> s) { return {reinterpret_cast<const char*>(s.data()), s.size()}; }

TEST(ReadAhead, DeliversEveryChunkInOrderThenEnd) {
  ReadAhead ra(counter(100));
  for (int i = 0; i < 100; ++i) {
    auto c = ra.next();
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(text(*c), std::to_string(i));
  }
  auto end = ra.next();
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end->empty());
  EXPECT_TRUE(ra.next()->empty());  // stays ended, does not block
}

TEST(ReadAhead, ErrorIsDeliveredInPlaceAndIsFinal) {
  ReadAhead ra(counter(100, 3));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(text(*ra.next()), std::to_string(i));
  auto e = ra.next();
  EXPECT_EQ(e.code(), Errc::corrupt);
  EXPECT_EQ(ra.next().code(), Errc::corrupt);
}

TEST(ReadAhead, AbandonedEarlyStopsCleanly) {
  ReadAhead ra(counter(1000000));
  EXPECT_EQ(text(*ra.next()), "0");
}  // destructor joins the helper thread without reading the rest

}  // namespace
}  // namespace glint::blob
