// Distribution, stability, zone-spreading and eligibility tests for weighted rendezvous placement.
#include "shared/placement/placement.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <set>

namespace glint::placement {
namespace {

constexpr size_t kIds = 100'000;

// Reproducible UUID-shaped ids (the placement only hashes them; the shape keeps it realistic).
std::vector<std::string> make_ids(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> ids;
  ids.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    char buf[40];
    const uint64_t a = rng(), b = rng();
    std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                  static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                  static_cast<unsigned long long>(b & 0xffffffffffffULL));
    ids.emplace_back(buf);
  }
  return ids;
}

std::vector<Node> make_nodes(size_t n, const std::string& zone = "z1") {
  std::vector<Node> nodes;
  for (size_t i = 0; i < n; ++i) nodes.push_back(Node{"node-" + std::to_string(i), zone});
  return nodes;
}

std::map<std::string, std::string> zone_of(const std::vector<Node>& nodes) {
  std::map<std::string, std::string> z;
  for (const auto& n : nodes) z[n.name] = n.zone;
  return z;
}

TEST(Placement, EvenShareOnEqualNodes) {
  const auto nodes = make_nodes(10);
  std::map<std::string, size_t> count;
  for (const auto& id : make_ids(kIds, 1)) {
    const auto chosen = choose(nodes, id, 3);
    ASSERT_EQ(chosen.size(), 3u);
    EXPECT_EQ(std::set<std::string>(chosen.begin(), chosen.end()).size(), 3u) << "replicas must be distinct";
    for (const auto& n : chosen) ++count[n];
  }
  ASSERT_EQ(count.size(), 10u);
  const double even = kIds * 3.0 / 10.0;
  double lo = 1e9, hi = 0;
  for (const auto& [name, c] : count) {
    EXPECT_NEAR(c / even, 1.0, 0.10) << name;
    lo = std::min(lo, c / even);
    hi = std::max(hi, c / even);
  }
  std::printf("[measure] per-node share / even: min %.4f max %.4f\n", lo, hi);
}

TEST(Placement, AddingANodeMovesItsShareOnly) {
  constexpr size_t kR = 3;
  auto nodes = make_nodes(10);
  const auto ids = make_ids(kIds, 2);
  std::vector<std::vector<std::string>> before;
  before.reserve(ids.size());
  for (const auto& id : ids) before.push_back(choose(nodes, id, kR));
  nodes.push_back(Node{"node-10", "z1"});

  size_t moved_slots = 0, changed_ids = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto after = choose(nodes, ids[i], kR);
    const std::set<std::string> a(after.begin(), after.end());
    size_t gone = 0;
    for (const auto& n : before[i]) gone += a.count(n) == 0 ? 1 : 0;
    moved_slots += gone;
    if (gone > 0) {
      ++changed_ids;
      // Minimal disruption: replicas only ever move to the new node, never between old nodes.
      EXPECT_EQ(a.count("node-10"), 1u);
      EXPECT_EQ(gone, 1u);
    }
  }
  // The new node should own R/(N+1) of all replica slots: that many ids change, each losing one
  // old replica, so the moved fraction of slots is 1/(N+1) and the changed fraction of ids R/(N+1).
  const double slot_fraction = static_cast<double>(moved_slots) / (ids.size() * kR);
  const double id_fraction = static_cast<double>(changed_ids) / ids.size();
  std::printf("[measure] moved replica slots %.4f (ideal %.4f); ids changed %.4f (ideal %.4f)\n", slot_fraction,
              1.0 / 11, id_fraction, 3.0 / 11);
  EXPECT_NEAR(slot_fraction / (1.0 / 11), 1.0, 0.05);
  EXPECT_NEAR(id_fraction / (3.0 / 11), 1.0, 0.05);
}

TEST(Placement, ThreeZonesAlwaysSpanned) {
  std::vector<Node> nodes;
  for (const char* z : {"a", "b", "c"}) {
    for (int i = 0; i < 3; ++i) nodes.push_back(Node{std::string(z) + std::to_string(i), z});
  }
  const auto zones = zone_of(nodes);
  for (const auto& id : make_ids(20'000, 3)) {
    const auto chosen = choose(nodes, id, 3);
    std::set<std::string> used;
    for (const auto& n : chosen) used.insert(zones.at(n));
    ASSERT_EQ(used.size(), 3u) << id;
  }
}

TEST(Placement, TwoZonesBothUsedWithR3) {
  std::vector<Node> nodes;
  for (int i = 0; i < 4; ++i) nodes.push_back(Node{"a" + std::to_string(i), "a"});
  for (int i = 0; i < 2; ++i) nodes.push_back(Node{"b" + std::to_string(i), "b"});
  const auto zones = zone_of(nodes);
  for (const auto& id : make_ids(20'000, 4)) {
    const auto chosen = choose(nodes, id, 3);
    ASSERT_EQ(chosen.size(), 3u);
    ASSERT_EQ(std::set<std::string>(chosen.begin(), chosen.end()).size(), 3u);
    std::set<std::string> used;
    for (const auto& n : chosen) used.insert(zones.at(n));
    ASSERT_EQ(used.size(), 2u) << id;
  }
}

TEST(Placement, WeightTwoGetsDoubleShare) {
  auto nodes = make_nodes(5);
  nodes[2].weight = 2.0;
  std::map<std::string, size_t> count;
  for (const auto& id : make_ids(kIds, 5)) ++count[choose(nodes, id, 1).at(0)];
  const double total_weight = 6.0;
  for (const auto& n : nodes) {
    const double expect = kIds * n.weight / total_weight;
    EXPECT_NEAR(count[n.name] / expect, 1.0, 0.10) << n.name;
  }
  const double ratio = count["node-2"] / ((kIds - count["node-2"]) / 4.0);
  std::printf("[measure] weight-2 node share ratio vs weight-1 mean: %.4f\n", ratio);
  EXPECT_NEAR(ratio, 2.0, 0.2);
}

TEST(Placement, IneligibleNodesNeverChosen) {
  auto nodes = make_nodes(8);
  nodes[1].state = NodeState::down;
  nodes[2].state = NodeState::draining;
  nodes[3].full = true;
  nodes[4].weight = 0;
  nodes[5].weight = -1;
  nodes[6].weight = std::nan("");
  const std::set<std::string> bad = {"node-1", "node-2", "node-3", "node-4", "node-5", "node-6"};
  for (const auto& id : make_ids(5'000, 6)) {
    const auto ranked = rank(nodes, id);
    ASSERT_EQ(ranked.size(), 2u);
    for (const auto& n : ranked) ASSERT_EQ(bad.count(n), 0u) << n;
  }
}

TEST(Placement, FewerEligibleThanR) {
  auto nodes = make_nodes(3);
  nodes[0].state = NodeState::down;
  EXPECT_EQ(choose(nodes, "x", 3).size(), 2u);
  EXPECT_TRUE(choose({}, "x", 3).empty());
  EXPECT_TRUE(choose(nodes, "x", 0).empty());
}

TEST(Placement, DeterministicAndOrderIndependent) {
  std::vector<Node> nodes;
  for (int i = 0; i < 12; ++i) nodes.push_back(Node{"n" + std::to_string(i), "z" + std::to_string(i % 4), 1.0 + i % 3});
  std::mt19937_64 rng(9);
  for (const auto& id : make_ids(2'000, 7)) {
    const auto expect = rank(nodes, id);
    EXPECT_EQ(rank(nodes, id), expect);
    auto shuffled = nodes;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    ASSERT_EQ(rank(shuffled, id), expect) << id;
  }
}

TEST(Placement, DuplicateNodeListedOnce) {
  auto nodes = make_nodes(3);
  nodes.push_back(nodes[0]);
  for (const auto& id : make_ids(1'000, 8)) {
    const auto ranked = rank(nodes, id);
    ASSERT_EQ(ranked.size(), 3u);
    ASSERT_EQ(std::set<std::string>(ranked.begin(), ranked.end()).size(), 3u);
  }
}

}  // namespace
}  // namespace glint::placement
