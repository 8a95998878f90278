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
    const std::string conf = dir / (node + ".conf");
    std::ofstream(conf) << "[DEFAULT]\nnode_name = " << node << "\nlog_file = " << (dir / (node + ".log"))
                        << "\n[database]\nconnection = " << url << "\n";
    return Process({bin_path("glint-test-worker"), "--config-file", conf}, dir / (node + ".out"));
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
  EXPECT_EQ(result["items"], 20) << *done->result;                                    // the whole pass, again
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

  const std::string conf = dir / "w.conf";
  std::ofstream(conf) << "[DEFAULT]\nnode_name = wz\nlog_file = " << (dir / "w.log") << "\n[database]\nconnection = "
                      << url << "\n[bus]\nrouter_endpoint = " << router << "\npub_endpoint = " << pub
                      << "\nheartbeat_interval = 200ms\n";
  Process worker({bin_path("glint-test-worker"), "--config-file", conf, "--interval-ms", "3600000"}, dir / "w.out");
  // Its first (empty) pass is over: from now on it sleeps for an hour unless woken.
  ASSERT_TRUE(wait_for([&] { return read_file(dir / "w.log").find("event=pass.done") != std::string::npos; }, 20s))
      << read_file(dir / "w.log");
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
  }, 30s)) << read_file(dir / "w.log");
  EXPECT_EQ(worker.stop(SIGTERM, 10s), 0);
}

}  // namespace
}  // namespace glint::testing
