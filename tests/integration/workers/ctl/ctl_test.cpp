// glintctl as operators and scripts use it: the real binary over a real database, checking exit
// codes and JSON output, including the database-unreachable path.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "shared/db/migrations.hpp"
#include "shared/db/pool.hpp"
#include "tests/support/pg.hpp"
#include "tests/support/process.hpp"
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
  const std::string dead = dir_ / "dead.conf";
  write_conf(dead, "postgresql://postgres@127.0.0.1:" + std::to_string(closed_port()) + "/none");
  auto r = ctl("status", dead);
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.out.find("database is unreachable"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace glint::testing
