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

namespace glint::testing {
namespace {

using namespace std::chrono_literals;

TEST(JobLease, KilledWorkersJobIsFinishedByAnother) {
  if (!admin_database_url()) GTEST_SKIP() << "no PostgreSQL";
  const std::string url = fresh_database_url("joblease");
  db::PoolOptions po;
  po.url = url;
  db::Pool pool(po);
  ASSERT_TRUE(db::migrate(pool).ok());
  auto jobs = db::make_job_repository(pool);
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

}  // namespace
}  // namespace glint::testing
