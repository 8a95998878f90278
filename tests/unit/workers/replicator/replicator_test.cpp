// The Replicator class over in-memory fakes (tests/sim/healing_cluster): pulls, excess removal,
// a PUT that meets bytes already there (adopted when right, replaced after proof otherwise, never
// deleted first), an image deleted during a copy, lost races, the change feed with late commits,
// the safety full scan and a stalled drain.
#include "workers/replicator/replicator.hpp"

#include <gtest/gtest.h>

#include "tests/sim/healing_cluster.hpp"

namespace glint::replicator {
namespace {

using namespace std::chrono_literals;

class ReplicatorTest : public ::testing::Test {
 protected:
  ReplicatorTest() {
    for (int i = 0; i < 4; ++i) c_.add_node();
  }
  std::vector<std::string> assigned(const std::string& id) { return c_.view().assigned(id); }
  std::string spare(const std::string& id) {
    const auto a = assigned(id);
    for (const auto& n : c_.node_names())
      if (std::find(a.begin(), a.end(), n) == a.end()) return n;
    return "";
  }
  std::string state(const std::string& id, const std::string& node) { return c_.catalog.replicas.state(id, node); }
  worker::PassResult pass(const std::string& node) {
    auto r = c_.replicate(node);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : worker::PassResult{};
  }
  double counter(const std::string& name) {
    const std::string text = c_.metrics.render();
    const auto at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
  }

  sim::HealingCluster c_;
};

TEST_F(ReplicatorTest, AnAssignedNodePullsTheMissingCopyFromALiveHolder) {
  const std::string probe = c_.next_image_id();
  const auto a = assigned(probe);
  const std::string id = c_.add_image(10000, {a[0], a[1]});
  const auto r = pass(a[2]);
  EXPECT_EQ(r.items, 1u);
  EXPECT_EQ(state(id, a[2]), "ok");
  EXPECT_TRUE(c_.intact(a[2], id));
  EXPECT_EQ(pass(a[0]).items, 0u);  // holds its copy already
}

TEST_F(ReplicatorTest, ExcessGoesOnlyWhileRLiveAssignedCopiesExist) {
  const std::string probe = c_.next_image_id();
  const auto a = assigned(probe);
  const std::string s = spare(probe);
  const std::string id = c_.add_image(5000, {a[0], a[1], a[2], s});
  // Two assigned nodes go silent: they keep their slots (grace), but their copies cannot serve.
  c_.crash(a[0]);
  c_.crash(a[1]);
  c_.clock.advance(60s);
  c_.heartbeats();
  pass(s);
  EXPECT_EQ(state(id, s), "ok");
  EXPECT_TRUE(c_.intact(s, id)) << "the spare's copy is one of only two that can be read";
  c_.restore(a[0]);
  c_.restore(a[1]);
  c_.heartbeats();
  pass(s);
  EXPECT_EQ(state(id, s), "none");
  EXPECT_FALSE(c_.stores[s]->bytes(id).has_value());
}

// A store quarantined one of the counted copies without the database knowing: the excess copy
// stays, and the vanished one is recorded missing so it is repaired.
TEST_F(ReplicatorTest, ExcessStaysWhenACountedCopyIsNotReallyThere) {
  const auto a = assigned(c_.next_image_id());
  std::string s;
  for (const auto& n : c_.node_names())
    if (std::find(a.begin(), a.end(), n) == a.end()) s = n;
  const std::string id = c_.add_image(5000, {a[0], a[1], a[2], s});
  ASSERT_TRUE(c_.stores[a[1]]->quarantine(id, "found corrupt by a read").ok());
  pass(s);
  EXPECT_EQ(state(id, s), "ok");
  EXPECT_TRUE(c_.intact(s, id));
  EXPECT_EQ(state(id, a[1]), "missing");
}

TEST_F(ReplicatorTest, BytesAlreadyHereAndRightAreAdoptedNotCopiedAgain) {
  const std::string probe = c_.next_image_id();
  const auto a = assigned(probe);
  const std::string id = c_.add_image(9000, {a[0], a[1], a[2]});
  ASSERT_TRUE(c_.catalog.replicas.forget(id, a[2]).ok());  // the row is lost, the bytes are not
  pass(a[2]);
  EXPECT_EQ(state(id, a[2]), "ok");
  EXPECT_TRUE(c_.intact(a[2], id));
  EXPECT_TRUE(c_.stores[a[2]]->quarantined().empty());
}

// Bytes whose sidecar matches but whose blocks do not: never counted on the sidecar's word. The
// full read finds them bad (the node quarantines them) and a fresh copy is made instead.
TEST_F(ReplicatorTest, BytesAlreadyHereAreAdoptedOnlyAfterAFullVerifiedRead) {
  const auto a = assigned(c_.next_image_id());
  const std::string id = c_.add_image(9000, {a[0], a[1], a[2]});
  ASSERT_TRUE(c_.catalog.replicas.forget(id, a[2]).ok());
  ASSERT_TRUE(c_.stores[a[2]]->flip_byte(id, 7000));
  pass(a[2]);
  EXPECT_EQ(state(id, a[2]), "ok");
  EXPECT_TRUE(c_.intact(a[2], id)) << "a copy with a bad block was counted";
  EXPECT_EQ(c_.stores[a[2]]->quarantined().size(), 1u);
}

// The case that lost the last good copy: the local bytes are the only intact ones, their row says
// missing, the other copies are bad but still recorded ok. A 409 used to delete the local bytes
// first, then find no source that could deliver.
TEST_F(ReplicatorTest, TheOnlyIntactCopyIsNeverDeletedToMakeRoomForAPull) {
  const std::string probe = c_.next_image_id();
  const auto a = assigned(probe);
  const std::string id = c_.add_image(20000, {a[0], a[1], a[2]});
  const auto rows = *c_.catalog.replicas.for_image(id);
  for (const auto& r : rows) {
    if (r.node == a[2]) {
      ASSERT_TRUE(c_.catalog.replicas.set_state(r, ReplicaState::missing).ok());
    }
  }
  ASSERT_TRUE(c_.stores[a[0]]->flip_byte(id, 100));
  ASSERT_TRUE(c_.stores[a[1]]->flip_byte(id, 9000));
  pass(a[2]);
  EXPECT_TRUE(c_.intact(a[2], id));
  EXPECT_EQ(state(id, a[2]), "ok");
  EXPECT_EQ(c_.intact_copies(id), 1u);
}

TEST_F(ReplicatorTest, OtherBytesAreReplacedOnlyAfterTheNewCopyIsProven) {
  const std::string probe = c_.next_image_id();
  const auto a = assigned(probe);
  const std::string id = c_.add_image(6000, {a[0], a[1]});
  // A leftover with other bytes under the image's id on a[2] (e.g. a broken old upload).
  auto w = c_.stores[a[2]]->create(id, 3);
  ASSERT_TRUE((*w)->write(hash::as_bytes("old")).ok());
  ASSERT_TRUE((*w)->commit().ok());
  pass(a[2]);
  EXPECT_TRUE(c_.intact(a[2], id));
  EXPECT_EQ(state(id, a[2]), "ok");
  const auto q = c_.stores[a[2]]->quarantined();
  ASSERT_EQ(q.size(), 1u);  // the old bytes are kept aside, never deleted
  EXPECT_EQ(q[0].second, "replaced by a verified copy");
  // Sources that cannot deliver the right bytes: the leftover stays where it is.
  const auto b = assigned(c_.next_image_id());
  const std::string id2 = c_.add_image(6000, {b[0], b[1]});
  auto w2 = c_.stores[b[2]]->create(id2, 3);
  ASSERT_TRUE((*w2)->write(hash::as_bytes("old")).ok());
  ASSERT_TRUE((*w2)->commit().ok());
  const size_t quarantined_before = c_.stores[b[2]]->quarantined().size();
  c_.crash(b[0]);
  c_.crash(b[1]);
  pass(b[2]);
  EXPECT_EQ(c_.stores[b[2]]->bytes(id2).value_or(""), "old");
  EXPECT_EQ(c_.stores[b[2]]->quarantined().size(), quarantined_before);
}

TEST_F(ReplicatorTest, AnImageDeletedDuringTheCopyGetsNoRowAndTheCopyIsRemoved) {
  const std::string probe = c_.next_image_id();
  const auto a = assigned(probe);
  const std::string id = c_.add_image(7000, {a[0], a[1]});
  c_.peer.before = [&](const std::string& op, const std::string& node, const std::string&) {
    if (op == "put" && node == a[2]) c_.catalog.set_status(id, ImageStatus::deleted);
  };
  pass(a[2]);
  EXPECT_EQ(state(id, a[2]), "none");
  EXPECT_FALSE(c_.stores[a[2]]->bytes(id).has_value());
}

TEST_F(ReplicatorTest, ALostRaceIsCountedAndNeverAnOverwrite) {
  const std::string probe = c_.next_image_id();
  const auto a = assigned(probe);
  const std::string id = c_.add_image(7000, {a[0], a[1]});
  // While a[2] copies, another writer records a row for a[2] (e.g. an excess marker).
  c_.peer.before = [&](const std::string& op, const std::string& node, const std::string&) {
    if (op == "put" && node == a[2]) (void)c_.catalog.replicas.mark_excess(id, a[2]);
  };
  pass(a[2]);
  c_.peer.before = nullptr;
  EXPECT_EQ(state(id, a[2]), "excess");
  EXPECT_EQ(counter("glint_replicator_races_lost_total"), 1);
}

TEST_F(ReplicatorTest, IdlePassesReadOnlyTheFeedAndAFullScanComesAtTheSafetyInterval) {
  const std::string probe = c_.next_image_id();
  const auto a = assigned(probe);
  c_.add_image(4000, {a[0], a[1], a[2]});
  EXPECT_EQ(pass(a[0]).summary.rfind("full", 0), 0u);  // first pass: no checkpoint
  EXPECT_EQ(pass(a[0]).summary.rfind("changes scanned=0", 0), 0u);
  c_.clock.advance(25h);
  c_.heartbeats();
  EXPECT_EQ(pass(a[0]).summary.rfind("full", 0), 0u);  // [replicator] full_scan_interval
}

// A writer takes its feed position, another commits after it first; the reader must wait for the
// first instead of moving past it for ever.
TEST_F(ReplicatorTest, AChangeCommittedLateIsStillSeen) {
  const auto a = assigned(c_.next_image_id());
  const std::string late = c_.add_image(4000, {a[0], a[1], a[2]});
  const auto b = assigned(c_.next_image_id());
  const std::string early = c_.add_image(4000, {b[0], b[1], b[2]});
  for (const auto& n : c_.node_names()) pass(n);  // full scans: nothing to do
  int delays = 0;
  c_.catalog.commit_delay = [&] { return delays++ == 0 ? 3 : 0; };  // the first change commits late
  ASSERT_TRUE(c_.catalog.replicas.forget(late, a[2]).ok());
  c_.stores[a[2]]->lose(late);
  ASSERT_TRUE(c_.catalog.replicas.forget(early, b[2]).ok());
  c_.stores[b[2]]->lose(early);
  pass(a[2]);
  pass(b[2]);  // nothing settled yet: the late writer holds everything after it back
  EXPECT_EQ(state(early, b[2]), "none");
  for (int i = 0; i < 3; ++i) c_.catalog.tick();
  pass(a[2]);
  pass(b[2]);
  EXPECT_EQ(state(late, a[2]), "ok");
  EXPECT_EQ(state(early, b[2]), "ok");
}

// A catalog restored from an older backup: every copy agrees with the others, none with the
// catalog's os_hash. The repair job flags the image and changes no copy.
TEST_F(ReplicatorTest, RepairFlagsAnImageWhoseCopiesAgreeButNotTheCatalog) {
  const auto a = assigned(c_.next_image_id());
  const std::string id = c_.add_image(9000, {a[0], a[1], a[2]});
  c_.catalog.set_os_hash(id, std::string(128, '0'));
  worker::PassContext ctx;
  ctx.job_target = JobTarget::image(id);
  auto r = c_.replicate(a[0], ctx);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->summary.find("flagged"), std::string::npos) << r->summary;
  EXPECT_TRUE(*c_.catalog.heal().is_flagged(id));
  for (const auto& n : a) {
    EXPECT_EQ(state(id, n), "ok");
    EXPECT_TRUE(c_.intact(n, id));
  }
  EXPECT_EQ(counter("glint_replicator_images_flagged_total"), 1);
}

// One copy with other bytes while two match the catalog: only that one is marked corrupt.
TEST_F(ReplicatorTest, RepairBlamesOnlyTheCopyThatDisagreesWithTheOthersAndTheCatalog) {
  const auto a = assigned(c_.next_image_id());
  const std::string id = c_.add_image(9000, {a[0], a[1]});
  // a[2] holds self-consistent bytes of the right size that are not the image's, recorded ok.
  std::string other(9000, 'x');
  auto w = c_.stores[a[2]]->create(id, other.size());
  ASSERT_TRUE((*w)->write(hash::as_bytes(other)).ok());
  ASSERT_TRUE((*w)->commit().ok());
  const auto rows = *c_.catalog.replicas.for_image(id);
  db::ReplicaRow r = rows[0];
  r.node = a[2];
  (void)c_.catalog.replicas.record_copy(r, std::nullopt);  // the catalog's digest, other bytes
  worker::PassContext ctx;
  ctx.job_target = JobTarget::image(id);
  auto result = c_.replicate(a[0], ctx);
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(*c_.catalog.heal().is_flagged(id));
  EXPECT_EQ(state(id, a[0]), "ok");
  EXPECT_EQ(state(id, a[1]), "ok");
  EXPECT_EQ(state(id, a[2]), "corrupt");
  pass(a[2]);  // its own replicator replaces the bad bytes through a verified swap
  EXPECT_EQ(state(id, a[2]), "ok");
  EXPECT_TRUE(c_.intact(a[2], id));
}

TEST_F(ReplicatorTest, ADrainThatStopsProgressingMakesEveryReplicatorScan) {
  const std::string probe = c_.next_image_id();
  const auto a = assigned(probe);
  c_.add_image(3000, {a[0], a[1], a[2]});
  ASSERT_TRUE(c_.set_state(a[0], NodeState::draining).ok());
  const std::string before = *c_.catalog.heal().placement_generation();
  // Nobody else runs, so a[0] waits for ever; after stall_polls polls it rings every replicator.
  worker::StopSource stop;
  int polls = 0;
  worker::PassContext ctx;
  ctx.stop = stop.token();
  ctx.job_target = JobTarget::node(a[0], true);
  ctx.progress = [&](uint64_t, uint64_t) {
    if (++polls == 6) stop.stop();
  };
  (void)c_.replicate(a[0], ctx);
  EXPECT_NE(*c_.catalog.heal().placement_generation(), before);
  EXPECT_EQ(counter("glint_replicator_job_stalls_total"), 1);
}

}  // namespace
}  // namespace glint::replicator
