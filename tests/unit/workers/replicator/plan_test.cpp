// Replicator decisions on in-memory rows: which node pulls, who may serve, when an excess copy may
// go (never before R verified copies sit on assigned nodes), nodes down within and past the grace
// period, draining nodes, and the cluster epoch that triggers full scans.
#include "workers/replicator/plan.hpp"

#include <gtest/gtest.h>

namespace glint::replicator {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

const Clock::time_point kNow = Clock::time_point(std::chrono::hours(500000));

db::NodeRow node(const std::string& name, const std::string& state = "up", std::chrono::minutes down_for = 0min) {
  db::NodeRow n;
  n.name = name;
  n.zone = "z-" + name;
  n.state = state;
  n.state_since = kNow - down_for;
  return n;
}

std::vector<db::NodeRow> four_up() { return {node("n1"), node("n2"), node("n3"), node("n4")}; }

db::ImageCopies image_on(const std::vector<std::string>& ok_nodes) {
  db::ImageCopies img;
  img.id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
  img.status = "active";
  img.size = 10;
  for (const auto& n : ok_nodes) {
    db::ReplicaRow r;
    r.image_id = img.id;
    r.node = n;
    r.state = "ok";
    r.digest = "d";
    img.replicas.push_back(r);
  }
  return img;
}

// The nodes placement assigns the sample image among four up nodes, in order.
std::vector<std::string> assigned(const ClusterView& v) {
  return placement::choose(v.placement, "3f2504e0-4f89-41d3-9a0c-0305e82c3301", 3);
}

TEST(Plan, TheAssignedNodeWithoutACopyPullsFromLiveHolders) {
  const auto v = view_of(four_up(), kNow, 10min, 3, "");
  const auto a = assigned(v);
  ASSERT_EQ(a.size(), 3u);
  const auto img = image_on({a[0], a[1]});
  const Decision d = decide(img, v, a[2], 3);
  EXPECT_EQ(d.action, Action::pull);
  EXPECT_EQ(d.sources, (std::vector<std::string>{a[0], a[1]}));
  EXPECT_EQ(decide(img, v, a[0], 3).action, Action::none);  // holds its copy already
}

TEST(Plan, ExcessGoesOnlyOnceEveryAssignedNodeHoldsACopy) {
  const auto v = view_of(four_up(), kNow, 10min, 3, "");
  const auto a = assigned(v);
  std::string spare;
  for (const auto& n : {"n1", "n2", "n3", "n4"})
    if (std::find(a.begin(), a.end(), n) == a.end()) spare = n;
  // Two assigned copies and the spare: the spare must keep its copy (it may be needed as a source).
  EXPECT_EQ(decide(image_on({a[0], a[1], spare}), v, spare, 3).action, Action::none);
  // All three assigned copies exist: now the spare's copy is excess.
  EXPECT_EQ(decide(image_on({a[0], a[1], a[2], spare}), v, spare, 3).action, Action::remove);
}

TEST(Plan, ANodeDownWithinGraceKeepsItsSlotPastGraceLosesIt) {
  auto rows = four_up();
  const auto a = assigned(view_of(rows, kNow, 10min, 3, ""));
  for (auto& r : rows)
    if (r.name == a[0]) r = node(a[0], "down", 5min);
  const auto within = view_of(rows, kNow, 10min, 3, "");
  EXPECT_EQ(assigned(within), a);             // still its slot: nobody copies yet
  EXPECT_FALSE(within.live.count(a[0]));      // but it serves nothing
  for (auto& r : rows)
    if (r.name == a[0]) r = node(a[0], "down", 11min);
  const auto past = view_of(rows, kNow, 10min, 3, "");
  EXPECT_NE(past.epoch, within.epoch);        // placement changed: full scans
  const auto now_assigned = assigned(past);
  EXPECT_EQ(std::count(now_assigned.begin(), now_assigned.end(), a[0]), 0);
  std::string next;
  for (const auto& n : now_assigned)
    if (std::find(a.begin(), a.end(), n) == a.end()) next = n;
  const Decision d = decide(image_on({a[0], a[1], a[2]}), past, next, 3);
  EXPECT_EQ(d.action, Action::pull);
  EXPECT_EQ(d.sources.size(), 2u);  // the dead node is no source
}

TEST(Plan, ADrainingNodeGivesUpItsCopyOnlyAfterTheOthersHoldThem) {
  auto rows = four_up();
  const auto a = assigned(view_of(rows, kNow, 10min, 3, ""));
  for (auto& r : rows)
    if (r.name == a[0]) r.state = "draining";
  const auto v = view_of(rows, kNow, 10min, 3, "");
  const auto na = assigned(v);
  EXPECT_EQ(std::count(na.begin(), na.end(), a[0]), 0);
  EXPECT_EQ(decide(image_on({a[0], a[1], a[2]}), v, a[0], 3).action, Action::none);
  std::vector<std::string> all = na;
  all.push_back(a[0]);
  EXPECT_EQ(decide(image_on(all), v, a[0], 3).action, Action::remove);
  EXPECT_FALSE(in_place(image_on(all), v, 3));
  EXPECT_TRUE(in_place(image_on(na), v, 3));
}

TEST(Plan, NoRemovalWhenTheClusterIsSmallerThanR) {
  const auto v = view_of({node("n1"), node("n2")}, kNow, 10min, 3, "");
  // Both nodes hold a copy; nothing is excess and nothing to pull.
  EXPECT_EQ(decide(image_on({"n1", "n2"}), v, "n1", 3).action, Action::none);
}

TEST(Plan, EpochChangesWithMembershipWeightsAndGenerationOnly) {
  const auto base = view_of(four_up(), kNow, 10min, 3, "");
  EXPECT_EQ(view_of(four_up(), kNow + 1h, 10min, 3, "").epoch, base.epoch);
  EXPECT_NE(view_of(four_up(), kNow, 10min, 3, "g2").epoch, base.epoch);
  auto rows = four_up();
  rows[1].weight = 2;
  EXPECT_NE(view_of(rows, kNow, 10min, 3, "").epoch, base.epoch);
  rows = four_up();
  rows.push_back(node("n5"));
  EXPECT_NE(view_of(rows, kNow, 10min, 3, "").epoch, base.epoch);
}

}  // namespace
}  // namespace glint::replicator
