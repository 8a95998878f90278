// The reaper over a real database, with its node's store as the StorePeer fake: a due delayed
// delete loses its copy and becomes deleted, one not yet due stays restorable; restore and reap
// race many times and never leave a restored image without its copy; copies of deleted and killed
// images go, copies of active images never, a failed upload's excess copy only while no upload
// holds its queued image; an orphan that became a replica is kept; a dry run
// deletes and claims nothing.
#include "workers/reaper/reaper.hpp"

#include <gtest/gtest.h>

#include <thread>

#include <pqxx/pqxx>

#include "shared/core/uuid.hpp"
#include "shared/db/migrations.hpp"
#include "shared/db/pool.hpp"
#include "tests/support/pg.hpp"
#include "tests/support/store_peer.hpp"

namespace glint::reaper {
namespace {

class ReaperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::admin_database_url()) GTEST_SKIP() << "no PostgreSQL";
    db::PoolOptions po;
    po.url = url_ = testing::fresh_database_url("reaper");
    pool_ = std::make_unique<db::Pool>(po);
    ASSERT_TRUE(db::migrate(*pool_).ok());
    repo_ = db::make_reaper_repository(*pool_);
    nodes_ = db::make_node_repository(*pool_);
    db::NodeRow n;
    n.name = "n1";
    n.address = "127.0.0.1:1";
    ASSERT_TRUE(nodes_->register_node(n).ok());
    peer_.add("n1", store_);
  }
  void sql(const std::string& q) { testing::exec_sql(url_, q); }
  std::string one(const std::string& q) { return testing::query_one(url_, q); }
  // An image in `status` (deleted_at `age` ago) with its bytes on n1 and a replica row.
  std::string add(const std::string& status, const std::string& age = "1 hour", bool row = true) {
    const std::string id = random_uuid();
    const std::string bytes(1000, 'x');
    auto w = store_.create(id, bytes.size());
    EXPECT_TRUE(w.ok());
    EXPECT_TRUE((*w)->write(hash::as_bytes(bytes)).ok());
    auto info = (*w)->commit();
    EXPECT_TRUE(info.ok());
    sql("INSERT INTO images (id, status, size, deleted_at) VALUES ('" + id + "', '" + status + "', 1000, now() - interval '" +
        age + "')");
    if (row)
      sql("INSERT INTO replicas (image_id, node, state, size, digest) VALUES ('" + id + "', 'n1', 'ok', 1000, '" +
          hash::digest_hex(info->digest) + "')");
    return id;
  }
  bool on_disk(const std::string& id) { return store_.stat(id).ok(); }
  std::string status(const std::string& id) { return one("SELECT status FROM images WHERE id = '" + id + "'"); }
  std::string rows(const std::string& id) { return one("SELECT count(*) FROM replicas WHERE image_id = '" + id + "'"); }
  Expected<worker::PassResult> pass(ReaperOptions o = {}) {
    o.node = "n1";
    if (o.scrub_time == std::chrono::milliseconds(0)) o.scrub_time = std::chrono::minutes(10);
    Reaper r(o, ReaperRepositories{*repo_, *nodes_}, peer_, metrics_, clock_);
    return r.run_once(worker::PassContext{});
  }

  std::string url_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<db::ReaperRepository> repo_;
  std::unique_ptr<db::NodeRepository> nodes_;
  testing::FakeBlobStore store_;
  testing::StorePeer peer_;
  metrics::Metrics metrics_;
  SystemClock clock_;
};

TEST_F(ReaperTest, ADueDelayedDeleteLosesItsCopyAndBecomesDeletedOneNotDueStaysRestorable) {
  const std::string due = add("pending_delete", "1 hour");
  const std::string fresh = add("pending_delete", "1 minute");
  auto r = pass();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(on_disk(due));
  EXPECT_EQ(rows(due), "0");
  EXPECT_EQ(status(due), "deleted");
  EXPECT_TRUE(on_disk(fresh));
  EXPECT_EQ(status(fresh), "pending_delete");
  auto back = repo_->restore(fresh);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, db::RestoreOutcome::restored);
  EXPECT_EQ(status(fresh), "active");
  EXPECT_EQ(*repo_->restore(due), db::RestoreOutcome::not_pending_delete);
  EXPECT_EQ(*repo_->restore(random_uuid()), db::RestoreOutcome::not_found);
}

// More due images than a page: one pass claims, empties and finishes them all (the benchmark
// found finish_reaped stopping after one page, leaving the rest pending_delete a pass longer).
TEST_F(ReaperTest, OnePassFinishesEveryDueImageHoweverManyPagesTheyFill) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(add("pending_delete", "1 hour"));
  ReaperOptions o;
  o.page = 2;
  auto r = pass(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (const auto& id : ids) {
    EXPECT_EQ(status(id), "deleted") << id;
    EXPECT_FALSE(on_disk(id)) << id;
  }
}

TEST_F(ReaperTest, RestoreAndReapRaceWithoutEverLeavingARestoredImageWithoutItsCopy) {
  int restored = 0, reaped = 0;
  for (int round = 0; round < 40; ++round) {
    const std::string id = add("pending_delete", "1 hour");
    Expected<db::RestoreOutcome> outcome = db::RestoreOutcome::not_found;
    std::thread restorer([&] { outcome = repo_->restore(id); });
    auto r = pass();
    restorer.join();
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    if (*outcome == db::RestoreOutcome::restored) {
      ++restored;
      EXPECT_EQ(status(id), "active") << "round " << round;
      EXPECT_TRUE(on_disk(id)) << "a restored image lost its copy in round " << round;
      EXPECT_EQ(rows(id), "1");
    } else {
      ++reaped;
      EXPECT_TRUE(*outcome == db::RestoreOutcome::being_reaped || *outcome == db::RestoreOutcome::not_pending_delete);
      ASSERT_TRUE(pass().ok());  // the restore lost: the reap finishes
      EXPECT_EQ(status(id), "deleted") << "round " << round;
      EXPECT_FALSE(on_disk(id));
    }
  }
  EXPECT_EQ(restored + reaped, 40);
}

TEST_F(ReaperTest, CopiesOfDeletedAndKilledImagesGoCopiesOfActiveImagesNever) {
  const std::string deleted = add("deleted"), killed = add("killed"), active = add("active"), saving = add("saving");
  sql("UPDATE replicas SET state = 'excess' WHERE image_id IN ('" + active + "', '" + saving + "')");
  auto r = pass();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(on_disk(deleted));
  EXPECT_FALSE(on_disk(killed));
  EXPECT_EQ(rows(deleted), "0");
  EXPECT_EQ(rows(killed), "0");
  EXPECT_TRUE(on_disk(active)) << "an active image's copy is the replicator's to remove";
  EXPECT_TRUE(on_disk(saving)) << "an upload's copy is never the reaper's";
  EXPECT_EQ(r->items, 2u);
}

// A failed upload whose copy could not be discarded leaves an excess row on a queued image: it goes,
// but never while an upload holds the image (here: a transaction that has taken the row to saving
// and not committed yet), and never a queued image's copy in any other state.
TEST_F(ReaperTest, AFailedUploadsExcessCopyGoesUnlessAnUploadHoldsTheImage) {
  const std::string failed = add("queued"), held = add("queued"), odd = add("queued");
  sql("UPDATE replicas SET state = 'excess' WHERE image_id IN ('" + failed + "', '" + held + "')");
  pqxx::connection upload(url_);
  pqxx::work starting(upload);
  starting.exec("UPDATE images SET status = 'saving' WHERE id = '" + held + "'");
  auto r = pass();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(on_disk(failed));
  EXPECT_EQ(rows(failed), "0");
  EXPECT_EQ(status(failed), "queued");
  EXPECT_TRUE(on_disk(held)) << "the upload that holds the image may be writing this very file";
  EXPECT_EQ(rows(held), "1");
  EXPECT_TRUE(on_disk(odd)) << "only an excess row is a failed upload's";
  EXPECT_EQ(r->items, 1u);
  starting.abort();  // the upload failed before it began: the copy is the reaper's again
  ASSERT_TRUE(pass().ok());
  EXPECT_FALSE(on_disk(held));
  EXPECT_EQ(rows(held), "0");
  EXPECT_TRUE(on_disk(odd));
}

// The rows of a page go in one statement, each only as read: a copy recorded again since keeps its row.
TEST_F(ReaperTest, ReapedRowsGoOnlyAsTheyWereRead) {
  const std::string same = add("deleted"), again = add("deleted");
  auto seen = [&](const std::string& id) {
    db::ReplicaRow r;
    r.image_id = id;
    r.node = "n1";
    r.version = std::stoll(one("SELECT version FROM replicas WHERE image_id = '" + id + "'"));
    return r;
  };
  std::vector<db::ReplicaRow> rows_read{seen(same), seen(again)};
  sql("UPDATE replicas SET version = nextval('replica_version_seq') WHERE image_id = '" + again + "'");
  auto n = repo_->remove_reaped(rows_read);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(rows(same), "0");
  EXPECT_EQ(rows(again), "1");
}

TEST_F(ReaperTest, AnOldOrphanGoesUnlessItHasBecomeAReplica) {
  const std::string orphan = add("deleted", "1 hour", false);
  const std::string adopted = add("active");
  const std::string young = add("deleted", "1 hour", false);
  sql("INSERT INTO orphans (node, image_id, size, found_at) VALUES ('n1', '" + orphan + "', 1000, now() - interval '8 days'),"
      " ('n1', '" + adopted + "', 1000, now() - interval '8 days'), ('n1', '" + young + "', 1000, now())");
  ASSERT_TRUE(pass().ok());
  EXPECT_FALSE(on_disk(orphan));
  EXPECT_TRUE(on_disk(adopted));
  EXPECT_TRUE(on_disk(young)) << "within orphan_grace";
  EXPECT_EQ(one("SELECT count(*) FROM orphans"), "1");
}

TEST_F(ReaperTest, ADryRunDeletesNothingAndClaimsNothing) {
  const std::string due = add("pending_delete", "1 hour"), deleted = add("deleted");
  ReaperOptions o;
  o.dry_run = true;
  auto r = pass(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(on_disk(due));
  EXPECT_TRUE(on_disk(deleted));
  EXPECT_EQ(r->items, 1u);  // the deleted image's copy would go; the due one is not claimed
  EXPECT_EQ(*repo_->restore(due), db::RestoreOutcome::restored);
}

TEST_F(ReaperTest, ASavingImageWhoseUploadWentQuietGoesBackToQueued) {
  const std::string dead = add("saving", "1 hour", false), alive = add("saving", "1 hour", false);
  sql("UPDATE images SET updated_at = now() - interval '1 hour'");
  ASSERT_TRUE(db::make_image_repository(*pool_)->touch_upload(alive).ok());  // its API says so every 30 s
  ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status(dead), "queued");
  EXPECT_EQ(status(alive), "saving");
  sql("UPDATE images SET upload_heartbeat_at = now() - interval '20 minutes' WHERE id = '" + alive + "'");
  ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status(alive), "queued");
}

TEST_F(ReaperTest, OldDeletedRowsArePurgedWithWhatHangsOnThemAndTheirIdsStayTaken) {
  const std::string old = add("deleted", "31 days", false), young = add("deleted", "29 days", false);
  const std::string with_copy = add("deleted", "31 days");  // its copy goes first, then its row
  sql("INSERT INTO image_tags (image_id, tag) VALUES ('" + old + "', 't')");
  sql("INSERT INTO image_properties (image_id, name, value) VALUES ('" + old + "', 'k', 'v')");
  sql("INSERT INTO image_members (image_id, member) VALUES ('" + old + "', 'p2')");
  ASSERT_TRUE(pass().ok());
  EXPECT_EQ(status(old), "");
  EXPECT_EQ(one("SELECT count(*) FROM image_tags") + one("SELECT count(*) FROM image_properties") +
                one("SELECT count(*) FROM image_members"),
            "000");
  EXPECT_EQ(status(young), "deleted");
  EXPECT_FALSE(on_disk(with_copy));
  EXPECT_EQ(status(with_copy), "");
  EXPECT_EQ(one("SELECT count(*) FROM purged_images"), "2");
  db::ImageRow again;
  again.id = old;
  EXPECT_EQ(db::make_image_repository(*pool_)->create(again).code(), Errc::conflict) << "a purged id is never reused";
  ReaperOptions never;
  never.purge_after = std::chrono::milliseconds(0);
  sql("UPDATE images SET deleted_at = now() - interval '400 days' WHERE id = '" + young + "'");
  ASSERT_TRUE(pass(never).ok());
  EXPECT_EQ(status(young), "deleted");
}

}  // namespace
}  // namespace glint::reaper
