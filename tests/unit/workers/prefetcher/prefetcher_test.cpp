// The prefetcher's passes over fake storage nodes and catalog with a real cache directory: the
// queue is fetched (active images only), entries of images no longer active go, LRU pruning.
#include "workers/prefetcher/prefetcher.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "shared/core/uuid.hpp"
#include "tests/support/fake_cache_repository.hpp"
#include "tests/support/fake_cluster.hpp"
#include "tests/support/fake_image_repository.hpp"
#include "tests/support/string_source.hpp"

namespace glint::prefetcher {
namespace {

class PrefetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "glint-prefetch-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    for (int i = 1; i <= 3; ++i) nodes_.add_live(i);
    open(10 << 20);
  }
  void TearDown() override {
    prefetcher_.reset();
    cache_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void open(uint64_t max_size) {
    prefetcher_.reset();
    cache_.reset();
    cache::CacheOptions o;
    o.dir = dir_;
    o.node = "api1";
    o.block_size = 64 * 1024;
    o.max_size = max_size;
    auto c = cache::ImageCache::open(o, rows_, metrics_, log::Logger::null());
    ASSERT_TRUE(c.ok());
    cache_ = std::move(*c);
    prefetcher_ = std::make_unique<Prefetcher>(placement::ViewOptions{}, *cache_, images_, replicas_, nodes_, peer_, clock_);
  }
  // An image with `bytes` on node1 and node2, in `status`.
  std::string image(const std::string& bytes, ImageStatus status = ImageStatus::active) {
    db::ImageRow img;
    img.id = random_uuid();
    img.status = status;
    img.size = static_cast<int64_t>(bytes.size());
    EXPECT_TRUE(images_.create(img).ok());
    for (const char* n : {"node1", "node2"}) {
      testing::StringSource body(bytes, 65536);
      EXPECT_TRUE(peer_.put(*peer::endpoint_of(n, "127.0.0.1:1"), img.id, body, bytes.size()).ok());
      db::ReplicaRow r;
      r.image_id = img.id;
      r.node = n;
      r.state = ReplicaState::ok;
      r.size = img.size;
      r.digest = testing::FakeBlobPeer::digest_of(bytes);
      replicas_.put(r);
    }
    return img.id;
  }
  worker::PassResult pass() {
    worker::PassContext ctx;
    ctx.logger = log::Logger::null();
    auto r = prefetcher_->run_once(ctx);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : worker::PassResult{};
  }
  bool cached(const std::string& id) {
    auto ids = cache_->cached_ids();
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }

  std::string dir_;
  testing::FakeImageRepository images_;
  testing::FakeReplicaRepository replicas_;
  testing::FakeNodeRepository nodes_;
  testing::FakeBlobPeer peer_;
  testing::FakeCacheRepository rows_;
  SystemClock clock_;
  metrics::Metrics metrics_;
  std::unique_ptr<cache::ImageCache> cache_;
  std::unique_ptr<Prefetcher> prefetcher_;
};

TEST_F(PrefetcherTest, QueuedActiveImagesAreFetchedOthersLeaveTheQueueUncached) {
  const std::string bytes(300000, 'x');
  const std::string hot = image(bytes), queued = image(bytes, ImageStatus::queued);
  ASSERT_EQ(*rows_.enqueue_everywhere(hot), 1u);  // api1 registered when the cache opened
  ASSERT_TRUE(rows_.enqueue("api1", queued).ok());
  auto r = pass();
  EXPECT_EQ(r.items, 2u);
  EXPECT_EQ(r.failed, 0u);
  EXPECT_EQ(r.bytes, bytes.size());
  EXPECT_TRUE(cached(hot));
  EXPECT_FALSE(cached(queued));
  EXPECT_TRUE(rows_.queued("api1")->empty());
  EXPECT_EQ(*rows_.nodes_caching(hot), std::vector<std::string>{"api1"});
}

TEST_F(PrefetcherTest, AFetchWithEveryNodeDownStaysQueuedForTheNextPass) {
  const std::string id = image(std::string(100000, 'y'));
  ASSERT_TRUE(rows_.enqueue("api1", id).ok());
  peer_.set_down("node1", true);
  peer_.set_down("node2", true);
  EXPECT_EQ(pass().failed, 1u);
  EXPECT_EQ(rows_.queued("api1")->size(), 1u);
  peer_.set_down("node1", false);
  EXPECT_EQ(pass().failed, 0u);
  EXPECT_TRUE(cached(id));
}

TEST_F(PrefetcherTest, EntriesOfImagesNoLongerActiveGoAndTheCacheIsPrunedLeastRecentlyUsedFirst) {
  const std::string bytes(200000, 'z');
  const std::string a = image(bytes), b = image(bytes), c = image(bytes), gone = image(bytes);
  for (const auto& id : {a, b, c, gone}) ASSERT_TRUE(rows_.enqueue("api1", id).ok());
  pass();
  ASSERT_TRUE(cached(a) && cached(b) && cached(c) && cached(gone));
  ASSERT_TRUE(images_.mark_deleted(gone, false).ok());
  ASSERT_TRUE(rows_.record_hit("api1", a).ok());  // b is now the least recently used
  ASSERT_TRUE(rows_.record_hit("api1", c).ok());
  open(2 * bytes.size() + 1000);
  pass();
  EXPECT_FALSE(cached(gone));
  EXPECT_FALSE(cached(b));
  EXPECT_TRUE(cached(a));
  EXPECT_TRUE(cached(c));
}

TEST_F(PrefetcherTest, AnAskedForEvictionDropsTheEntryAndLeavesTheQueue) {
  const std::string bytes(150000, 'e');
  const std::string keep = image(bytes), drop = image(bytes);
  for (const auto& id : {keep, drop}) ASSERT_TRUE(rows_.enqueue("api1", id).ok());
  pass();
  ASSERT_TRUE(cached(keep) && cached(drop));
  ASSERT_EQ(*rows_.enqueue_evictions("", drop), 1u);
  auto r = pass();
  EXPECT_EQ(r.failed, 0u);
  EXPECT_FALSE(cached(drop));
  EXPECT_TRUE(cached(keep));
  EXPECT_TRUE(rows_.queued("api1")->empty());
  EXPECT_EQ(*rows_.nodes_caching(drop), std::vector<std::string>{});
}

}  // namespace
}  // namespace glint::prefetcher
