// The journal: frames survive a round trip, damage is skipped and counted; appends replay in order,
// once, with progress kept; a database outage stops a replay and leaves the rest pending; a record
// that keeps failing is quarantined; a torn tail after a crash is skipped; and the journaled
// repositories keep a write the database missed and replay it as the same compare-and-set.
#include "shared/journal/journal.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "shared/journal/journaled.hpp"
#include "shared/journal/replay.hpp"
#include "tests/support/fake_catalog.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/support/fake_cluster.hpp"
#include "tests/support/process.hpp"

namespace glint::journal {
namespace {

namespace fs = std::filesystem;

// Applies by recording; answers what `answer` says for a sequence number (ok by default).
class RecordingApplier final : public Applier {
 public:
  Status apply(const Record& r) override {
    if (answer) {
      Status s = answer(r);
      if (!s) return s;
    }
    seen.push_back(r.body.at("n").get<int>());
    return {};
  }
  std::function<Status(const Record&)> answer;
  std::vector<int> seen;
};

class Passes final : public db::WorkerPassRepository {
 public:
  Status record(const db::WorkerPassRow& r) override {
    rows.push_back(r);
    return {};
  }
  Expected<std::vector<db::WorkerPassRow>> list() override { return rows; }
  std::vector<db::WorkerPassRow> rows;
};

std::vector<fs::path> journal_files(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".jnl") out.push_back(e.path());
  return out;
}

class JournalTest : public ::testing::Test {
 protected:
  ReplayStats replay(Applier& a, int max_attempts = 3) {
    Replayer r(dir_.path(), a, ReplayOptions{max_attempts, UINT64_MAX}, log::Logger::null());
    return r.run([] { return false; });
  }
  void append_n(Journal& j, int from, int to) {
    for (int n = from; n <= to; ++n) ASSERT_TRUE(j.append(Kind::orphan, {{"n", n}}).ok());
  }
  testing::FakeClock clock_;
  glint::testing::TempDir dir_{"glint-journal"};
};

TEST_F(JournalTest, FramesRoundTripAndDamageIsSkippedAndCounted) {
  std::vector<std::byte> all;
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    auto f = encode(Record{seq, Kind::verified, clock_.wall(), {{"n", seq}}});
    all.insert(all.end(), f.begin(), f.end());
  }
  auto d = decode(all);
  ASSERT_EQ(d.frames.size(), 3u);
  EXPECT_EQ(d.frames[1].record.seq, 2u);
  EXPECT_EQ(d.frames[1].record.kind, Kind::verified);
  EXPECT_EQ(d.frames[2].end, all.size());
  EXPECT_EQ(d.corrupt, 0u);

  auto flipped = all;
  flipped[d.frames[1].offset + kHeaderBytes + 3] ^= std::byte{0x20};  // inside the second payload
  auto f = decode(flipped);
  ASSERT_EQ(f.frames.size(), 2u);
  EXPECT_EQ(f.frames[1].record.seq, 3u);
  EXPECT_EQ(f.corrupt, 1u);

  std::vector<std::byte> torn(all.begin(), all.end() - 10);
  auto t = decode(torn);
  EXPECT_EQ(t.frames.size(), 2u);
  EXPECT_TRUE(t.partial_tail);  // maybe a write in progress: not damage yet
  EXPECT_EQ(t.good_end, d.frames[1].end);
  auto tf = decode(torn, 0, true);
  EXPECT_EQ(tf.frames.size(), 2u);
  EXPECT_EQ(tf.corrupt, 1u);  // no writer left: it is damage
}

TEST_F(JournalTest, AppendsReplayInOrderOnceAndAFinishedFileIsRemoved) {
  RecordingApplier a;
  {
    Journal j(dir_.path(), "auditor", clock_);
    append_n(j, 1, 3);
    EXPECT_EQ(replay(a).replayed, 3u);
    ASSERT_EQ(journal_files(dir_.path()).size(), 1u);  // its writer is alive: kept
    append_n(j, 4, 5);
    const auto st = replay(a);
    EXPECT_EQ(st.replayed, 2u);
    EXPECT_EQ(st.pending, 0u);
  }
  EXPECT_EQ(a.seen, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(replay(a).replayed, 0u);
  EXPECT_TRUE(journal_files(dir_.path()).empty());  // writer gone and all replayed
}

TEST_F(JournalTest, ADatabaseOutageStopsTheReplayAndLeavesTheRestPending) {
  RecordingApplier a;
  {
    Journal j(dir_.path(), "replicator", clock_);
    append_n(j, 1, 3);
    clock_.advance(std::chrono::seconds(60));
    append_n(j, 4, 4);
  }
  const auto first_at = clock_.wall() - std::chrono::seconds(60);
  int calls = 0;
  a.answer = [&](const Record&) { return ++calls == 2 ? Status(Errc::unavailable, "down") : Status(); };
  auto st = replay(a);
  EXPECT_TRUE(st.unavailable);
  EXPECT_EQ(st.replayed, 1u);
  EXPECT_EQ(st.pending, 3u);
  EXPECT_EQ(pending_in(dir_.path()).pending, 3u);
  ASSERT_TRUE(st.oldest_pending.has_value());
  EXPECT_EQ(*st.oldest_pending, first_at);
  a.answer = nullptr;
  st = replay(a);
  EXPECT_EQ(st.replayed, 3u);
  EXPECT_EQ(a.seen, (std::vector<int>{1, 2, 3, 4}));
}

TEST_F(JournalTest, SupersededRecordsAreDoneAndARecordThatKeepsFailingIsQuarantined) {
  RecordingApplier a;
  {
    Journal j(dir_.path(), "auditor", clock_);
    append_n(j, 1, 4);
  }
  a.answer = [](const Record& r) {
    const int n = r.body.at("n").get<int>();
    if (n == 2) return Status(Errc::conflict, "the row changed");
    if (n == 3) return Status(Errc::invalid, "bad body");
    return Status();
  };
  auto st = replay(a);
  EXPECT_EQ(st.superseded, 1u);
  EXPECT_EQ(st.failed, 1u);
  EXPECT_EQ(st.pending, 2u);  // 3 and, behind it in order, 4
  EXPECT_EQ(replay(a).quarantined, 0u);
  st = replay(a);  // the third failure moves it aside
  EXPECT_EQ(st.quarantined, 1u);
  EXPECT_EQ(st.replayed, 1u);
  EXPECT_EQ(a.seen, (std::vector<int>{1, 4}));
  EXPECT_TRUE(journal_files(dir_.path()).empty());
  ASSERT_EQ(std::distance(fs::directory_iterator(dir_ / "quarantine"), fs::directory_iterator()), 1);
  const auto q = fs::directory_iterator(dir_ / "quarantine")->path();
  std::ifstream in(q, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), {});
  auto d = decode(std::span(reinterpret_cast<const std::byte*>(s.data()), s.size()));
  ASSERT_EQ(d.frames.size(), 1u);
  EXPECT_EQ(d.frames[0].record.body.at("n"), 3);
}

TEST_F(JournalTest, ATornTailAfterACrashIsSkippedAndCounted) {
  {
    Journal j(dir_.path(), "reaper", clock_);
    append_n(j, 1, 2);
  }
  const auto file = journal_files(dir_.path()).at(0);
  auto half = encode(Record{3, Kind::orphan, clock_.wall(), {{"n", 3}}});
  half.resize(half.size() / 2);
  std::ofstream(file, std::ios::binary | std::ios::app).write(reinterpret_cast<const char*>(half.data()), 20);
  RecordingApplier a;
  const auto st = replay(a);
  EXPECT_EQ(st.replayed, 2u);
  EXPECT_EQ(st.corrupt, 1u);
  EXPECT_TRUE(journal_files(dir_.path()).empty());
}

TEST_F(JournalTest, AJournalManyTimesTheReadersBufferReplaysWholeAndALongDamagedStretchCountsOnce) {
  // 40 records of ~200 KiB around 3 MiB of damage: more than the reader ever buffers (one largest
  // frame), so frames and the damaged stretch cross its refills.
  const std::string pad(200 * 1024, 'p');
  std::ofstream out(dir_.path() + "/big.jnl", std::ios::binary);
  auto write = [&](const std::vector<std::byte>& b) { out.write(reinterpret_cast<const char*>(b.data()), b.size()); };
  for (int n = 1; n <= 40; ++n) {
    if (n == 21) write(std::vector<std::byte>(3 << 20, std::byte{0xab}));
    write(encode(Record{static_cast<uint64_t>(n), Kind::orphan, clock_.wall(), {{"n", n}, {"pad", pad}}}));
  }
  out.close();
  EXPECT_EQ(pending_in(dir_.path()).pending, 40u);
  RecordingApplier a;
  const auto st = replay(a);
  EXPECT_EQ(st.replayed, 40u);
  EXPECT_EQ(st.corrupt, 1u);
  std::vector<int> want;
  for (int n = 1; n <= 40; ++n) want.push_back(n);
  EXPECT_EQ(a.seen, want);
  EXPECT_TRUE(journal_files(dir_.path()).empty());
}

TEST_F(JournalTest, JournaledReplicasKeepAMissedWriteAndReplayItAsTheSameCompareAndSet) {
  auto fake = std::make_unique<testing::FakeReplicaRepository>();
  auto& db = *fake;
  db::ReplicaRow row;
  row.image_id = "img";
  row.node = "node1";
  row.state = ReplicaState::ok;
  db.put(row);
  const auto seen = db.for_image("img")->at(0);
  Journal j(dir_.path(), "auditor", clock_);
  auto replicas = journaled(std::move(fake), j);
  db.database_down = true;
  EXPECT_TRUE(replicas->set_state(seen, ReplicaState::corrupt).ok());  // kept in the journal
  EXPECT_EQ(j.appended(), 1u);
  EXPECT_EQ(db.for_image("img")->at(0).state, ReplicaState::ok);
  db.database_down = false;

  testing::FakeCatalog catalog;
  Passes passes;
  DbApplier applier(db, catalog.heal(), passes);
  Replayer r(dir_.path(), applier, {}, log::Logger::null());
  auto st = r.run([] { return false; });
  EXPECT_EQ(st.replayed, 1u);
  EXPECT_EQ(db.for_image("img")->at(0).state, ReplicaState::corrupt);

  // Replayed again (progress lost), the compare-and-set no longer matches: superseded, unchanged.
  fs::remove(journal_files(dir_.path()).at(0).string() + ".pos");
  st = r.run([] { return false; });
  EXPECT_EQ(st.superseded, 1u);
  EXPECT_EQ(db.for_image("img")->at(0).state, ReplicaState::corrupt);
}

}  // namespace
}  // namespace glint::journal
