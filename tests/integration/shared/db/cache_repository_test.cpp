// The image cache's rows in a real PostgreSQL: nodes, entries in LRU order, a queue per node that
// one request fills for every node, and which nodes cache an image.
#include "shared/db/cache_repository.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "shared/core/uuid.hpp"
#include "shared/db/migrations.hpp"
#include "tests/support/pg.hpp"

namespace glint::db {
namespace {

class CacheRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::admin_database_url()) GTEST_SKIP() << "no PostgreSQL";
    PoolOptions o;
    o.url = testing::fresh_database_url(::testing::UnitTest::GetInstance()->current_test_info()->name());
    o.size = 2;
    o.retry_budget = std::chrono::seconds(3);
    pool_ = std::make_unique<Pool>(o);
    ASSERT_TRUE(migrate(*pool_).ok());
    repo_ = make_cache_repository(*pool_);
  }
  std::unique_ptr<Pool> pool_;
  std::unique_ptr<CacheRepository> repo_;
};

TEST_F(CacheRepositoryTest, QueueOnceEveryNodeWarmsAndCachedNodesLeaveTheQueue) {
  ASSERT_TRUE(repo_->register_node("api1", "http://a:9292").ok());
  ASSERT_TRUE(repo_->register_node("api2", "http://b:9292").ok());
  ASSERT_TRUE(repo_->register_node("api1", "http://a:9393").ok());  // again: refreshed, not doubled
  EXPECT_EQ(*repo_->nodes(), (std::vector<std::string>{"api1", "api2"}));
  const std::string id = random_uuid(), other = random_uuid();
  EXPECT_EQ(*repo_->enqueue_everywhere(id), 2u);
  EXPECT_EQ(*repo_->enqueue_everywhere(id), 0u);  // already queued
  ASSERT_TRUE(repo_->record_entry("api1", id, 42, std::string(32, 'f')).ok());
  EXPECT_TRUE(repo_->queued("api1")->empty());    // cached there: nothing left to fetch
  ASSERT_EQ(repo_->queued("api2")->size(), 1u);
  EXPECT_EQ((*repo_->queued("api2"))[0].image_id, id);
  EXPECT_EQ(*repo_->nodes_caching(id), std::vector<std::string>{"api1"});
  EXPECT_EQ(*repo_->enqueue_everywhere(id), 0u);  // api1 caches it, api2 has it queued

  ASSERT_TRUE(repo_->enqueue("api2", other).ok());
  EXPECT_EQ(*repo_->clear_queue("api2"), 2u);
  EXPECT_TRUE(repo_->queued("api2")->empty());
  EXPECT_EQ(repo_->nodes_caching("not-a-uuid").code(), Errc::invalid);
}

TEST_F(CacheRepositoryTest, EntriesComeLeastRecentlyUsedFirstWithTheirHits) {
  ASSERT_TRUE(repo_->register_node("api1", "").ok());
  const std::string a = random_uuid(), b = random_uuid();
  ASSERT_TRUE(repo_->record_entry("api1", a, 10, std::string(32, 'a')).ok());
  ASSERT_TRUE(repo_->record_entry("api1", b, 20, std::string(32, 'b')).ok());
  ASSERT_TRUE(repo_->record_hit("api1", a).ok());  // a is now the most recently used
  auto rows = repo_->entries("api1");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].image_id, b);
  EXPECT_EQ((*rows)[1].image_id, a);
  EXPECT_EQ((*rows)[1].hits, 1u);
  EXPECT_EQ((*rows)[0].size, 20u);
  ASSERT_TRUE(repo_->remove_entry("api1", a).ok());
  ASSERT_TRUE(repo_->remove_entry("api1", a).ok());  // gone already: fine
  EXPECT_EQ(repo_->entries("api1")->size(), 1u);
  EXPECT_TRUE(repo_->nodes_caching(a)->empty());
}

// glintctl cache clear: evictions for what each node holds, which a clear of the queue keeps.
TEST_F(CacheRepositoryTest, EvictionsAreAskedForWhatEachNodeHoldsAndOutliveAQueueClear) {
  ASSERT_TRUE(repo_->register_node("api1", "").ok());
  ASSERT_TRUE(repo_->register_node("api2", "").ok());
  const std::string a = random_uuid(), b = random_uuid(), c = random_uuid();
  ASSERT_TRUE(repo_->record_entry("api1", a, 10, std::string(32, 'a')).ok());
  ASSERT_TRUE(repo_->record_entry("api2", a, 10, std::string(32, 'a')).ok());
  ASSERT_TRUE(repo_->record_entry("api2", b, 10, std::string(32, 'b')).ok());
  ASSERT_TRUE(repo_->enqueue("api1", c).ok());
  EXPECT_EQ(*repo_->enqueue_evictions("", a), 2u);
  EXPECT_EQ(*repo_->enqueue_evictions("api2", ""), 2u);  // a again (still one row) and b
  auto q2 = repo_->queued("api2");
  ASSERT_EQ(q2->size(), 2u);
  for (const auto& q : *q2) EXPECT_EQ(q.work, CacheWork::evict);
  EXPECT_EQ(*repo_->clear_queue("api1"), 1u);  // the fetch of c; the eviction of a stays
  auto q1 = repo_->queued("api1");
  ASSERT_EQ(q1->size(), 1u);
  EXPECT_EQ((*q1)[0].image_id, a);
  EXPECT_EQ((*q1)[0].work, CacheWork::evict);
  EXPECT_EQ(repo_->enqueue_evictions("", "../x").code(), Errc::invalid);
}

}  // namespace
}  // namespace glint::db
