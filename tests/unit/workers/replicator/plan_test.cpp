// Replicator decisions on in-memory rows: which node pulls, who may serve, when an excess copy may
// go (never before R verified copies sit on live assigned nodes), nodes down within and past the
// grace period, draining nodes, and in_place.
#include "workers/replicator/plan.hpp"

#include <algorithm>
#include <gtest/gtest.h>

#include "tests/support/rows.hpp"

namespace glint::replicator {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

const Clock::time_point kNow = Clock::time_point(std::chrono::hours(500000));
const std::string kImage = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

db::NodeRow node(const std::string& name, NodeState state = NodeState::up, std::chrono::minutes down_for = 0min) {
  db::NodeRow n;
  n.name = name;
  n.zone = "z-" + name;
  n.state = state;
  n.state_since = kNow - down_for;
  n.last_heartbeat = state == NodeState::down ? kNow - down_for - 1min : kNow - 1s;
  return n;
}

std::vector<db::NodeRow> four_up() { return {node("n1"), node("n2"), node("n3"), node("n4")}; }

placement::ClusterView view(std::vector<db::NodeRow> rows) {
  placement::ViewOptions o;
  o.replicas = 3;
  o.slot_grace = 10min;
  return placement::ClusterView(std::move(rows), kNow, o);
}

db::ImageCopies image_on(const std::vector<std::string>& ok_nodes) { return testing::image_on(kImage, ok_nodes); }

std::string spare_of(const std::vector<std::string>& assigned) {
  for (const auto& n : {"n1", "n2", "n3", "n4"})
    if (std::find(assigned.begin(), assigned.end(), n) == assigned.end()) return n;
  return "";
}

TEST(Plan, TheAssignedNodeWithoutACopyPullsFromLiveHolders) {
  const auto v = view(four_up());
  const auto a = v.assigned(kImage);
  ASSERT_EQ(a.size(), 3u);
  const auto img = image_on({a[0], a[1]});
  const Decision d = decide(img, v, a[2]);
  EXPECT_EQ(d.action, Action::pull);
  EXPECT_EQ(d.sources, (std::vector<std::string>{a[0], a[1]}));
  EXPECT_EQ(decide(img, v, a[0]).action, Action::none);  // holds its copy already
}

TEST(Plan, ExcessGoesOnlyOnceEveryAssignedNodeHoldsACopy) {
  const auto v = view(four_up());
  const auto a = v.assigned(kImage);
  const std::string spare = spare_of(a);
  // Two assigned copies and the spare: the spare must keep its copy (it may be needed as a source).
  EXPECT_EQ(decide(image_on({a[0], a[1], spare}), v, spare).action, Action::none);
  // All three assigned copies exist: now the spare's copy is excess.
  EXPECT_EQ(decide(image_on({a[0], a[1], a[2], spare}), v, spare).action, Action::remove);
}

TEST(Plan, ANodeDownWithinGraceKeepsItsSlotPastGraceLosesIt) {
  auto rows = four_up();
  const auto a = view(rows).assigned(kImage);
  for (auto& r : rows)
    if (r.name == a[0]) r = node(a[0], NodeState::down, 5min);
  const auto within = view(rows);
  EXPECT_EQ(within.assigned(kImage), a);  // still its slot: nobody copies yet
  EXPECT_FALSE(within.live(a[0]));        // but it serves nothing
  // ... and its copy does not count: the spare keeps its copy while a[0] is away.
  EXPECT_EQ(decide(image_on({a[0], a[1], a[2], spare_of(a)}), within, spare_of(a)).action, Action::none);
  for (auto& r : rows)
    if (r.name == a[0]) r = node(a[0], NodeState::down, 11min);
  const auto past = view(rows);
  EXPECT_NE(past.epoch(), within.epoch());  // placement changed: full scans
  const auto now_assigned = past.assigned(kImage);
  EXPECT_EQ(std::count(now_assigned.begin(), now_assigned.end(), a[0]), 0);
  std::string next;
  for (const auto& n : now_assigned)
    if (std::find(a.begin(), a.end(), n) == a.end()) next = n;
  const Decision d = decide(image_on({a[0], a[1], a[2]}), past, next);
  EXPECT_EQ(d.action, Action::pull);
  EXPECT_EQ(d.sources.size(), 2u);  // the dead node is no source
}

TEST(Plan, ADrainingNodeGivesUpItsCopyOnlyAfterTheOthersHoldThem) {
  auto rows = four_up();
  const auto a = view(rows).assigned(kImage);
  for (auto& r : rows)
    if (r.name == a[0]) r.state = NodeState::draining;
  const auto v = view(rows);
  const auto na = v.assigned(kImage);
  EXPECT_EQ(std::count(na.begin(), na.end(), a[0]), 0);
  EXPECT_EQ(decide(image_on({a[0], a[1], a[2]}), v, a[0]).action, Action::none);
  std::vector<std::string> all = na;
  all.push_back(a[0]);
  EXPECT_EQ(decide(image_on(all), v, a[0]).action, Action::remove);
  EXPECT_FALSE(v.in_place(image_on(all)));
  EXPECT_TRUE(v.in_place(image_on(na)));
}

TEST(Plan, NoRemovalWhenTheClusterIsSmallerThanR) {
  const auto v = view({node("n1"), node("n2")});
  // Both nodes hold a copy; nothing is excess and nothing to pull.
  EXPECT_EQ(decide(image_on({"n1", "n2"}), v, "n1").action, Action::none);
}

}  // namespace
}  // namespace glint::replicator
