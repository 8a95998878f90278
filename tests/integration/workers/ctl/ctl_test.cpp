// glintctl as operators and scripts use it: the real binary over a real database, checking exit
// codes and JSON output, including the database-unreachable path.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "shared/db/migrations.hpp"
#include "shared/db/pool.hpp"
#include "tests/support/pg.hpp"
#include "shared/bus/bus_client.hpp"
#include "shared/db/cache_repository.hpp"
#include "shared/db/repositories.hpp"
#include "tests/support/process.hpp"
#include "tests/support/service_process.hpp"
#include "tests/support/store_node.hpp"

namespace glint::testing {
namespace {

struct CtlRun {
  int code = -1;
  std::string out;
};

class CtlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!admin_database_url()) GTEST_SKIP() << "no PostgreSQL";
    url_ = fresh_database_url("ctl");
    db::PoolOptions po;
    po.url = url_;
    pool_ = std::make_unique<db::Pool>(po);
    ASSERT_TRUE(db::migrate(*pool_).ok());
    write_conf(conf_, url_);
  }
  void write_conf(const std::string& path, const std::string& url) {
    // No coordinator here: an empty router endpoint turns the bus off (the job row is the truth).
    std::ofstream(path) << "[database]\nconnection = " << url << "\nretry_budget = 500ms\n[bus]\nrouter_endpoint =\n";
  }
  CtlRun ctl(const std::string& args, const std::string& conf = "") {
    const std::string out = dir_ / "out.txt";
    const std::string cmd = bin_path("glintctl") + " --config-file " + (conf.empty() ? conf_ : conf) + " " + args +
                            " > " + out + " 2>&1";
    const int rc = std::system(cmd.c_str());
    return CtlRun{WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, read_file(out)};
  }

  TempDir dir_{"glint-ctl-it"};
  std::string conf_ = dir_ / "ctl.conf";
  std::string url_;
  std::unique_ptr<db::Pool> pool_;
};

TEST_F(CtlTest, StatusAndNodesAsJson) {
  auto s = ctl("--json status");
  ASSERT_EQ(s.code, 0) << s.out;
  auto j = nlohmann::json::parse(s.out);
  EXPECT_TRUE(j["nodes"].is_array());
  EXPECT_EQ(j["replicas"]["under_replicated"], 0);
  EXPECT_EQ(ctl("nodes").code, 0);
}

TEST_F(CtlTest, RestoreUndoesADelayedDeleteUntilTheReaperClaimsIt) {
  const std::string a = "3f2504e0-4f89-41d3-9a0c-0305e82c3401", b = "3f2504e0-4f89-41d3-9a0c-0305e82c3402";
  ASSERT_TRUE(pool_->run([&](pqxx::connection_base& c) {
    pqxx::work w(c);
    w.exec_params("INSERT INTO images (id, status, size, deleted_at) VALUES ($1::uuid, 'pending_delete', 10, now())", a);
    w.exec_params("INSERT INTO images (id, status, size, deleted_at, reap_claimed_at) "
                  "VALUES ($1::uuid, 'pending_delete', 10, now(), now())", b);
    w.commit();
  }).ok());
  auto restored = ctl("restore " + a);
  EXPECT_EQ(restored.code, 0) << restored.out;
  auto img = ctl("--json image " + a);
  ASSERT_EQ(img.code, 0) << img.out;
  EXPECT_NE(img.out.find("\"active\""), std::string::npos) << img.out;
  EXPECT_EQ(ctl("restore " + a).code, 1);  // active now: nothing to restore
  auto claimed = ctl("restore " + b);
  EXPECT_EQ(claimed.code, 1);
  EXPECT_NE(claimed.out.find("being reaped"), std::string::npos) << claimed.out;
  EXPECT_EQ(ctl("restore 3f2504e0-4f89-41d3-9a0c-0305e82c3499").code, 4);
}

TEST_F(CtlTest, PurgeRemovesOldDeletedRowsOnly) {
  const std::string old = "3f2504e0-4f89-41d3-9a0c-0305e82c3501", young = "3f2504e0-4f89-41d3-9a0c-0305e82c3502";
  ASSERT_TRUE(pool_->run([&](pqxx::connection_base& c) {
    pqxx::work w(c);
    w.exec_params("INSERT INTO images (id, status, deleted_at) VALUES ($1::uuid, 'deleted', now() - interval '10 days')", old);
    w.exec_params("INSERT INTO images (id, status, deleted_at) VALUES ($1::uuid, 'deleted', now() - interval '2 days')", young);
    w.commit();
  }).ok());
  auto r = ctl("--json purge --age-in-days 5");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["purged"], 1);
  EXPECT_EQ(ctl("image " + old).code, 4);
  EXPECT_EQ(ctl("image " + young).code, 0);
  EXPECT_EQ(ctl("purge --age-in-days -1").code, 2);
}

// glintctl cache over every API node's rows: queue once (active only), list, nodes, clear.
TEST_F(CtlTest, CacheCommandsSeeAndSteerEveryApiNode) {
  const std::string hot = "3f2504e0-4f89-41d3-9a0c-0305e82c3601", queued = "3f2504e0-4f89-41d3-9a0c-0305e82c3602";
  auto rows = db::make_cache_repository(*pool_);
  ASSERT_TRUE(rows->register_node("api1", "").ok());
  ASSERT_TRUE(rows->register_node("api2", "").ok());
  ASSERT_TRUE(pool_->run([&](pqxx::connection_base& c) {
    pqxx::work w(c);
    w.exec_params("INSERT INTO images (id, status, size) VALUES ($1::uuid, 'active', 10)", hot);
    w.exec_params("INSERT INTO images (id, status) VALUES ($1::uuid, 'queued')", queued);
    w.commit();
  }).ok());
  auto q = ctl("--json cache queue " + hot);
  ASSERT_EQ(q.code, 0) << q.out;
  EXPECT_EQ(nlohmann::json::parse(q.out)["queued_on"], 2);
  EXPECT_EQ(ctl("cache queue " + queued).code, 1);  // not active, not caching
  EXPECT_EQ(ctl("cache queue 3f2504e0-4f89-41d3-9a0c-0305e82c3699").code, 4);
  ASSERT_TRUE(rows->record_entry("api1", hot, 10, std::string(32, 'a')).ok());

  auto list = ctl("--json cache list");
  ASSERT_EQ(list.code, 0) << list.out;
  auto j = nlohmann::json::parse(list.out)["nodes"];
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["cached"][0]["image_id"], hot);
  EXPECT_EQ(j[1]["queued"], nlohmann::json::array({hot}));
  auto nodes = ctl("--json cache nodes " + hot);
  ASSERT_EQ(nodes.code, 0) << nodes.out;
  EXPECT_EQ(nlohmann::json::parse(nodes.out)["nodes"], nlohmann::json::array({"api1"}));

  auto cleared = ctl("--json cache clear");
  ASSERT_EQ(cleared.code, 0) << cleared.out;
  EXPECT_EQ(nlohmann::json::parse(cleared.out), nlohmann::json({{"evictions_queued", 1}, {"queue_deleted", 1}}));
  auto q1 = rows->queued("api1");
  ASSERT_EQ(q1->size(), 1u);  // api1's prefetcher removes the file
  EXPECT_EQ((*q1)[0].work, db::CacheWork::evict);
  EXPECT_TRUE(rows->queued("api2")->empty());
  EXPECT_EQ(ctl("cache clear --target everything").code, 2);
  EXPECT_EQ(ctl("cache list --node api9").code, 4);
}

TEST_F(CtlTest, RunQueuesAJobThatCanBeShownAndCancelled) {
  auto r = ctl("--json run replicator --node node1 --no-wait");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto job = nlohmann::json::parse(r.out);
  EXPECT_EQ(job["state"], "queued");
  EXPECT_EQ(job["target"], "node:node1");
  const std::string id = job["id"];
  auto shown = ctl("--json job show " + id);
  ASSERT_EQ(shown.code, 0) << shown.out;
  EXPECT_EQ(nlohmann::json::parse(shown.out)["kind"], "replicator");
  EXPECT_EQ(ctl("job cancel " + id).code, 0);
  EXPECT_EQ(ctl("job cancel " + id).code, 1);  // already cancelled
  auto listed = ctl("--json job list --state cancelled");
  ASSERT_EQ(listed.code, 0);
  EXPECT_EQ(nlohmann::json::parse(listed.out).size(), 1u);
}

TEST_F(CtlTest, ExitCodesScriptsCanRelyOn) {
  EXPECT_EQ(ctl("job show 3f2504e0-4f89-41d3-9a0c-0305e82c3301").code, 4);
  EXPECT_EQ(ctl("image 3f2504e0-4f89-41d3-9a0c-0305e82c3301").code, 4);
  EXPECT_EQ(ctl("frobnicate").code, 2);
  EXPECT_EQ(ctl("audit").code, 2);                        // --node is required
  EXPECT_EQ(ctl("drain nosuchnode --no-wait").code, 4);   // no such node: nothing queued
  auto repair = ctl("--json repair 3f2504e0-4f89-41d3-9a0c-0305e82c3301 --no-wait");
  ASSERT_EQ(repair.code, 0) << repair.out;
  EXPECT_EQ(nlohmann::json::parse(repair.out)["target"], "image:3f2504e0-4f89-41d3-9a0c-0305e82c3301");
  auto audit = ctl("--json audit --node node7 --deep --no-wait");
  ASSERT_EQ(audit.code, 0) << audit.out;
  EXPECT_EQ(nlohmann::json::parse(audit.out)["kind"], "auditor-deep");
  EXPECT_EQ(nlohmann::json::parse(audit.out)["target"], "node:node7;deep");
  const std::string dead = dir_ / "dead.conf";
  write_conf(dead, "postgresql://postgres@127.0.0.1:" + std::to_string(closed_port()) + "/none");
  auto r = ctl("status", dead);
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.out.find("database is unreachable"), std::string::npos) << r.out;
}

// With a coordinator: `run` asks it for the job (it writes the row and rings job.queued, which a
// subscribed worker receives), `status` lists who it hears; once it is gone, `run` fails with exit
// 3 and queues nothing, while `status` still answers from the database.
TEST_F(CtlTest, RunGoesThroughTheCoordinator) {
  using namespace std::chrono_literals;
  const std::string router = "tcp://127.0.0.1:" + std::to_string(closed_port());
  const std::string pub = "tcp://127.0.0.1:" + std::to_string(closed_port());
  ServiceProcess coord("glint-coordinator", "coordinator", dir_ / "coord");
  IniMap ini;
  ini["database"]["connection"] = url_;
  ini["bus"]["router_endpoint"] = router;
  ini["bus"]["pub_endpoint"] = pub;
  ASSERT_TRUE(coord.start(ini)) << read_file(coord.log_path());
  const std::string conf = dir_ / "bus.conf";
  std::ofstream(conf) << "[database]\nconnection = " << url_ << "\nretry_budget = 500ms\n[bus]\nrouter_endpoint = "
                      << router << "\npub_endpoint = " << pub << "\n";

  // A stand-in auditor on the bus, listening for its doorbell.
  SystemClock clock;
  bus::ClientOptions bo;
  bo.router_endpoint = router;
  bo.pub_endpoint = pub;
  bo.self = bus::Sender{"node9", "auditor", 4242, "test"};
  bo.heartbeat_interval = 200ms;
  bo.topics = {"job.queued"};
  std::mutex mu;
  std::set<std::string> rung;
  bus::BusClient auditor(bo, clock, log::Logger::null(), [&](const bus::Envelope& e) {
    std::lock_guard lk(mu);
    rung.insert(e.body.value("job", std::string()));
  });
  ASSERT_TRUE(wait_for([&] {
    auto s = ctl("--json status", conf);
    if (s.code != 0) return false;
    const auto j = nlohmann::json::parse(s.out, nullptr, false);
    if (j.is_discarded() || !j["coordinator"]["reachable"].get<bool>()) return false;
    for (const auto& m : j["coordinator"]["members"])
      if (m["role"] == "auditor" && m["node"] == "node9") return true;
    return false;
  }, 20s)) << ctl("status", conf).out;

  // The subscription may still be joining (ZeroMQ's slow joiner): queue until one ring arrives.
  std::string heard;
  ASSERT_TRUE(wait_for([&] {
    auto r = ctl("--json run auditor --node node9 --no-wait", conf);
    if (r.code != 0) return false;
    const std::string id = nlohmann::json::parse(r.out)["id"];
    return wait_for([&] {
      std::lock_guard lk(mu);
      if (!rung.count(id)) return false;
      heard = id;
      return true;
    }, 1s);
  }, 30s)) << read_file(coord.log_path());
  auto jobs = db::make_job_repository(*pool_);
  auto row = *jobs->get(heard);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->kind, "auditor");
  EXPECT_EQ(row->target.value_or(""), "node:node9");
  EXPECT_EQ(row->requested_by.value_or("").rfind("glintctl:", 0), 0u);

  const size_t before = jobs->list("", 1000)->size();
  coord.stop(SIGKILL);
  auto r = ctl("run auditor --no-wait", conf);
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("coordinator is unreachable"), std::string::npos) << r.out;
  EXPECT_EQ(jobs->list("", 1000)->size(), before);  // nothing queued behind the operator's back
  auto s = ctl("status", conf);
  EXPECT_EQ(s.code, 0) << s.out;
  EXPECT_NE(s.out.find(router + " unreachable"), std::string::npos) << s.out;
}

// The last pass of a worker is recorded per node and shown by status.
TEST_F(CtlTest, StatusShowsTheLastPassOfEachWorker) {
  using namespace std::chrono_literals;
  const std::string sched = dir_ / "w.sched";
  std::ofstream(sched) << "[testwork]\ninterval = 1h\n";
  const std::string wconf = dir_ / "w.conf";
  std::ofstream(wconf) << "[DEFAULT]\nnode_name = nodeW\nlog_file = " << (dir_ / "w.log") << "\n[database]\nconnection = "
                       << url_ << "\n[worker]\nschedule_defaults = " << sched << "\nlock_dir = " << (dir_ / "locks")
                       << "\n[bus]\nrouter_endpoint =\n";
  Process w({bin_path("glint-test-worker"), "--config-file", wconf, "--once", "--items", "7"}, dir_ / "w.out");
  ASSERT_TRUE(WIFEXITED(w.stop(0, 30s))) << read_file(dir_ / "w.out");
  auto s = ctl("--json status");
  ASSERT_EQ(s.code, 0) << s.out;
  const auto workers = nlohmann::json::parse(s.out)["workers"];
  ASSERT_EQ(workers.size(), 1u) << s.out;
  EXPECT_EQ(workers[0]["node"], "nodeW");
  EXPECT_EQ(workers[0]["worker"], "testwork");
  EXPECT_EQ(workers[0]["items"], 7);
  EXPECT_EQ(workers[0]["ok"], true);
  auto table = ctl("status");
  EXPECT_NE(table.out.find("nodeW  testwork"), std::string::npos) << table.out;
}

}  // namespace
}  // namespace glint::testing
