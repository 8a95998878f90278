// JobWorker over an in-memory jobs table: plain passes without a job, a claimed job finished done
// or failed with its result and events, the target handed to the pass, and a cancelled job
// stopping the pass that serves it.
#include "shared/worker/job_worker.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/fake_jobs.hpp"
#include "tests/support/recording_publisher.hpp"

namespace glint::worker {
namespace {

using namespace std::chrono_literals;

// A pass that records what it was given and does what the test says.
class ScriptedWorker final : public Worker {
 public:
  std::string name() const override { return "auditor"; }
  Expected<PassResult> run_once(const PassContext& ctx) override {
    ++passes;
    if (ctx.job_target) target = ctx.job_target->text();
    if (during) during(ctx);
    PassResult r;
    r.items = 5;
    r.failed = failed;
    return r;
  }
  int passes = 0;
  uint64_t failed = 0;
  std::optional<std::string> target;
  std::function<void(const PassContext&)> during;
};

class JobWorkerTest : public ::testing::Test {
 protected:
  testing::FakeJobRepository jobs_;
  testing::RecordingPublisher events_;
  ScriptedWorker inner_;
  JobWorker worker_{inner_, jobs_, events_, "node1", "node1/42", 3s, log::Logger::null()};
  PassContext ctx_;
};

TEST_F(JobWorkerTest, WithoutAJobItIsAPlainPass) {
  auto r = worker_.run_once(ctx_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(inner_.passes, 1);
  EXPECT_FALSE(inner_.target.has_value());
  EXPECT_TRUE(events_.events().empty());
}

TEST_F(JobWorkerTest, ClaimedJobIsFinishedWithItsResult) {
  auto job = jobs_.create("auditor", std::string("node:node1"), "ops");
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE(jobs_.create("replicator", std::nullopt, "ops").ok());  // another kind: not ours
  ASSERT_TRUE(worker_.run_once(ctx_).ok());
  EXPECT_EQ(inner_.target.value_or("?"), "node:node1");
  auto row = **jobs_.get(job->id);
  EXPECT_EQ(row.state, "done");
  const auto result = nlohmann::json::parse(row.result.value_or("{}"));
  EXPECT_EQ(result["items"], 5);
  EXPECT_EQ(result["owner"], "node1/42");
  EXPECT_EQ(events_.count("job.started"), 1u);
  ASSERT_EQ(events_.count("job.finished"), 1u);
  EXPECT_EQ(events_.events().back().second["state"], "done");
  EXPECT_FALSE(worker_.current_job().has_value());
}

TEST_F(JobWorkerTest, JobsForAnotherNodeAreLeftAlone) {
  auto other = jobs_.create("auditor", std::string("node:node2;deep"), "ops");
  auto mine = jobs_.create("auditor", std::string("node:node1;deep"), "ops");
  ASSERT_TRUE(worker_.run_once(ctx_).ok());
  EXPECT_EQ(inner_.target.value_or("?"), "node:node1;deep");
  EXPECT_EQ((**jobs_.get(other->id)).state, "queued");
  EXPECT_EQ((**jobs_.get(mine->id)).state, "done");
}

TEST_F(JobWorkerTest, FailedItemsFailTheJob) {
  inner_.failed = 2;
  auto job = jobs_.create("auditor", std::nullopt, "ops");
  ASSERT_TRUE(worker_.run_once(ctx_).ok());
  EXPECT_EQ(inner_.target.value_or("?"), "");  // the whole cluster
  EXPECT_EQ((**jobs_.get(job->id)).state, "failed");
  EXPECT_EQ(events_.events().back().second["state"], "failed");
}

TEST_F(JobWorkerTest, ATargetNobodyCanActOnFailsTheJobWithoutAPass) {
  auto job = jobs_.create("auditor", std::string("image:not-a-uuid"), "ops");
  EXPECT_FALSE(worker_.run_once(ctx_).ok());
  EXPECT_EQ(inner_.passes, 0);
  const auto row = **jobs_.get(job->id);
  EXPECT_EQ(row.state, "failed");
  EXPECT_NE(row.result.value_or("").find("canonical uuid"), std::string::npos);
}

TEST_F(JobWorkerTest, CancellingTheJobStopsItsPass) {
  auto job = jobs_.create("auditor", std::nullopt, "ops");
  bool stopped = false;
  inner_.during = [&](const PassContext& ctx) {
    ASSERT_TRUE(jobs_.cancel(job->id).ok());
    // The lease keeper notices at its next renewal (lease/3) and stops the pass.
    stopped = ctx.stop.wait_for(10s) == WaitResult::stopped;
  };
  auto r = worker_.run_once(ctx_);
  EXPECT_TRUE(stopped);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::cancelled);
  EXPECT_EQ((**jobs_.get(job->id)).state, "cancelled");
  EXPECT_EQ(events_.count("job.finished"), 0u);
}

TEST_F(JobWorkerTest, DatabaseTroubleFailsThePassForARetry) {
  jobs_.set_failing(true);
  auto r = worker_.run_once(ctx_);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(inner_.passes, 0);
}

}  // namespace
}  // namespace glint::worker
