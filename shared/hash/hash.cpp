#include "shared/hash/hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <xxhash.h>

#include <new>
#include <stdexcept>

namespace glint::hash {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is rejected on purpose: digests are stored and compared as lower-case text
}

// Fetches a fixed-length digest by name; nullptr if OpenSSL does not provide it. Extendable-output
// functions (shake*) are refused: they have no inherent digest length, so Glance cannot use them.
EVP_MD* fetch_digest(const std::string& name) {
  if (name.empty() || name.find('\0') != std::string::npos) return nullptr;
  EVP_MD* md = EVP_MD_fetch(nullptr, name.c_str(), nullptr);
  if (md != nullptr && (EVP_MD_get_flags(md) & EVP_MD_FLAG_XOF) != 0) {
    EVP_MD_free(md);
    return nullptr;
  }
  return md;
}

// One EVP digest context with the algorithm it owns (fetched once). Single-threaded.
struct DigestCtx {
  EVP_MD* md = nullptr;
  EVP_MD_CTX* ctx = nullptr;

  void init(EVP_MD* fetched) {
    md = fetched;
    ctx = EVP_MD_CTX_new();
    if (ctx == nullptr || EVP_DigestInit_ex2(ctx, md, nullptr) != 1) throw std::runtime_error("EVP_DigestInit_ex2 failed");
  }
  void update(Bytes data) {
    if (data.empty()) return;
    if (EVP_DigestUpdate(ctx, data.data(), data.size()) != 1) throw std::runtime_error("EVP_DigestUpdate failed");
  }
  std::string finish_hex() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx, out, &len) != 1) throw std::runtime_error("EVP_DigestFinal_ex failed");
    return to_hex({out, len});
  }
  ~DigestCtx() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }
};

}  // namespace

std::string to_hex(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 0xf]);
  }
  return out;
}

// ---- ImageHasher -----------------------------------------------------------------------------

// The two running digests behind ImageHasher, plus the cached result once finished.
struct ImageHasher::Impl {
  std::string algo;
  DigestCtx md5;
  DigestCtx os_hash;
  bool finished = false;
  Result result;
};

ImageHasher::ImageHasher(const std::string& os_hash_algo) : impl_(std::make_unique<Impl>()) {
  // An unsupported algorithm is a caller bug: configuration is validated with algo_supported().
  EVP_MD* os_md = fetch_digest(os_hash_algo);
  if (os_md == nullptr) throw std::invalid_argument("unsupported os_hash_algo: " + os_hash_algo);
  impl_->os_hash.init(os_md);
  EVP_MD* md5 = EVP_MD_fetch(nullptr, "md5", nullptr);
  if (md5 == nullptr) throw std::runtime_error("OpenSSL does not provide md5");
  impl_->md5.init(md5);
  impl_->algo = os_hash_algo;
}

ImageHasher::~ImageHasher() = default;

bool ImageHasher::algo_supported(const std::string& algo) {
  EVP_MD* md = fetch_digest(algo);
  EVP_MD_free(md);
  return md != nullptr;
}

void ImageHasher::update(Bytes data) {
  if (impl_->finished) throw std::logic_error("ImageHasher::update after finish");
  impl_->md5.update(data);
  impl_->os_hash.update(data);
}

ImageHasher::Result ImageHasher::finish() {
  if (!impl_->finished) {
    impl_->result.checksum = impl_->md5.finish_hex();
    impl_->result.os_hash_algo = impl_->algo;
    impl_->result.os_hash_value = impl_->os_hash.finish_hex();
    impl_->finished = true;
  }
  return impl_->result;
}

// ---- Digester -------------------------------------------------------------------------------

struct Digester::Impl {
  DigestCtx ctx;
};

Digester::Digester(const std::string& algo) : impl_(std::make_unique<Impl>()) {
  EVP_MD* md = fetch_digest(algo);
  if (md == nullptr) throw std::invalid_argument("unsupported digest: " + algo);
  impl_->ctx.init(md);
}

Digester::~Digester() = default;

void Digester::update(Bytes data) { impl_->ctx.update(data); }

std::string Digester::finish_hex() { return impl_->ctx.finish_hex(); }

// ---- XXH3 ------------------------------------------------------------------------------------

uint64_t block_xxh3(Bytes data) { return XXH3_64bits(data.data(), data.size()); }

Xxh64Stream::Xxh64Stream() : state_(XXH3_createState()) {
  if (state_ == nullptr) throw std::bad_alloc();
  reset();
}

Xxh64Stream::~Xxh64Stream() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }

void Xxh64Stream::update(Bytes data) {
  if (data.empty()) return;
  XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), data.data(), data.size());
}

uint64_t Xxh64Stream::digest() const { return XXH3_64bits_digest(static_cast<const XXH3_state_t*>(state_)); }

void Xxh64Stream::reset() { XXH3_64bits_reset(static_cast<XXH3_state_t*>(state_)); }

Xxh128Stream::Xxh128Stream() : state_(XXH3_createState()) {
  if (state_ == nullptr) throw std::bad_alloc();
  XXH3_128bits_reset(static_cast<XXH3_state_t*>(state_));
}

Xxh128Stream::~Xxh128Stream() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }

void Xxh128Stream::update(Bytes data) {
  if (data.empty()) return;
  XXH3_128bits_update(static_cast<XXH3_state_t*>(state_), data.data(), data.size());
}

Digest128 Xxh128Stream::digest() const {
  XXH128_canonical_t canon;
  XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(static_cast<const XXH3_state_t*>(state_)));
  Digest128 out;
  static_assert(sizeof(canon.digest) == sizeof(Digest128));
  for (size_t i = 0; i < out.size(); ++i) out[i] = canon.digest[i];
  return out;
}

std::string digest_hex(const Digest128& d) { return to_hex(d); }

bool parse_digest_hex(std::string_view hex, Digest128& out) {
  if (hex.size() != out.size() * 2) return false;
  Digest128 parsed;
  for (size_t i = 0; i < parsed.size(); ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    parsed[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  out = parsed;  // untouched on failure
  return true;
}

// ---- HMAC / comparison -----------------------------------------------------------------------

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  // OpenSSL treats a NULL key as "reuse the previous key"; pass a valid pointer even when empty.
  static constexpr unsigned char kEmpty[1] = {0};
  const void* key_ptr = key.empty() ? static_cast<const void*>(kEmpty) : key.data();
  const auto* msg_ptr = message.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(message.data());
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()), msg_ptr, message.size(), out, &len) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return to_hex({out, len});
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  // The length is not secret (signatures and tokens have fixed lengths); the content is.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace glint::hash
