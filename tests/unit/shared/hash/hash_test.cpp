// Known-answer and streaming tests for shared/hash.
#include "shared/hash/hash.hpp"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace glint::hash {
namespace {

std::string random_text(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Feeds `text` to `feed` in random chunk sizes (including empty chunks).
template <class Feed>
void feed_in_chunks(std::mt19937_64& rng, std::string_view text, Feed feed) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t n = std::min<size_t>(rng() % 300, text.size() - pos);
    feed(text.substr(pos, n));
    pos += n;
  }
}

TEST(ImageHasher, KnownVectorsSha512) {
  ImageHasher empty;
  auto r = empty.finish();
  EXPECT_EQ(r.checksum, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(r.os_hash_algo, "sha512");
  EXPECT_EQ(r.os_hash_value,
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
            "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");

  ImageHasher abc;
  abc.update(as_bytes("a"));
  abc.update(as_bytes("bc"));
  r = abc.finish();
  EXPECT_EQ(r.checksum, "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(r.os_hash_value,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(abc.finish().checksum, r.checksum);  // finish() is idempotent
}

TEST(ImageHasher, KnownVectorsSha256AndMd5) {
  ImageHasher empty("sha256");
  auto r = empty.finish();
  EXPECT_EQ(r.os_hash_algo, "sha256");
  EXPECT_EQ(r.os_hash_value, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  ImageHasher abc("sha256");
  abc.update(as_bytes("abc"));
  EXPECT_EQ(abc.finish().os_hash_value, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  ImageHasher md5("md5");
  md5.update(as_bytes("abc"));
  r = md5.finish();
  EXPECT_EQ(r.checksum, "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(r.os_hash_value, "900150983cd24fb0d6963f7d28e17f72");
}

TEST(ImageHasher, StreamingEqualsOneShot) {
  std::mt19937_64 rng(42);
  const std::string text = random_text(rng, 100'000);
  ImageHasher one("sha384");
  one.update(as_bytes(text));
  const auto expect = one.finish();
  for (int round = 0; round < 5; ++round) {
    ImageHasher streamed("sha384");
    feed_in_chunks(rng, text, [&](std::string_view part) { streamed.update(as_bytes(part)); });
    const auto got = streamed.finish();
    EXPECT_EQ(got.checksum, expect.checksum);
    EXPECT_EQ(got.os_hash_value, expect.os_hash_value);
  }
}

TEST(ImageHasher, AlgoSupport) {
  for (const char* ok : {"sha512", "sha384", "sha256", "sha224", "sha1", "md5", "sha3-256", "sha3-512", "blake2b512"}) {
    EXPECT_TRUE(ImageHasher::algo_supported(ok)) << ok;
  }
  for (const char* bad : {"", "nope", "sha513", "shake128"}) {
    EXPECT_FALSE(ImageHasher::algo_supported(bad)) << bad;
  }
  EXPECT_FALSE(ImageHasher::algo_supported(std::string("sha512\0x", 8)));
  EXPECT_THROW(ImageHasher("nope"), std::invalid_argument);
}

TEST(HashXxh3, KnownVectors) {
  // Expected values from `xxhsum -H3` / `xxhsum -H2` (xxHash 0.8.1).
  EXPECT_EQ(block_xxh3(as_bytes("")), 0x2d06800538d394c2ULL);
  EXPECT_EQ(block_xxh3(as_bytes("abc")), 0x78af5f94892f3950ULL);
  Xxh128Stream empty;
  EXPECT_EQ(digest_hex(empty.digest()), "99aa06d3014798d86001c324468d497f");
  Xxh128Stream abc;
  abc.update(as_bytes("ab"));
  abc.update(as_bytes("c"));
  EXPECT_EQ(digest_hex(abc.digest()), "06b05ab6733a618578af5f94892f3950");
}

TEST(HashXxh3, StreamingEqualsOneShot) {
  std::mt19937_64 rng(7);
  for (size_t size : {0UL, 1UL, 16UL, 240UL, 241UL, 1024UL, 70'000UL}) {
    const std::string text = random_text(rng, size);
    Xxh128Stream one;
    one.update(as_bytes(text));
    Xxh64Stream one64;
    one64.update(as_bytes(text));
    EXPECT_EQ(one64.digest(), block_xxh3(as_bytes(text)));
    for (int round = 0; round < 20; ++round) {
      Xxh128Stream s;
      Xxh64Stream s64;
      feed_in_chunks(rng, text, [&](std::string_view part) {
        s.update(as_bytes(part));
        s64.update(as_bytes(part));
      });
      EXPECT_EQ(s.digest(), one.digest()) << size;
      EXPECT_EQ(s64.digest(), block_xxh3(as_bytes(text))) << size;
    }
  }
}

TEST(HashXxh3, StreamReset) {
  Xxh64Stream s;
  s.update(as_bytes("garbage"));
  s.reset();
  s.update(as_bytes("abc"));
  EXPECT_EQ(s.digest(), block_xxh3(as_bytes("abc")));
}

TEST(HashDigestHex, RoundTripAndRejects) {
  Digest128 d{};
  ASSERT_TRUE(parse_digest_hex("0123456789abcdef00ff10e0d0c0b0a0", d));
  EXPECT_EQ(d[0], 0x01);
  EXPECT_EQ(d[15], 0xa0);
  EXPECT_EQ(digest_hex(d), "0123456789abcdef00ff10e0d0c0b0a0");
  const Digest128 before = d;
  for (std::string_view bad : {"", "0123456789abcdef00ff10e0d0c0b0a", "0123456789abcdef00ff10e0d0c0b0a00",
                               "0123456789ABCDEF00ff10e0d0c0b0a0", "0123456789abcdef00ff10e0d0c0b0ag",
                               " 123456789abcdef00ff10e0d0c0b0a0"}) {
    EXPECT_FALSE(parse_digest_hex(bad, d)) << bad;
  }
  EXPECT_FALSE(parse_digest_hex(std::string_view("0123456789abcdef00ff10e0d0c0b0a\0", 32), d));
  EXPECT_EQ(d, before);
}

TEST(HashHmac, Rfc4231) {
  // Test case 1.
  EXPECT_EQ(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Empty key and message are valid inputs (and not "reuse the last key").
  EXPECT_EQ(hmac_sha256_hex("", ""), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HashConstantTime, Compare) {
  EXPECT_TRUE(equal_constant_time("", ""));
  EXPECT_TRUE(equal_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_constant_time("abc", "abd"));
  EXPECT_FALSE(equal_constant_time("abc", "abcd"));
  EXPECT_FALSE(equal_constant_time("", "a"));
}

TEST(HashToHex, Bytes) {
  const uint8_t b[] = {0x00, 0x0f, 0xf0, 0xff};
  EXPECT_EQ(to_hex(b), "000ff0ff");
}

}  // namespace
}  // namespace glint::hash
