// The journal across a real PostgreSQL outage: while the server is stopped, an auditor's finding
// (a corrupt replica), a replicator's copy and an orphan are kept in the node's journal instead of
// being lost; glint-updater cannot replay them while the database is down and says so; once it is
// back, one --once pass replays them all into the database, removes the finished journal, and a
// second pass changes nothing (each record is a compare-and-set).
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>

#include "shared/core/clock.hpp"
#include "shared/core/uuid.hpp"
#include "shared/db/migrations.hpp"
#include "shared/db/pool.hpp"
#include "shared/journal/journaled.hpp"
#include "tests/support/pg.hpp"
#include "tests/support/process.hpp"

namespace glint::testing {
namespace {

using namespace std::chrono_literals;

class JournalOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!admin_database_url()) GTEST_SKIP() << "no PostgreSQL";
    ASSERT_EQ(pg("start"), 0) << read_file(dir_ / "pg.log");
    const std::string env = read_file(dir_ / "pg/env");
    const std::string key = "GLINT_TEST_DATABASE_URL=";
    const auto at = env.find(key);
    ASSERT_NE(at, std::string::npos);
    url_ = env.substr(at + key.size(), env.find('\n', at) - at - key.size());
    db::PoolOptions po;
    po.url = url_;
    po.connect_timeout = 1s;
    po.retry_budget = 2s;
    pool_ = std::make_unique<db::Pool>(po);
    ASSERT_TRUE(db::migrate(*pool_).ok());
    sql("INSERT INTO nodes (name, address, zone) VALUES ('node1', '127.0.0.1:1', 'z'), ('node2', '127.0.0.1:2', 'z')");
    sql("INSERT INTO images (id, status, size) VALUES ('" + id_ + "', 'active', 1000)");
    sql("INSERT INTO replicas (image_id, node, state, size, digest) VALUES ('" + id_ + "', 'node1', 'ok', 1000, 'aa')");
    std::ofstream(dir_ / "updater.sched") << "[updater]\ninterval = 1h\n";
    std::ofstream(dir_ / "updater.conf") << "[DEFAULT]\nnode_name = node1\nlog_file = " << (dir_ / "updater.log")
                                         << "\n[database]\nconnection = " << url_
                                         << "\nconnect_timeout = 1s\n[worker]\nschedule_defaults = "
                                         << (dir_ / "updater.sched") << "\nlock_dir = " << (dir_ / "locks")
                                         << "\n[journal]\ndir = " << journal_dir_ << "\n[bus]\nrouter_endpoint =\n";
  }
  void TearDown() override { (void)pg("stop"); }
  int pg(const std::string& cmd) {
    const std::string line = std::string(GLINT_TEST_SOURCE_DIR) + "/tests/support/pg.sh " + cmd + " " + (dir_ / "pg") +
                             " >>" + (dir_ / "pg.log") + " 2>&1";
    return std::system(line.c_str());
  }
  void sql(const std::string& q) { testing::exec_sql(url_, q); }
  std::string one(const std::string& q) { return testing::query_one(url_, q); }
  // glint-updater --once: its exit code.
  int updater_once() {
    Process p({bin_path("glint-updater"), "--config-file", dir_ / "updater.conf", "--once"}, dir_ / "updater.out");
    const int st = p.stop(0, 60s);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  size_t journal_files() {
    size_t n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(journal_dir_, ec)) n += e.path().extension() == ".jnl";
    return n;
  }

  TempDir dir_{"glint-journal-outage"};
  const std::string journal_dir_ = dir_ / "journal";
  const std::string id_ = random_uuid();
  const std::string orphan_ = random_uuid();
  std::string url_;
  std::unique_ptr<db::Pool> pool_;
  SystemClock clock_;
};

TEST_F(JournalOutageTest, WritesMissedDuringAnOutageAreReplayedOnceTheDatabaseIsBack) {
  {
    journal::Journal j(journal_dir_, "auditor", clock_);
    auto replicas = journal::journaled(db::make_replica_repository(*pool_), j);
    auto heal = journal::journaled(db::make_healing_repository(*pool_), j);
    const auto seen = replicas->for_image(id_);
    ASSERT_TRUE(seen.ok() && seen->size() == 1);

    ASSERT_EQ(pg("pause"), 0) << read_file(dir_ / "pg.log");
    EXPECT_TRUE(replicas->set_state(seen->at(0), ReplicaState::corrupt).ok());  // the auditor's finding
    db::ReplicaRow copy;
    copy.image_id = id_;
    copy.node = "node2";
    copy.state = ReplicaState::ok;
    copy.size = 1000;
    copy.digest = "aa";
    copy.verified_at = clock_.wall();
    EXPECT_TRUE(replicas->record_copy(copy, std::nullopt).ok());  // the replicator's copy
    EXPECT_TRUE(heal->record_orphan("node1", orphan_, 5).ok());
    EXPECT_EQ(j.appended(), 3u);

    // While the database is down the updater cannot replay: it fails, the records stay.
    EXPECT_NE(updater_once(), 0) << read_file(dir_ / "updater.out");
    EXPECT_EQ(journal::pending_in(journal_dir_).pending, 3u);
    ASSERT_EQ(pg("resume"), 0) << read_file(dir_ / "pg.log");
  }  // the writer ends: its journal file is finished

  ASSERT_EQ(updater_once(), 0) << read_file(dir_ / "updater.out") << read_file(dir_ / "updater.log");
  EXPECT_EQ(one("SELECT state FROM replicas WHERE image_id = '" + id_ + "' AND node = 'node1'"), "corrupt");
  EXPECT_EQ(one("SELECT state FROM replicas WHERE image_id = '" + id_ + "' AND node = 'node2'"), "ok");
  EXPECT_EQ(one("SELECT size FROM orphans WHERE image_id = '" + orphan_ + "' AND node = 'node1'"), "5");
  EXPECT_EQ(one("SELECT backlog FROM worker_passes WHERE worker = 'updater'"), "0");
  EXPECT_EQ(journal_files(), 0u);

  const std::string versions = "SELECT string_agg(version::text, ',' ORDER BY node) FROM replicas";
  const std::string before = one(versions);
  ASSERT_EQ(updater_once(), 0);
  EXPECT_EQ(one(versions), before);
}

}  // namespace
}  // namespace glint::testing
