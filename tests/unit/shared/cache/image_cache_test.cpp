// The image cache over a real blob store in a temp directory, the storage nodes played by an
// in-memory upstream that counts what it is asked for (and can stall or fail on demand).
#include "shared/cache/image_cache.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "shared/core/uuid.hpp"
#include "tests/support/drain_body.hpp"
#include "tests/support/fake_cache_repository.hpp"

namespace glint::cache {
namespace {

namespace fs = std::filesystem;
constexpr uint32_t kBlock = 4096;

std::string random_image(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::string digest_of(const std::string& s) {
  hash::Xxh128Stream h;
  h.update(hash::as_bytes(s));
  return hash::digest_hex(h.digest());
}

// Bytes of a string in small chunks; optionally waits at `gate_at` until `open` is set, or fails there.
class PieceSource final : public http::BodySource {
 public:
  PieceSource(std::string bytes, size_t gate_at, std::atomic<bool>* open, bool fail_at_gate)
      : bytes_(std::move(bytes)), gate_at_(gate_at), open_(open), fail_(fail_at_gate) {}
  Expected<std::span<const std::byte>> next() override {
    if (pos_ >= gate_at_ && !passed_) {
      if (fail_) return Error{Errc::unavailable, "node went away"};
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (open_ && !*open_ && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
      passed_ = true;
    }
    const size_t n = std::min<size_t>(1000, bytes_.size() - pos_);
    std::span<const std::byte> out(reinterpret_cast<const std::byte*>(bytes_.data() + pos_), n);
    pos_ += n;
    return out;
  }

 private:
  std::string bytes_;
  size_t pos_ = 0;
  size_t gate_at_;
  std::atomic<bool>* open_;
  bool fail_;
  bool passed_ = false;
};

class ImageCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "glint-cache-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    image_ = random_image(10 * kBlock + 123, 7);
    key_ = CacheKey{random_uuid(), image_.size(), digest_of(image_)};
    open_cache();
  }
  void TearDown() override {
    cache_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  void open_cache() {
    cache_.reset();
    CacheOptions o;
    o.dir = (root_ / "cache").string();
    o.node = "api1";
    o.block_size = kBlock;
    o.max_size = 1 << 20;
    o.follow_timeout = std::chrono::milliseconds(5000);
    auto c = ImageCache::open(o, repo_, metrics_, log::Logger::null());
    ASSERT_TRUE(c.ok()) << c.error().message;
    cache_ = std::move(*c);
  }
  // The nodes: every call counted with its first byte; the first `fail_first` calls fail at `gate`.
  Upstream upstream(std::string bytes) {
    return [this, bytes](uint64_t first, uint64_t last) -> Expected<std::unique_ptr<http::BodySource>> {
      const int call = calls_++;
      {
        std::lock_guard lk(mu_);
        firsts_.push_back(first);
      }
      const bool fail = call < fail_first_;
      return std::unique_ptr<http::BodySource>(std::make_unique<PieceSource>(
          bytes.substr(first, last - first + 1), fail || gated_ ? gate_ : SIZE_MAX, gated_ ? &open_ : nullptr, fail));
    };
  }
  static Expected<std::string> drain(http::BodySource& src) { return testing::drain_body(src); }
  // Drains a hit as a plain-TCP server does (FileBody: sendfile of file ranges, else bytes);
  // file_ranges counts the ranges sent from the file.
  static Expected<std::string> drain_ranges(http::BodySource& src, int& file_ranges) {
    auto* body = dynamic_cast<http::FileBody*>(&src);
    if (body == nullptr) return Error{Errc::invalid, "not a FileBody"};
    std::string out;
    for (;;) {
      auto r = body->next_range();
      if (!r) return r.error();
      if (r->end()) return out;
      if (r->fd < 0) {
        out.append(reinterpret_cast<const char*>(r->bytes.data()), r->bytes.size());
        continue;
      }
      ++file_ranges;
      std::string piece(r->length, '\0');
      if (::pread(r->fd, piece.data(), piece.size(), static_cast<off_t>(r->offset)) != static_cast<ssize_t>(piece.size()))
        return Error{Errc::io_error, "short pread"};
      out += piece;
    }
  }
  bool cached_soon() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      // The file is published before its row is recorded: wait for both, so hits counted after
      // this are counted on the row (a fetch ends only when its row is written).
      auto ids = cache_->cached_ids();
      auto rows = repo_.entries("api1");
      if (std::find(ids.begin(), ids.end(), key_.image_id) != ids.end() && rows.ok() &&
          !rows->empty())
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }
  fs::path entry_file() const {
    const std::string& id = key_.image_id;
    return root_ / "cache" / "objects" / id.substr(0, 2) / id.substr(2, 2) / id;
  }

  fs::path root_;
  std::string image_;
  CacheKey key_;
  testing::FakeCacheRepository repo_;
  metrics::Metrics metrics_;
  std::unique_ptr<ImageCache> cache_;
  std::atomic<int> calls_{0};
  std::mutex mu_;
  std::vector<uint64_t> firsts_;
  int fail_first_ = 0;
  bool gated_ = false;
  size_t gate_ = 3 * kBlock;
  std::atomic<bool> open_{false};
};

TEST_F(ImageCacheTest, AMissFetchesOnceAndTheNextDownloadIsAHitOfTheSameBytes) {
  EXPECT_EQ(cache_->serve(key_, 0, key_.size - 1, upstream(image_)), nullptr);
  auto miss = cache_->fetch(key_, upstream(image_));
  ASSERT_NE(miss, nullptr);
  auto got = drain(*miss);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, image_);
  ASSERT_TRUE(cached_soon());

  auto hit = cache_->serve(key_, 0, key_.size - 1, upstream(image_));
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(*drain(*hit), image_);
  auto part = cache_->serve(key_, kBlock - 5, 2 * kBlock + 7, upstream(image_));
  ASSERT_NE(part, nullptr);
  EXPECT_EQ(*drain(*part), image_.substr(kBlock - 5, kBlock + 13));
  EXPECT_EQ(calls_.load(), 1);
  auto rows = repo_.entries("api1");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].digest, key_.digest);
  EXPECT_EQ((*rows)[0].hits, 2u);
}

TEST_F(ImageCacheTest, ConcurrentMissesShareOneFetchAndAllGetTheSameBytes) {
  gated_ = true;  // the fetch waits after its first blocks until every client has joined
  constexpr int kClients = 8;
  std::vector<std::unique_ptr<http::BodySource>> sources;
  for (int i = 0; i < kClients; ++i) {
    auto s = cache_->fetch(key_, upstream(image_));
    ASSERT_NE(s, nullptr) << "client " << i;
    sources.push_back(std::move(s));
  }
  open_ = true;
  std::vector<std::string> got(kClients);
  std::vector<std::thread> readers;
  for (int i = 0; i < kClients; ++i)
    readers.emplace_back([&, i] {
      auto r = drain(*sources[i]);
      got[i] = r.ok() ? *r : "error: " + r.error().message;
    });
  for (auto& t : readers) t.join();
  for (int i = 0; i < kClients; ++i) EXPECT_EQ(got[i], image_) << "client " << i;
  EXPECT_EQ(calls_.load(), 1);
  ASSERT_TRUE(cached_soon());
}

TEST_F(ImageCacheTest, AnEntryHoldingOtherBytesThanTheReplicasIsNeverServed) {
  ASSERT_TRUE(cache_->fill(key_, upstream(image_)).ok());
  CacheKey remade = key_;
  remade.digest = digest_of(random_image(key_.size, 8));
  EXPECT_EQ(cache_->serve(remade, 0, key_.size - 1, upstream(image_)), nullptr);
  EXPECT_TRUE(cache_->cached_ids().empty());
  EXPECT_TRUE(repo_.entries("api1")->empty());
}

TEST_F(ImageCacheTest, AFlippedByteIsNeverServedTheRestComesFromTheNodes) {
  ASSERT_TRUE(cache_->fill(key_, upstream(image_)).ok());
  {
    std::fstream f(entry_file(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(2 * kBlock + 10);
    f.put(static_cast<char>(image_[2 * kBlock + 10] ^ 0x01));
  }
  auto hit = cache_->serve(key_, 0, key_.size - 1, upstream(image_));
  ASSERT_NE(hit, nullptr);
  auto got = drain(*hit);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, image_);
  ASSERT_EQ(firsts_.size(), 2u);  // the fill, then the corrupt block onwards
  EXPECT_EQ(firsts_[1], 2u * kBlock);
  EXPECT_TRUE(cache_->cached_ids().empty());
  // Re-fetched on the next miss.
  ASSERT_TRUE(cache_->fill(key_, upstream(image_)).ok());
  EXPECT_EQ(cache_->cached_ids().size(), 1u);
}

// The sendfile path: blocks verified where they lie in the page cache (ReadMode::mapped), never a
// range of a block that does not match its hash.
TEST_F(ImageCacheTest, RangesSentFromTheFileAreVerifiedInPlaceAndAFlippedByteIsNeverSent) {
  ASSERT_TRUE(cache_->fill(key_, upstream(image_)).ok());
  int from_file = 0;
  auto hit = cache_->serve(key_, 3, key_.size - 1, upstream(image_));
  ASSERT_NE(hit, nullptr);
  auto got = drain_ranges(*hit, from_file);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, image_.substr(3));
  EXPECT_EQ(from_file, static_cast<int>((key_.size + kBlock - 1) / kBlock));  // one range per block
  {
    std::fstream f(entry_file(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(2 * kBlock + 10);
    f.put(static_cast<char>(image_[2 * kBlock + 10] ^ 0x01));
  }
  from_file = 0;
  hit = cache_->serve(key_, 0, key_.size - 1, upstream(image_));
  ASSERT_NE(hit, nullptr);
  got = drain_ranges(*hit, from_file);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, image_);   // block 2 onwards from the nodes
  EXPECT_EQ(from_file, 2);   // blocks 0 and 1 only
  ASSERT_EQ(firsts_.size(), 2u);
  EXPECT_EQ(firsts_[1], 2u * kBlock);
  EXPECT_TRUE(cache_->cached_ids().empty());
}

TEST_F(ImageCacheTest, BytesThatAreNotTheReplicasAreNeverPublished) {
  std::string other = image_;
  other[5] ^= 0x01;
  EXPECT_FALSE(cache_->fill(key_, upstream(other)).ok());
  EXPECT_TRUE(cache_->cached_ids().empty());
  EXPECT_TRUE(repo_.entries("api1")->empty());
  EXPECT_EQ(std::distance(fs::directory_iterator(root_ / "cache" / "tmp"), fs::directory_iterator()), 0);
}

TEST_F(ImageCacheTest, AFetchThatFailsLeavesNothingAndItsFollowerFinishesFromTheNodes) {
  fail_first_ = 1;  // the fetch's read dies after three blocks
  auto miss = cache_->fetch(key_, upstream(image_));
  ASSERT_NE(miss, nullptr);
  auto got = drain(*miss);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, image_);
  ASSERT_EQ(firsts_.size(), 2u);
  EXPECT_EQ(firsts_[1], (gate_ + 999) / 1000 * 1000);  // the first chunk boundary past the gate
  EXPECT_TRUE(cache_->cached_ids().empty());
}

TEST_F(ImageCacheTest, AnImageLargerThanTheCacheIsNotTaken) {
  CacheKey big = key_;
  big.size = 2 << 20;
  EXPECT_EQ(cache_->fetch(big, upstream(image_)), nullptr);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(ImageCacheTest, EntriesSurviveARestartAndEvictRemovesFileAndRow) {
  ASSERT_TRUE(cache_->fill(key_, upstream(image_)).ok());
  open_cache();
  auto hit = cache_->serve(key_, 0, key_.size - 1, upstream(image_));
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(*drain(*hit), image_);
  hit.reset();
  ASSERT_TRUE(cache_->evict(key_.image_id).ok());
  EXPECT_FALSE(fs::exists(entry_file()));
  EXPECT_TRUE(repo_.entries("api1")->empty());
  EXPECT_EQ(cache_->serve(key_, 0, key_.size - 1, upstream(image_)), nullptr);
}

}  // namespace
}  // namespace glint::cache
