// Filesystem blob store: round trips, upload conflicts, size limits, removal, quarantine, ids.
#include <fstream>
#include <thread>

#include "tests/unit/shared/blob/blob_test_util.hpp"

namespace glint::blob::testing {
namespace {

TEST_F(BlobStoreTest, RoundTripAtBlockBoundaries) {
  const std::vector<size_t> sizes = {0, 1, kBlock - 1, kBlock, kBlock + 1, 5 * kBlock + 17, 8 * kBlock};
  for (size_t size : sizes) {
    const std::string id = random_uuid();
    const auto bytes = random_bytes(size, size);
    const BlobInfo info = put(id, bytes, size);
    EXPECT_EQ(info.size, size);
    EXPECT_EQ(info.block_size, kBlock);
    EXPECT_EQ(info.block_count, (size + kBlock - 1) / kBlock);
    hash::Xxh128Stream whole;
    whole.update(bytes);
    EXPECT_EQ(info.digest, whole.digest()) << size;

    auto st = store().stat(id);
    ASSERT_TRUE(st.ok()) << st.error().message;
    EXPECT_EQ(st->size, size);
    EXPECT_EQ(st->digest, info.digest);
    EXPECT_EQ(get(id), bytes) << size;
    EXPECT_TRUE(fs::exists(data_file(data_dir(), id)));

    auto r = store().open(id);
    ASSERT_TRUE(r.ok());
    std::vector<std::byte> buf;
    EXPECT_EQ((*r)->read_block(info.block_count, buf).code(), Errc::invalid);
  }
  EXPECT_EQ(store().list().size(), sizes.size());
  EXPECT_EQ(count_entries(data_dir() / "tmp"), 0u);
}

// A digest known only at the end (the cache's upload fill): other bytes are never published.
TEST_F(BlobStoreTest, CommitExpectingADigestPublishesOnlyThoseBytes) {
  const auto bytes = random_bytes(3 * kBlock + 5, 41);
  hash::Xxh128Stream whole;
  whole.update(bytes);
  const std::string good = random_uuid(), bad = random_uuid();
  for (const auto& id : {good, bad}) {
    auto w = store().create(id, bytes.size());
    ASSERT_TRUE(w.ok()) << w.error().message;
    ASSERT_TRUE((*w)->write(bytes).ok());
    hash::Digest128 want = whole.digest();
    if (id == bad) want[0] ^= 1;
    auto info = (*w)->commit_expecting(want);
    EXPECT_EQ(info.ok(), id == good);
    if (id == bad) {
      EXPECT_EQ(info.code(), Errc::corrupt);
    }
  }
  EXPECT_TRUE(store().stat(good).ok());
  EXPECT_EQ(store().stat(bad).code(), Errc::not_found);
}

TEST_F(BlobStoreTest, FsyncEnabled) {
  FsOptions o = options();
  o.fsync = true;
  auto s = open_fs_store(o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  const std::string id = random_uuid();
  auto w = (*s)->create(id, std::nullopt);
  ASSERT_TRUE(w.ok());
  const auto bytes = random_bytes(3 * kBlock + 5, 1);
  ASSERT_TRUE((*w)->write(bytes).ok());
  ASSERT_TRUE((*w)->commit().ok());
  EXPECT_TRUE((*s)->stat(id).ok());
  EXPECT_TRUE((*s)->remove(id).ok());
}

TEST_F(BlobStoreTest, SecondCreateOfSameIdConflicts) {
  const std::string id = random_uuid();
  auto w1 = store().create(id, std::nullopt);
  ASSERT_TRUE(w1.ok());
  EXPECT_EQ(store().create(id, std::nullopt).code(), Errc::conflict);
  (*w1)->abort();
  (*w1)->abort();  // idempotent
  auto w2 = store().create(id, std::nullopt);
  EXPECT_TRUE(w2.ok()) << "the reservation ends with abort()";
}

TEST_F(BlobStoreTest, ConcurrentCreatesOneWins) {
  const std::string id = random_uuid();
  store();
  std::atomic<int> ok{0}, conflict{0};
  std::vector<std::unique_ptr<BlobWriter>> winners(8);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < winners.size(); ++t) {
    threads.emplace_back([&, t] {
      auto w = store_->create(id, std::nullopt);
      if (w.ok()) {
        ++ok;
        winners[t] = std::move(w.value());
      } else if (w.code() == Errc::conflict) {
        ++conflict;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(conflict.load(), 7);
}

TEST_F(BlobStoreTest, ExistingIdConflicts) {
  const std::string id = random_uuid();
  put(id, random_bytes(10, 1));
  EXPECT_EQ(store().create(id, std::nullopt).code(), Errc::conflict);
  EXPECT_EQ(get(id), random_bytes(10, 1));
}

TEST_F(BlobStoreTest, ShortUploadIsInvalidAtCommit) {
  const std::string id = random_uuid();
  auto w = store().create(id, 100);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write(random_bytes(50, 2)).ok());
  EXPECT_EQ((*w)->commit().code(), Errc::invalid);
  EXPECT_EQ((*w)->commit().code(), Errc::conflict) << "the writer is finished";
  EXPECT_EQ(store().stat(id).code(), Errc::not_found);
  EXPECT_TRUE(store().list().empty());
  EXPECT_EQ(count_entries(data_dir() / "tmp"), 0u);
}

TEST_F(BlobStoreTest, LongUploadIsTooLarge) {
  const std::string id = random_uuid();
  auto w = store().create(id, 100);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write(random_bytes(60, 3)).ok());
  EXPECT_EQ((*w)->write(random_bytes(60, 4)).code(), Errc::too_large);
  EXPECT_EQ((*w)->bytes_written(), 60u);
  EXPECT_FALSE((*w)->write(random_bytes(1, 4)).ok());
  EXPECT_FALSE((*w)->commit().ok());
  EXPECT_EQ(count_entries(data_dir() / "tmp"), 0u);
  w.value().reset();
  EXPECT_EQ(store().stat(id).code(), Errc::not_found);
  EXPECT_TRUE(store().list().empty());
}

TEST_F(BlobStoreTest, DestroyedWriterLeavesNothing) {
  const std::string id = random_uuid();
  {
    auto w = store().create(id, std::nullopt);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->write(random_bytes(3 * kBlock, 5)).ok());
    EXPECT_EQ(count_entries(data_dir() / "tmp"), 1u);
  }
  EXPECT_EQ(count_entries(data_dir() / "tmp"), 0u);
  EXPECT_EQ(store().stat(id).code(), Errc::not_found);
  EXPECT_TRUE(store().create(id, std::nullopt).ok());
}

TEST_F(BlobStoreTest, RemoveDeletesBlobAndSidecar) {
  const std::string id = random_uuid();
  put(id, random_bytes(kBlock * 2, 6));
  ASSERT_TRUE(store().remove(id).ok());
  EXPECT_EQ(store().stat(id).code(), Errc::not_found);
  EXPECT_EQ(store().remove(id).code(), Errc::not_found);
  EXPECT_EQ(count_entries(data_file(data_dir(), id).parent_path()), 0u);
  EXPECT_TRUE(store().list().empty());
}

TEST_F(BlobStoreTest, QuarantineMovesBothFiles) {
  const std::string id = random_uuid();
  const auto bytes = random_bytes(kBlock + 3, 7);
  put(id, bytes);
  ASSERT_TRUE(store().quarantine(id, "block 1 checksum mismatch").ok());
  EXPECT_EQ(store().stat(id).code(), Errc::not_found);
  EXPECT_TRUE(store().list().empty());
  EXPECT_EQ(count_entries(data_file(data_dir(), id).parent_path()), 0u);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(data_dir() / "quarantine")) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[0].substr(0, 37), id + ".");
  EXPECT_EQ(names[1], names[0] + ".meta");
  EXPECT_EQ(names[2], names[0] + ".reason");
  EXPECT_EQ(fs::file_size(data_dir() / "quarantine" / names[0]), bytes.size());
  std::ifstream reason(data_dir() / "quarantine" / names[2]);
  std::string line;
  std::getline(reason, line);
  EXPECT_EQ(line, "block 1 checksum mismatch");
  EXPECT_EQ(store().quarantine(id, "again").code(), Errc::not_found);

  put(id, bytes);  // same id, quarantined twice within a second: both copies kept
  ASSERT_TRUE(store().quarantine(id, "again").ok());
  EXPECT_EQ(count_entries(data_dir() / "quarantine"), 6u);
}

TEST_F(BlobStoreTest, InvalidIdsNeverTouchTheFilesystem) {
  const std::vector<std::string> bad = {
      "", "../../etc/passwd", "ABCDEF01-2345-4678-9abc-def012345678", std::string("0123456\0-89ab-4def-8123-456789abcdef", 36),
      "01234567-89ab-4def-8123-456789abcdef/", "01234567-89ab-4def-8123-456789abcde", "../01234567-89ab-4def-8123-456789ab",
      "01234567_89ab_4def_8123_456789abcdef"};
  for (const auto& id : bad) {
    EXPECT_EQ(store().create(id, std::nullopt).code(), Errc::invalid) << id;
    EXPECT_EQ(store().open(id).code(), Errc::invalid) << id;
    EXPECT_EQ(store().stat(id).code(), Errc::invalid) << id;
    EXPECT_EQ(store().remove(id).code(), Errc::invalid) << id;
    EXPECT_EQ(store().quarantine(id, "x").code(), Errc::invalid) << id;
  }
  EXPECT_EQ(count_entries(data_dir() / "objects"), 0u);
  EXPECT_EQ(count_entries(data_dir() / "tmp"), 0u);
  EXPECT_EQ(count_entries(root_), 1u);  // just data/
}

TEST_F(BlobStoreTest, SecondOpenOfSameDirIsLocked) {
  store();
  auto second = open_fs_store(options());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.code(), Errc::io_error);
  EXPECT_NE(second.error().message.find("data directory locked by another process"), std::string::npos);
  store_.reset();
  EXPECT_TRUE(open_fs_store(options()).ok()) << "the lock ends with the store";
}

TEST_F(BlobStoreTest, SpaceReportsFilesystem) {
  FsOptions o = options();
  o.reserve_bytes = 12345;
  auto s = open_fs_store(o);
  ASSERT_TRUE(s.ok());
  const SpaceInfo sp = (*s)->space();
  EXPECT_GT(sp.capacity, 0u);
  EXPECT_GT(sp.free, 0u);
  EXPECT_LE(sp.free, sp.capacity);
  EXPECT_EQ(sp.reserve, 12345u);
}

TEST_F(BlobStoreTest, ReserveRefusesExpectedSizeAtCreate) {
  FsOptions o = options();
  o.reserve_bytes = 1 << 20;
  auto s = open_fs_store(o);
  ASSERT_TRUE(s.ok());
  const uint64_t free = (*s)->space().free;
  EXPECT_EQ((*s)->create(random_uuid(), free).code(), Errc::no_space);
  EXPECT_EQ(count_entries(data_dir() / "tmp"), 0u);
}

TEST_F(BlobStoreTest, ReserveRefusesCrossingWrite) {
  FsOptions o = options();
  auto probe = open_fs_store(o);
  ASSERT_TRUE(probe.ok());
  const uint64_t free = (*probe)->space().free;
  probe.value().reset();
  o.reserve_bytes = free - (1 << 20);  // 1 MiB of headroom
  auto s = open_fs_store(o);
  ASSERT_TRUE(s.ok());
  const std::string id = random_uuid();
  auto w = (*s)->create(id, std::nullopt);
  ASSERT_TRUE(w.ok());
  const std::vector<std::byte> big(64 << 20);  // far beyond the headroom
  const Status st = (*w)->write(big);
  EXPECT_EQ(st.code(), Errc::no_space) << st.message();
  EXPECT_EQ((*w)->bytes_written(), 0u);
  EXPECT_FALSE((*w)->commit().ok());
  w.value().reset();
  EXPECT_EQ((*s)->stat(id).code(), Errc::not_found);
  EXPECT_TRUE((*s)->list().empty());
  EXPECT_EQ(count_entries(data_dir() / "tmp"), 0u);
}

// Two processes writing one directory (an image cache): two stores opened on it stand for them
// (flock locks of separate opens exclude each other as across processes).
TEST_F(BlobStoreTest, MultiProcessWritersNeverWriteOneIdTogetherNorSweepEachOthersUploads) {
  FsOptions o = options();
  o.multi_process = true;
  auto a = open_fs_store(o);
  auto b = open_fs_store(o);  // the LOCK is shared
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string id = random_uuid();
  const auto bytes = random_bytes(3 * kBlock + 5, 11);
  auto wa = (*a)->create(id, bytes.size());
  ASSERT_TRUE(wa.ok());
  ASSERT_TRUE((*wa)->write(bytes).ok());
  EXPECT_EQ((*b)->create(id, bytes.size()).code(), Errc::conflict);
  EXPECT_EQ((*b)->cleanup_temp(), 0u);  // a's upload is live in "another process"
  EXPECT_EQ((*b)->cleanup_stale_temp(std::chrono::seconds(0)), 0u);
  ASSERT_TRUE((*wa)->commit().ok());
  EXPECT_EQ((*b)->create(id, bytes.size()).code(), Errc::conflict);  // exists now
  auto r = (*b)->open(id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->info().size, bytes.size());

  const std::string other = random_uuid();
  {
    auto wb = (*b)->create(other, std::nullopt);
    ASSERT_TRUE(wb.ok());
    ASSERT_TRUE((*wb)->write(bytes).ok());
  }  // abandoned: its claim is released, so a's sweep may take what is left
  auto wa2 = (*a)->create(other, std::nullopt);
  EXPECT_TRUE(wa2.ok());
  // A store not opened multi_process still excludes everyone.
  FsOptions solo = options();
  solo.data_dir = (root_ / "solo").string();
  auto s1 = open_fs_store(solo);
  ASSERT_TRUE(s1.ok());
  EXPECT_FALSE(open_fs_store(solo).ok());
}

}  // namespace
}  // namespace glint::blob::testing
