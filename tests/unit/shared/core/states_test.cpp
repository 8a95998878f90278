// States as types with one text form each, and job targets as one parsed type.
#include <gtest/gtest.h>

#include "shared/core/job_target.hpp"
#include "shared/core/states.hpp"

namespace glint {
namespace {

TEST(States, EveryStateRoundTripsThroughItsOneTextForm) {
  for (auto s : {NodeState::up, NodeState::down, NodeState::draining})
    EXPECT_EQ(parse_state<NodeState>(to_text(s)), s);
  for (auto s : {ReplicaState::writing, ReplicaState::ok, ReplicaState::missing, ReplicaState::corrupt,
                 ReplicaState::excess})
    EXPECT_EQ(parse_state<ReplicaState>(to_text(s)), s);
  for (int i = 0; i <= static_cast<int>(ImageStatus::importing); ++i) {
    const auto s = static_cast<ImageStatus>(i);
    EXPECT_EQ(parse_state<ImageStatus>(to_text(s)), s);
  }
  EXPECT_EQ(to_text(ImageStatus::pending_delete), "pending_delete");
  EXPECT_FALSE(parse_state<NodeState>("Up").has_value());
  EXPECT_FALSE(parse_state<ReplicaState>("").has_value());
  EXPECT_TRUE(keeps_data(ImageStatus::active));
  EXPECT_TRUE(keeps_data(ImageStatus::deactivated));
  EXPECT_FALSE(keeps_data(ImageStatus::pending_delete));
  EXPECT_FALSE(keeps_data(ImageStatus::saving));
}

TEST(JobTarget, ParsesAndFormatsEveryForm) {
  const std::string id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
  for (const JobTarget& t : {JobTarget::cluster(), JobTarget::rebalance(), JobTarget::image(id),
                             JobTarget::node("node1"), JobTarget::node("node1", true),
                             JobTarget::node("n-2", false, true), JobTarget::node("n", true, true)}) {
    auto back = JobTarget::parse(t.text());
    ASSERT_TRUE(back.ok()) << t.text() << ": " << back.error().message;
    EXPECT_EQ(*back, t) << t.text();
  }
  EXPECT_EQ(JobTarget::node("node1", true).text(), "node:node1;drain");
  EXPECT_EQ(JobTarget::parse("node:n1;deep")->deep, true);
  EXPECT_EQ(JobTarget::parse("")->kind, JobTarget::Kind::cluster);
}

TEST(JobTarget, RefusesWhatNoWorkerCouldActOn) {
  for (const char* bad : {"image:", "image:../../etc", "image:3F2504E0-4F89-41D3-9A0C-0305E82C3301", "node:",
                          "node:;drain", "node:n1;explode", "node:n1;", "node:a b", "nodes:n1", "rebalance:x",
                          "image:3f2504e0-4f89-41d3-9a0c-0305e82c3301;drain", "\xff"}) {
    auto t = JobTarget::parse(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.code(), Errc::invalid);
  }
}

}  // namespace
}  // namespace glint
