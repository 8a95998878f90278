// The cluster model's rules (shared/placement/cluster_view.hpp): liveness from state and
// heartbeat, slots and the grace period, draining, upload targets, read order, and the rule that
// protects the last good copy, checked over every combination of node states.
#include "shared/placement/cluster_view.hpp"

#include <algorithm>
#include <gtest/gtest.h>

#include "tests/support/rows.hpp"

namespace glint::placement {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

const Clock::time_point kNow = Clock::time_point(std::chrono::hours(500000));
const std::string kImage = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

// How a node looks in the table.
enum class Looks { up, recently_down, silent, long_down, draining, silent_draining };

db::NodeRow node(const std::string& name, Looks how = Looks::up) {
  db::NodeRow n;
  n.name = name;
  n.zone = "z-" + name;
  n.address = "127.0.0.1:1";
  n.last_heartbeat = kNow - 1s;
  n.state_since = kNow - 1h;
  switch (how) {
    case Looks::up: break;
    case Looks::recently_down:  // marked down 5 minutes ago: keeps its slot, serves nothing
      n.state = NodeState::down;
      n.state_since = kNow - 5min;
      n.last_heartbeat = kNow - 6min;
      break;
    case Looks::silent:  // still "up" in the table, but no heartbeat for 2 minutes
      n.last_heartbeat = kNow - 2min;
      break;
    case Looks::long_down:
      n.state = NodeState::down;
      n.state_since = kNow - 11min;
      n.last_heartbeat = kNow - 12min;
      break;
    case Looks::draining: n.state = NodeState::draining; break;
    case Looks::silent_draining:
      n.state = NodeState::draining;
      n.last_heartbeat = kNow - 2min;
      break;
  }
  return n;
}

ViewOptions opts(std::string generation = "") {
  ViewOptions o;
  o.replicas = 3;
  o.heartbeat_timeout = 30s;
  o.slot_grace = 10min;
  o.generation = std::move(generation);
  return o;
}

db::ImageCopies image_on(const std::vector<std::string>& ok_nodes) { return testing::image_on(kImage, ok_nodes); }

TEST(ClusterView, LivenessNeedsAFreshHeartbeatAndAServingState) {
  ClusterView v({node("up"), node("rd", Looks::recently_down), node("si", Looks::silent),
                 node("dr", Looks::draining), node("sd", Looks::silent_draining)},
                kNow, opts());
  EXPECT_TRUE(v.live("up"));
  EXPECT_FALSE(v.live("rd"));
  EXPECT_FALSE(v.live("si"));  // the coordinator may not have marked it yet: not trusted anyway
  EXPECT_TRUE(v.live("dr"));   // a draining node still serves
  EXPECT_FALSE(v.live("sd"));
  EXPECT_FALSE(v.live("unknown"));
  EXPECT_TRUE(v.writable("up"));
  EXPECT_FALSE(v.writable("dr"));  // takes nothing new
  EXPECT_FALSE(v.writable("si"));
}

// Heartbeats are stamped by the database; their age is judged on the database's clock (read_at),
// so a worker whose own clock runs an hour behind still sees a silent node as dead.
TEST(ClusterView, LivenessIsJudgedOnTheDatabasesClockNotTheWorkers) {
  auto fresh = node("f");
  auto silent = node("s", Looks::silent);
  fresh.read_at = silent.read_at = kNow;
  const ClusterView behind({fresh, silent}, kNow - 1h, opts());
  EXPECT_TRUE(behind.live("f"));
  EXPECT_FALSE(behind.live("s"));
  const ClusterView ahead({fresh, silent}, kNow + 1h, opts());
  EXPECT_TRUE(ahead.live("f"));
  EXPECT_TRUE(ClusterView::heartbeat_fresh(fresh, kNow + 1h, 30s));
  EXPECT_FALSE(ClusterView::heartbeat_fresh(silent, kNow - 1h, 30s));
}

TEST(ClusterView, SlotsSurviveAShortOutageButNotALongOneOrADrain) {
  ClusterView v({node("up"), node("rd", Looks::recently_down), node("si", Looks::silent),
                 node("ld", Looks::long_down), node("dr", Looks::draining)},
                kNow, opts());
  EXPECT_TRUE(v.holds_slot("up"));
  EXPECT_TRUE(v.holds_slot("rd"));
  EXPECT_TRUE(v.holds_slot("si"));
  EXPECT_FALSE(v.holds_slot("ld"));
  EXPECT_FALSE(v.holds_slot("dr"));
  // A node silent for longer than the grace period loses its slot even if nobody marked it down.
  auto gone = node("si2", Looks::silent);
  gone.last_heartbeat = kNow - 20min;
  EXPECT_FALSE(ClusterView({gone}, kNow, opts()).holds_slot("si2"));
}

TEST(ClusterView, UploadsGoToWritableNodesReadsPreferLiveOnes) {
  ClusterView v({node("n1"), node("n2", Looks::recently_down), node("n3"), node("n4", Looks::draining)}, kNow, opts());
  const auto t = v.upload_targets(kImage, 3);
  EXPECT_EQ(t.size(), 2u);
  for (const auto& n : t) EXPECT_TRUE(n == "n1" || n == "n3");
  const auto order = v.read_order(kImage, image_on({"n1", "n2", "n4"}).replicas);
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order.back(), "n2");  // the down node only as a last resort
  const auto src = v.live_sources(kImage, image_on({"n1", "n2", "n4"}).replicas);
  EXPECT_EQ(src.size(), 2u);
  EXPECT_EQ(std::count(src.begin(), src.end(), "n2"), 0);
}

// The case that lost copies: a rebalance with two assigned nodes down within the grace period.
// Their ok rows must not count, so the excess holder keeps the one live copy besides its own.
TEST(ClusterView, TwoAssignedNodesDownWithinGraceKeepTheExcessCopy) {
  std::vector<db::NodeRow> rows = {node("n1"), node("n2"), node("n3"), node("n4"), node("n5")};
  const auto a = ClusterView(rows, kNow, opts()).assigned(kImage);
  std::string spare;
  for (const auto& r : rows)
    if (std::find(a.begin(), a.end(), r.name) == a.end()) spare = r.name;
  for (auto& r : rows)
    if (r.name == a[0] || r.name == a[1]) r = node(r.name, Looks::recently_down);
  const ClusterView v(rows, kNow, opts());
  ASSERT_EQ(v.assigned(kImage), a);  // they keep their slots
  const auto img = image_on({a[0], a[1], a[2], spare});
  EXPECT_EQ(v.live_assigned_ok(img), 1u);
  EXPECT_FALSE(v.may_remove_excess(img, spare));
  // Silent instead of marked down: the same.
  for (auto& r : rows)
    if (r.name == a[0] || r.name == a[1]) r = node(r.name, Looks::silent);
  EXPECT_FALSE(ClusterView(rows, kNow, opts()).may_remove_excess(img, spare));
}

// Every combination of states for five nodes, every holder, copies everywhere: whenever a copy
// may be removed, R ok copies on live nodes remain without it; when every node is up, excess does go.
TEST(ClusterView, ExcessRemovalNeverLeavesFewerThanRLiveCopies) {
  const std::vector<Looks> kinds = {Looks::up, Looks::recently_down, Looks::silent, Looks::long_down,
                                    Looks::draining, Looks::silent_draining};
  const std::vector<std::string> names = {"n1", "n2", "n3", "n4", "n5"};
  size_t combos = 0, allowed = 0;
  std::vector<size_t> pick(names.size(), 0);
  for (;;) {
    std::vector<db::NodeRow> rows;
    for (size_t i = 0; i < names.size(); ++i) rows.push_back(node(names[i], kinds[pick[i]]));
    const ClusterView v(rows, kNow, opts());
    for (size_t mask = 1; mask < (1u << names.size()); ++mask) {
      std::vector<std::string> holders;
      for (size_t i = 0; i < names.size(); ++i)
        if (mask & (1u << i)) holders.push_back(names[i]);
      const auto img = image_on(holders);
      for (const auto& h : holders) {
        ++combos;
        if (!v.may_remove_excess(img, h)) continue;
        ++allowed;
        size_t live_left = 0;
        for (const auto& o : holders) live_left += o != h && v.live(o);
        ASSERT_GE(live_left, 3u) << "holder " << h << " mask " << mask;
        const auto a = v.assigned(kImage);
        ASSERT_EQ(std::count(a.begin(), a.end(), h), 0);  // never an assigned copy
      }
    }
    size_t i = 0;
    while (i < pick.size() && ++pick[i] == kinds.size()) pick[i++] = 0;
    if (i == pick.size()) break;
  }
  EXPECT_GT(allowed, 0u);
  EXPECT_EQ(combos, 7776u * 80u);  // 6^5 state combinations x 80 (holder set, holder) pairs
  // All up and every node holding a copy: the two unassigned copies are excess.
  std::vector<db::NodeRow> up;
  for (const auto& n : names) up.push_back(node(n));
  const ClusterView v(up, kNow, opts());
  const auto img = image_on(names);
  size_t removable = 0;
  for (const auto& n : names) removable += v.may_remove_excess(img, n);
  EXPECT_EQ(removable, 2u);
}

TEST(ClusterView, NoRemovalWhenTheClusterIsSmallerThanR) {
  const ClusterView v({node("n1"), node("n2")}, kNow, opts());
  EXPECT_FALSE(v.may_remove_excess(image_on({"n1", "n2"}), "n1"));
}

TEST(ClusterView, EpochChangesWithWhatCanChangeADecision) {
  const std::vector<db::NodeRow> four = {node("n1"), node("n2"), node("n3"), node("n4")};
  const auto base = ClusterView(four, kNow, opts()).epoch();
  EXPECT_EQ(ClusterView(four, kNow + 1s, opts()).epoch(), base);
  EXPECT_NE(ClusterView(four, kNow, opts("g2")).epoch(), base);
  auto rows = four;
  rows[1].weight = 2;
  EXPECT_NE(ClusterView(rows, kNow, opts()).epoch(), base);
  rows = four;
  rows.push_back(node("n5"));
  EXPECT_NE(ClusterView(rows, kNow, opts()).epoch(), base);
  rows = four;
  rows[2] = node("n3", Looks::recently_down);  // keeps its slot, but its copies stop counting
  EXPECT_NE(ClusterView(rows, kNow, opts()).epoch(), base);
  rows[2] = node("n3", Looks::draining);
  EXPECT_NE(ClusterView(rows, kNow, opts()).epoch(), base);
}

}  // namespace
}  // namespace glint::placement
