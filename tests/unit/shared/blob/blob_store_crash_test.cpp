// Filesystem blob store: crashed writers, orphaned sidecars and on-disk corruption.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fcntl.h>
#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <fstream>

#include "tests/unit/shared/blob/blob_test_util.hpp"

namespace glint::blob::testing {
namespace {

void flip_byte(const fs::path& file, uint64_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x40));
}

// Writes half of a blob in a child process that then dies without committing.
void crash_mid_write(const FsOptions& opts, const std::string& id, bool sigkill) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: its own store (and its own flock), no gtest assertions.
    auto store = open_fs_store(opts);
    if (!store.ok()) ::_exit(10);
    auto w = (*store)->create(id, 8 * opts.block_size);
    if (!w.ok()) ::_exit(11);
    if (!(*w)->write(random_bytes(4 * opts.block_size + 100, 1)).ok()) ::_exit(12);
    if (sigkill) ::raise(SIGKILL);
    ::_exit(0);  // no destructors run: the temp file stays, as after a crash
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  if (sigkill) {
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  } else {
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
}

TEST_F(BlobStoreTest, KilledWriterLeavesNoVisibleBlob) {
  for (bool sigkill : {false, true}) {
    const std::string id = random_uuid();
    store_.reset();  // the child must be able to take the lock
    crash_mid_write(options(), id, sigkill);
    EXPECT_EQ(count_entries(data_dir() / "tmp"), 1u);
    EXPECT_EQ(store().stat(id).code(), Errc::not_found);
    EXPECT_EQ(store().open(id).code(), Errc::not_found);
    EXPECT_TRUE(store().list().empty());
    EXPECT_EQ(store().cleanup_temp(), 1u);
    EXPECT_EQ(count_entries(data_dir() / "tmp"), 0u);
    put(id, random_bytes(100, 2));  // the id is usable again
    ASSERT_TRUE(store().remove(id).ok());
  }
}

// The periodic sweep: a temp file nobody wrote for the bound goes, a fresh one stays, and a live
// upload's stays however old its file looks.
TEST_F(BlobStoreTest, StaleTempSweepRemovesOnlyOldFilesOfNoLiveUpload) {
  const std::string id = random_uuid();
  auto w = store().create(id, std::nullopt);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write(random_bytes(10, 1)).ok());
  std::ofstream(data_dir() / "tmp" / "old.tmp") << "x";
  std::ofstream(data_dir() / "tmp" / "new.tmp") << "x";
  const struct timespec two_hours_ago[2] = {{::time(nullptr) - 7200, 0}, {::time(nullptr) - 7200, 0}};
  for (const auto& e : std::filesystem::directory_iterator(data_dir() / "tmp"))
    if (e.path().filename() != "new.tmp") {
      ASSERT_EQ(::utimensat(AT_FDCWD, e.path().c_str(), two_hours_ago, 0), 0);
    }
  EXPECT_EQ(store().cleanup_stale_temp(std::chrono::hours(1)), 1u);
  EXPECT_FALSE(std::filesystem::exists(data_dir() / "tmp" / "old.tmp"));
  EXPECT_TRUE(std::filesystem::exists(data_dir() / "tmp" / "new.tmp"));
  ASSERT_TRUE((*w)->commit().ok());
  EXPECT_EQ(get(id), random_bytes(10, 1));
}

TEST_F(BlobStoreTest, CleanupSparesLiveUploads) {
  const std::string id = random_uuid();
  auto w = store().create(id, std::nullopt);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write(random_bytes(10, 1)).ok());
  std::ofstream(data_dir() / "tmp" / "stray.tmp") << "x";
  EXPECT_EQ(store().cleanup_temp(), 1u);
  ASSERT_TRUE((*w)->commit().ok());
  EXPECT_EQ(get(id), random_bytes(10, 1));
}

TEST_F(BlobStoreTest, OrphanSidecarIsIgnoredCleanedAndReplaced) {
  const std::string id = random_uuid();
  put(id, random_bytes(kBlock + 1, 3));
  // Simulate a crash between the sidecar rename and the data rename.
  fs::remove(data_file(data_dir(), id));
  EXPECT_EQ(store().stat(id).code(), Errc::not_found);
  EXPECT_TRUE(store().list().empty());
  // A new upload of the id replaces the orphan.
  const auto fresh = random_bytes(2 * kBlock + 9, 4);
  put(id, fresh);
  EXPECT_EQ(get(id), fresh);
  // And cleanup removes an orphan.
  fs::remove(data_file(data_dir(), id));
  EXPECT_EQ(store().cleanup_temp(), 1u);
  EXPECT_EQ(count_entries(data_file(data_dir(), id).parent_path()), 0u);
}

TEST_F(BlobStoreTest, CorruptionIsFoundAtTheExactBlock) {
  const std::string id = random_uuid();
  const auto bytes = random_bytes(5 * kBlock + 123, 5);
  put(id, bytes);
  for (uint64_t k : {0u, 2u, 5u}) {
    const uint64_t offset = k * kBlock + 77;
    flip_byte(data_file(data_dir(), id), offset);
    auto r = store().open(id);
    ASSERT_TRUE(r.ok()) << r.error().message;
    std::vector<std::byte> buf;
    for (uint64_t i = 0; i < (*r)->info().block_count; ++i) {
      auto block = (*r)->read_block(i, buf);
      if (i == k) {
        ASSERT_EQ(block.code(), Errc::corrupt);
        EXPECT_NE(block.error().message.find("block " + std::to_string(k) + " checksum mismatch"), std::string::npos)
            << block.error().message;
      } else {
        ASSERT_TRUE(block.ok()) << i << ": " << block.error().message;
        EXPECT_TRUE(std::equal(block->begin(), block->end(), bytes.begin() + static_cast<long>(i * kBlock)));
      }
    }
    flip_byte(data_file(data_dir(), id), offset);  // repair for the next round
  }
  EXPECT_EQ(get(id), bytes);
}

TEST_F(BlobStoreTest, TruncatedDataIsCorrupt) {
  const std::string id = random_uuid();
  put(id, random_bytes(3 * kBlock, 6));
  auto before = store().open(id);  // opened while intact
  ASSERT_TRUE(before.ok());
  fs::resize_file(data_file(data_dir(), id), 2 * kBlock + 10);
  EXPECT_EQ(store().open(id).code(), Errc::corrupt);
  EXPECT_EQ(store().stat(id).code(), Errc::corrupt);
  std::vector<std::byte> buf;
  EXPECT_TRUE((*before)->read_block(1, buf).ok());
  auto last = (*before)->read_block(2, buf);
  ASSERT_EQ(last.code(), Errc::corrupt);
  EXPECT_NE(last.error().message.find("short read at block 2"), std::string::npos) << last.error().message;
}

TEST_F(BlobStoreTest, DamagedOrMissingSidecarIsCorrupt) {
  const std::string id = random_uuid();
  put(id, random_bytes(2 * kBlock + 1, 7));
  const fs::path meta = data_file(data_dir(), id).string() + ".meta";
  const auto meta_size = fs::file_size(meta);
  for (uint64_t offset : {uint64_t{0}, uint64_t{20}, uint64_t{40}, meta_size - 9, meta_size - 1}) {
    flip_byte(meta, offset);
    auto r = store().open(id);
    EXPECT_EQ(r.code(), Errc::corrupt) << offset;
    flip_byte(meta, offset);
  }
  ASSERT_TRUE(store().open(id).ok());
  fs::resize_file(meta, meta_size - 8);
  EXPECT_EQ(store().open(id).code(), Errc::corrupt);
  fs::remove(meta);
  EXPECT_EQ(store().open(id).code(), Errc::corrupt);
  EXPECT_EQ(store().stat(id).code(), Errc::corrupt);
  EXPECT_EQ(store().list(), std::vector<std::string>{id}) << "listed so that a scrub can find it";
}

// Reads through the page cache (downloads) and around it (audits) serve the same verified bytes,
// the unaligned tail included, and both find a flipped byte at its block.
TEST_F(BlobStoreTest, BufferedAndDirectReadsServeAndVerifyTheSameBytes) {
  const std::string id = random_uuid();
  const auto bytes = random_bytes(6 * kBlock + 321, 6);
  put(id, bytes);
  // Where the filesystem refuses O_DIRECT the store reads buffered: then only that path is tested.
  const int probe = ::open(data_file(data_dir(), id).c_str(), O_RDONLY | O_DIRECT);
  const bool direct_works = probe >= 0;
  if (probe >= 0) ::close(probe);
  for (bool direct : {false, true}) {
    if (direct && !direct_works) GTEST_SKIP() << "no O_DIRECT on " << data_dir() << ": direct reads not tested";
    FsOptions o = options();
    o.reads = direct ? ReadMode::direct : ReadMode::buffered;
    store_.reset();
    auto s = open_fs_store(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    auto read_all = [&](std::vector<std::byte>& out) -> Status {
      auto r = (*s)->open(id);
      if (!r) return r.error();
      std::vector<std::byte> buf;
      out.clear();
      for (uint64_t i = 0; i < (*r)->info().block_count; ++i) {
        auto block = (*r)->read_block(i, buf);
        if (!block) return block.error();
        out.insert(out.end(), block->begin(), block->end());
      }
      return {};
    };
    std::vector<std::byte> got;
    ASSERT_TRUE(read_all(got).ok()) << direct;
    EXPECT_EQ(got, bytes) << direct;
    flip_byte(data_file(data_dir(), id), 6 * kBlock + 5);  // inside the tail block
    const Status bad = read_all(got);
    EXPECT_EQ(bad.code(), Errc::corrupt) << direct;
    EXPECT_NE(bad.message().find("block 6 checksum mismatch"), std::string::npos) << bad.message();
    flip_byte(data_file(data_dir(), id), 6 * kBlock + 5);
  }
}

}  // namespace
}  // namespace glint::blob::testing
