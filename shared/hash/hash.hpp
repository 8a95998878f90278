// Hashing: Glance's image digests (md5 `checksum` + `os_hash_value`), XXH3 block and blob digests,
// and HMAC-SHA256 for request signing. Objects are single-threaded; functions are thread-safe.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace glint::hash {

using Bytes = std::span<const std::byte>;
inline Bytes as_bytes(std::string_view s) { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }

std::string to_hex(std::span<const uint8_t> bytes);

// One streaming pass computing md5 and the configured os_hash algorithm (OpenSSL EVP).
class ImageHasher {
 public:
  // algo: an OpenSSL digest name Glance allows ("sha512" default, "sha256", "sha384", "sha1", "md5", …).
  explicit ImageHasher(const std::string& os_hash_algo = "sha512");
  ~ImageHasher();
  ImageHasher(const ImageHasher&) = delete;
  ImageHasher& operator=(const ImageHasher&) = delete;
  static bool algo_supported(const std::string& algo);

  void update(Bytes data);
  struct Result {
    std::string checksum;       // md5 hex
    std::string os_hash_algo;
    std::string os_hash_value;  // hex
  };
  Result finish();  // once

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One streaming digest by OpenSSL name ("md5", "sha512", …). Lets an upload compute md5 and the
// os_hash on two threads. Single-threaded.
class Digester {
 public:
  explicit Digester(const std::string& algo);  // std::invalid_argument if OpenSSL lacks it
  ~Digester();
  Digester(const Digester&) = delete;
  Digester& operator=(const Digester&) = delete;
  void update(Bytes data);
  std::string finish_hex();  // once

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// XXH3-64 of one stored block.
uint64_t block_xxh3(Bytes data);

// Streaming XXH3-64: digest() equals block_xxh3 of everything fed since construction or reset().
// Lets a writer hash a block as it arrives without buffering it. Single-threaded.
class Xxh64Stream {
 public:
  Xxh64Stream();
  ~Xxh64Stream();
  Xxh64Stream(const Xxh64Stream&) = delete;
  Xxh64Stream& operator=(const Xxh64Stream&) = delete;
  void update(Bytes data);
  uint64_t digest() const;
  void reset();

 private:
  void* state_;  // XXH3_state_t*
};

using Digest128 = std::array<uint8_t, 16>;  // big-endian canonical XXH128 form
std::string digest_hex(const Digest128& d);
bool parse_digest_hex(std::string_view hex, Digest128& out);

// Streaming XXH3-128 over a whole blob.
class Xxh128Stream {
 public:
  Xxh128Stream();
  ~Xxh128Stream();
  Xxh128Stream(const Xxh128Stream&) = delete;
  Xxh128Stream& operator=(const Xxh128Stream&) = delete;
  void update(Bytes data);
  Digest128 digest() const;

 private:
  void* state_;  // XXH3_state_t*
};

// HMAC-SHA256(key, message) as lower-case hex.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);
// Constant-time comparison of two strings.
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace glint::hash
