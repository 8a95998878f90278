// A job survives its worker: glint-test-worker claims it and is killed with -9 mid-job; once the
// lease lapses a second worker claims the job and finishes it. Real processes, real PostgreSQL.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "shared/db/migrations.hpp"
#include "shared/db/pool.hpp"
#include "shared/db/repositories.hpp"
#include "tests/support/pg.hpp"
#include "tests/support/process.hpp"
#include "tests/support/service_process.hpp"
#include "tests/support/store_node.hpp"
#include "shared/bus/bus_client.hpp"

namespace glint::testing {
namespace {

using namespace std::chrono_literals;

// A migrated database of its own and its jobs table. Declare after the admin_database_url() check.
struct JobsDb {
  explicit JobsDb(const std::string& name) : url(fresh_database_url(name)), pool(options(url)) {
    migrated = db::migrate(pool).ok();
  }
  static db::PoolOptions options(const std::string& url) {
    db::PoolOptions po;
    po.url = url;
    return po;
  }
  std::string url;
  db::Pool pool;
  bool migrated = false;
  std::unique_ptr<db::JobRepository> jobs = db::make_job_repository(pool);
};

// A glint-test-worker config: schedule every `interval`, 10 items/s, 2 s job leases, locks in dir.
std::string worker_conf(const TempDir& dir, const std::string& node, const std::string& url, const std::string& interval,
                        const std::string& bus = "[bus]\nrouter_endpoint =\n") {
  const std::string sched = dir / (node + ".sched");
  std::ofstream(sched) << "[testwork]\ninterval = " << interval << "\nitems_per_second = 10\n";
  const std::string conf = dir / (node + ".conf");
  std::ofstream(conf) << "[DEFAULT]\nnode_name = " << node << "\nlog_file = " << (dir / (node + ".log"))
                      << "\n[database]\nconnection = " << url << "\n[worker]\nschedule_defaults = " << sched
                      << "\nlock_dir = " << (dir / "locks") << "\njob_lease = 2s\n" << bus;
  return conf;
}

TEST(JobLease, KilledWorkersJobIsFinishedByAnother) {
  if (!admin_database_url()) GTEST_SKIP() << "no PostgreSQL";
  JobsDb d("joblease");
  ASSERT_TRUE(d.migrated);
  const std::string& url = d.url;
  auto& jobs = d.jobs;
  auto job = jobs->create("testwork", std::nullopt, "test");
  ASSERT_TRUE(job.ok());

  TempDir dir("glint-joblease");
  auto start = [&](const std::string& node) {
    return Process({bin_path("glint-test-worker"), "--config-file", worker_conf(dir, node, url, "1s"), "--items", "60"},
                   dir / (node + ".out"));
  };
  Process a = start("wa");
  // Worker A is mid-job: the job runs under its lease and has made progress.
  ASSERT_TRUE(wait_for([&] {
    auto j = jobs->get(job->id);
    return j.ok() && *j && (*j)->state == "running" && (*j)->progress > 0;
  }, 20s)) << read_file(dir / "wa.log");
  const std::string owner_a = *(*jobs->get(job->id))->lease_owner;
  EXPECT_EQ(owner_a.rfind("wa/", 0), 0u);
  a.stop(SIGKILL, 5s);

  Process b = start("wb");
  ASSERT_TRUE(wait_for([&] {
    auto j = jobs->get(job->id);
    return j.ok() && *j && (*j)->state == "done";
  }, 30s)) << read_file(dir / "wb.log");
  auto done = *jobs->get(job->id);
  const auto result = nlohmann::json::parse(*done->result);
  EXPECT_EQ(result["owner"].get<std::string>().rfind("wb/", 0), 0u) << *done->result;  // finished by B
  EXPECT_EQ(result["items"], 60) << *done->result;                                    // the whole pass, again
  EXPECT_EQ(done->state, "done");
  EXPECT_EQ(b.stop(SIGTERM, 10s), 0);
}

// The doorbell: a worker sleeping for an hour runs a queued job at once when job.queued reaches
// it through the coordinator. The slow joiner is handled by ringing again until the job is done.
TEST(JobDoorbell, QueuedJobWakesASleepingWorker) {
  if (!admin_database_url()) GTEST_SKIP() << "no PostgreSQL";
  JobsDb d("jobbell");
  ASSERT_TRUE(d.migrated);
  const std::string& url = d.url;
  auto& jobs = d.jobs;
  TempDir dir("glint-jobbell");
  const std::string router = "tcp://127.0.0.1:" + std::to_string(closed_port());
  const std::string pub = "tcp://127.0.0.1:" + std::to_string(closed_port());
  ServiceProcess coord("glint-coordinator", "coordinator", dir / "coord");
  IniMap ini;
  ini["database"]["connection"] = url;
  ini["bus"]["router_endpoint"] = router;
  ini["bus"]["pub_endpoint"] = pub;
  ASSERT_TRUE(coord.start(ini)) << read_file(coord.log_path());

  const std::string conf = worker_conf(dir, "wz", url, "1h",
                                       "[bus]\nrouter_endpoint = " + router + "\npub_endpoint = " + pub +
                                           "\nheartbeat_interval = 200ms\n");
  Process worker({bin_path("glint-test-worker"), "--config-file", conf}, dir / "w.out");
  // Its first (empty) pass is over: from now on it sleeps for an hour unless woken.
  ASSERT_TRUE(wait_for([&] { return read_file(dir / "wz.log").find("event=pass.done") != std::string::npos; }, 20s))
      << read_file(dir / "wz.log");
  auto job = jobs->create("testwork", std::nullopt, "test");
  ASSERT_TRUE(job.ok());
  SystemClock clock;
  bus::ClientOptions bo;
  bo.router_endpoint = router;
  bo.self = bus::Sender{"test", "ctl", 1, "test"};
  bus::BusClient bell(bo, clock, log::Logger::null());
  EXPECT_TRUE(wait_for([&] {
    bell.publish("job.queued", {{"job", job->id}, {"kind", "testwork"}});
    return wait_for([&] {
      auto j = jobs->get(job->id);
      return j.ok() && *j && (*j)->state == "done";
    }, 1s);
  }, 30s)) << read_file(dir / "wz.log");
  EXPECT_EQ(worker.stop(SIGTERM, 10s), 0);
}

// The runtime's front door: --once runs one pass and exits 0; a second instance on the same node
// is refused (the lock); a bad schedule line is reported with file and line and exits 1.
TEST(WorkerMain, OnceLockAndBadSchedule) {
  if (!admin_database_url()) GTEST_SKIP() << "no PostgreSQL";
  JobsDb d("workermain");
  ASSERT_TRUE(d.migrated);
  TempDir dir("glint-workermain");
  auto run = [&](const std::vector<std::string>& extra, const std::string& conf) {
    std::vector<std::string> argv = {bin_path("glint-test-worker"), "--config-file", conf};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Process p(argv, dir / "run.out");
    return p.stop(0, 30s);  // signal 0: just wait for it to exit
  };
  const std::string conf = worker_conf(dir, "wm", d.url, "1h");
  int st = run({"--once", "--items", "3"}, conf);
  ASSERT_TRUE(WIFEXITED(st)) << read_file(dir / "run.out");
  EXPECT_EQ(WEXITSTATUS(st), 0) << read_file(dir / "run.out");
  EXPECT_NE(read_file(dir / "wm.log").find("items=3"), std::string::npos) << read_file(dir / "wm.log");

  Process holder({bin_path("glint-test-worker"), "--config-file", conf}, dir / "holder.out");
  auto passes = [&] {
    const std::string log = read_file(dir / "wm.log");
    size_t n = 0;
    for (size_t at = log.find("event=pass.done"); at != std::string::npos; at = log.find("event=pass.done", at + 1)) ++n;
    return n;
  };
  ASSERT_TRUE(wait_for([&] { return passes() >= 2; }, 20s)) << read_file(dir / "wm.log");  // the holder runs
  st = run({"--once"}, conf);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 1);
  EXPECT_NE(read_file(dir / "run.out").find("lock"), std::string::npos) << read_file(dir / "run.out");
  EXPECT_EQ(holder.stop(SIGTERM, 10s), 0);

  const std::string bad = dir / "bad.sched";
  std::ofstream(bad) << "[testwork]\ninterval = soon\n";
  st = run({"--once", "--schedule-file", bad}, conf);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 1);
  EXPECT_NE(read_file(dir / "run.out").find(bad + ":2:"), std::string::npos) << read_file(dir / "run.out");
}

}  // namespace
}  // namespace glint::testing
