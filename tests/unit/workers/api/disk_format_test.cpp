// Virtual size from the first bytes of uploaded data, as Glance's format inspector reports it.
#include "workers/api/disk_format.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace glint::api {
namespace {

std::vector<std::byte> qcow2_header(uint64_t virtual_size) {
  std::vector<std::byte> h(512, std::byte{0});
  const unsigned char magic[4] = {'Q', 'F', 'I', 0xfb};
  for (int i = 0; i < 4; ++i) h[i] = std::byte{magic[i]};
  for (int i = 0; i < 8; ++i) h[24 + i] = std::byte(static_cast<unsigned char>(virtual_size >> (56 - 8 * i)));
  return h;
}

TEST(DiskFormat, RawIsItsSize) { EXPECT_EQ(inspect_virtual_size("raw", {}, 4096), 4096); }

TEST(DiskFormat, Qcow2FromItsHeader) {
  EXPECT_EQ(inspect_virtual_size("qcow2", qcow2_header(64ull << 20), 196616), 64ll << 20);
}

TEST(DiskFormat, UnknownOrMismatchedIsNull) {
  EXPECT_EQ(inspect_virtual_size("raw", {}, 0), std::nullopt);  // empty upload
  std::vector<std::byte> random(512, std::byte{0x42});
  EXPECT_EQ(inspect_virtual_size("qcow2", random, 512), std::nullopt);  // Glance: "did not match"
  const auto short_header = qcow2_header(1);
  EXPECT_EQ(inspect_virtual_size("qcow2", std::span(short_header).first(16), 16), std::nullopt);
  EXPECT_EQ(inspect_virtual_size("vmdk", random, 512), std::nullopt);
  EXPECT_EQ(inspect_virtual_size("qcow2", qcow2_header(~0ull), 512), std::nullopt);
}

}  // namespace
}  // namespace glint::api
