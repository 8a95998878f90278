#include "shared/blob/sidecar.hpp"

#include <cstring>

#include "shared/blob/fs_util.hpp"
#include "shared/hash/hash.hpp"

namespace glint::blob {

namespace {

constexpr char kMagic[4] = {'G', 'L', 'S', 'C'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 48;
constexpr size_t kTrailerSize = 8;
// A sidecar for a 16 TiB blob at 4 KiB blocks is 32 MiB; anything beyond this is not ours.
constexpr size_t kMaxSidecarSize = 64u << 20;

void put_u32(std::vector<std::byte>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}
void put_u64(std::vector<std::byte>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}
uint32_t get_u32(const std::byte* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | std::to_integer<uint32_t>(p[i]);
  return v;
}
uint64_t get_u64(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<uint64_t>(p[i]);
  return v;
}

Error bad(const std::string& why) { return Error{Errc::corrupt, "sidecar " + why}; }

}  // namespace

uint64_t block_count_for(uint64_t size, uint32_t block_size) {
  return size / block_size + (size % block_size != 0 ? 1 : 0);  // no overflow near UINT64_MAX
}

std::vector<std::byte> encode_sidecar(const Sidecar& sc) {
  std::vector<std::byte> out;
  out.reserve(kHeaderSize + 8 * sc.block_hashes.size() + kTrailerSize);
  for (char c : kMagic) out.push_back(static_cast<std::byte>(c));
  put_u32(out, kVersion);
  put_u32(out, sc.info.block_size);
  put_u32(out, 0);
  put_u64(out, sc.info.size);
  put_u64(out, sc.info.block_count);
  for (uint8_t b : sc.info.digest) out.push_back(static_cast<std::byte>(b));
  for (uint64_t h : sc.block_hashes) put_u64(out, h);
  put_u64(out, hash::block_xxh3(out));
  return out;
}

Expected<Sidecar> decode_sidecar(std::span<const std::byte> bytes) {
  if (bytes.size() < kHeaderSize + kTrailerSize) return bad("truncated (" + std::to_string(bytes.size()) + " bytes)");
  // Check the self-checksum first: every later complaint is then about a sidecar we wrote.
  const size_t body = bytes.size() - kTrailerSize;
  if (hash::block_xxh3(bytes.first(body)) != get_u64(bytes.data() + body)) return bad("checksum mismatch");
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) return bad("bad magic");
  if (const uint32_t v = get_u32(bytes.data() + 4); v != kVersion) return bad("unsupported version " + std::to_string(v));
  Sidecar sc;
  sc.info.block_size = get_u32(bytes.data() + 8);
  sc.info.size = get_u64(bytes.data() + 16);
  sc.info.block_count = get_u64(bytes.data() + 24);
  if (sc.info.block_size == 0) return bad("block size 0");
  if (sc.info.block_count != block_count_for(sc.info.size, sc.info.block_size)) return bad("block count disagrees with size");
  if (sc.info.block_count != (body - kHeaderSize) / 8 || (body - kHeaderSize) % 8 != 0) {
    return bad("length disagrees with block count");
  }
  for (size_t i = 0; i < sc.info.digest.size(); ++i) sc.info.digest[i] = std::to_integer<uint8_t>(bytes[32 + i]);
  sc.block_hashes.reserve(sc.info.block_count);
  for (size_t off = kHeaderSize; off < body; off += 8) sc.block_hashes.push_back(get_u64(bytes.data() + off));
  return sc;
}

Expected<Sidecar> read_sidecar(const std::string& path) {
  auto bytes = fsutil::read_small_file(path, kMaxSidecarSize);
  if (!bytes) {
    if (bytes.code() == Errc::too_large) return Error{Errc::corrupt, bytes.error().message};
    return bytes.error();
  }
  auto sc = decode_sidecar(*bytes);
  if (!sc) return Error{Errc::corrupt, path + ": " + sc.error().message};
  return sc;
}

}  // namespace glint::blob
