// The updater's back-fill over a real database and a fake blob store: an active image without
// virtual_size and os_hash gets both from this node's copy; a copy whose bytes are not the
// catalog's (md5) is never used; data that is not its disk_format is flagged, not changed; values
// already there are never overwritten; only the first node holding an ok copy does the work.
#include "workers/updater/backfill.hpp"

#include <gtest/gtest.h>

#include "shared/core/uuid.hpp"
#include "shared/db/migrations.hpp"
#include "shared/db/pool.hpp"
#include "shared/hash/hash.hpp"
#include "tests/support/fake_blob_store.hpp"
#include "tests/support/pg.hpp"

namespace glint::updater {
namespace {

class BackfillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::admin_database_url()) GTEST_SKIP() << "no PostgreSQL";
    db::PoolOptions po;
    po.url = url_ = testing::fresh_database_url("backfill");
    pool_ = std::make_unique<db::Pool>(po);
    ASSERT_TRUE(db::migrate(*pool_).ok());
    repo_ = db::make_backfill_repository(*pool_);
    heal_ = db::make_healing_repository(*pool_);
    sql("INSERT INTO nodes (name, address, zone) VALUES ('n1', '127.0.0.1:1', 'z'), ('n2', '127.0.0.1:2', 'z')");
  }
  void sql(const std::string& q) { testing::exec_sql(url_, q); }
  std::string one(const std::string& q) { return testing::query_one(url_, q); }
  // An active image of `bytes` stored on n1 (and `also` n0… by name), catalog md5 `md5` (default: right).
  std::string add(const std::string& bytes, const std::string& disk_format, std::optional<std::string> md5 = {},
                  const std::string& node = "n1") {
    const std::string id = random_uuid();
    auto w = store_.create(id, bytes.size());
    EXPECT_TRUE((*w)->write(hash::as_bytes(bytes)).ok());
    auto info = (*w)->commit();
    hash::Digester m("md5");
    m.update(hash::as_bytes(bytes));
    sql("INSERT INTO images (id, status, size, disk_format, checksum) VALUES ('" + id + "', 'active', " +
        std::to_string(bytes.size()) + ", '" + disk_format + "', '" + md5.value_or(m.finish_hex()) + "')");
    sql("INSERT INTO replicas (image_id, node, state, size, digest) VALUES ('" + id + "', '" + node + "', 'ok', " +
        std::to_string(bytes.size()) + ", '" + hash::digest_hex(info->digest) + "')");
    return id;
  }
  BackfillTally page(const std::string& node = "n1") {
    Backfill b(BackfillOptions{node}, *repo_, *heal_, store_);
    auto t = b.run_page(worker::PassContext{});
    EXPECT_TRUE(t.ok()) << t.error().message;
    return t.ok() ? *t : BackfillTally{};
  }

  std::string url_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<db::BackfillRepository> repo_;
  std::unique_ptr<db::HealingRepository> heal_;
  testing::FakeBlobStore store_;
};

TEST_F(BackfillTest, MissingVirtualSizeAndOsHashComeFromTheCopyAndAreNeverOverwritten) {
  const std::string bytes(100000, 'r');
  const std::string id = add(bytes, "raw");
  const auto t = page();
  EXPECT_EQ(t.filled, 1u);
  EXPECT_EQ(one("SELECT virtual_size FROM images WHERE id = '" + id + "'"), "100000");
  hash::Digester sha("sha512");
  sha.update(hash::as_bytes(bytes));
  EXPECT_EQ(one("SELECT os_hash_value FROM images WHERE id = '" + id + "'"), sha.finish_hex());
  EXPECT_EQ(one("SELECT os_hash_algo FROM images WHERE id = '" + id + "'"), "sha512");
  // Done: nothing is left for it, and a value set since is never replaced.
  EXPECT_EQ(page().filled, 0u);
  sql("UPDATE images SET os_hash_value = NULL, virtual_size = 7 WHERE id = '" + id + "'");
  EXPECT_EQ(page().filled, 1u);
  EXPECT_EQ(one("SELECT virtual_size FROM images WHERE id = '" + id + "'"), "7");
}

TEST_F(BackfillTest, BytesThatAreNotTheCatalogsAreNeverUsedAndAMismatchedFormatIsFlagged) {
  const std::string wrong = add(std::string(5000, 'x'), "raw", std::string(32, '0'));
  const std::string mismatched = add(std::string(5000, 'y'), "qcow2");
  const auto t = page();
  EXPECT_EQ(t.filled, 1u);  // the mismatched one still gets its os_hash
  EXPECT_EQ(t.skipped, 1u);
  EXPECT_EQ(one("SELECT os_hash_value FROM images WHERE id = '" + wrong + "'"), "");
  EXPECT_EQ(one("SELECT virtual_size FROM images WHERE id = '" + mismatched + "'"), "");
  auto flagged = heal_->is_flagged(mismatched);
  ASSERT_TRUE(flagged.ok());
  EXPECT_TRUE(*flagged);
}

TEST_F(BackfillTest, OnlyTheFirstNodeHoldingAnOkCopyDoesTheWork) {
  const std::string id = add(std::string(3000, 'z'), "raw");
  sql("INSERT INTO replicas (image_id, node, state, size, digest) SELECT image_id, 'n2', 'ok', size, digest "
      "FROM replicas WHERE image_id = '" + id + "'");
  EXPECT_EQ(page("n2").filled, 0u);
  EXPECT_EQ(page("n1").filled, 1u);
}

}  // namespace
}  // namespace glint::updater
