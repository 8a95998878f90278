// Blocks verified in place through a mapping (ReadMode::mapped, MappedFile): the same verdicts as
// read_block, and a page that faults is an error value, never the end of the process.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>

#include "shared/blob/fs_store.hpp"
#include "shared/blob/mapped_file.hpp"
#include "shared/hash/hash.hpp"
#include "tests/unit/shared/blob/blob_test_util.hpp"

namespace glint::blob::testing {
namespace {

class MappedReadTest : public BlobStoreTest {
 protected:
  std::unique_ptr<BlobReader> open_mapped(const std::string& id) {
    FsOptions o = options();
    o.reads = ReadMode::mapped;
    store_.reset();
    auto s = open_fs_store(o);
    EXPECT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s.value());
    auto r = store_->open(id);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? std::move(r.value()) : nullptr;
  }
};

void write_at(const fs::path& file, uint64_t offset, char c) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(c);
}

TEST_F(MappedReadTest, VerifiesInPlaceWhatReadBlockVerifies) {
  const std::string id = random_uuid();
  const auto bytes = random_bytes(5 * kBlock + 77, 3);
  put(id, bytes);
  auto r = open_mapped(id);
  ASSERT_NE(r, nullptr);
  std::vector<std::byte> buf;
  for (uint64_t i = 0; i < r->info().block_count; ++i) {
    auto n = r->verify_block(i, buf);
    ASSERT_TRUE(n.ok()) << n.error().message;
    EXPECT_EQ(*n, i + 1 < r->info().block_count ? kBlock : 77u);
  }
  EXPECT_TRUE(buf.empty());  // nothing was copied out
  EXPECT_EQ(r->verify_block(6, buf).code(), Errc::invalid);

  // One flipped byte in block 2: that block is corrupt, through the mapping and through read_block.
  const char was = static_cast<char>(bytes[2 * kBlock + 9]);
  write_at(data_file(data_dir(), id), 2 * kBlock + 9, static_cast<char>(was ^ 0x01));
  EXPECT_EQ(r->verify_block(2, buf).code(), Errc::corrupt);
  EXPECT_EQ(r->read_block(2, buf).code(), Errc::corrupt);
  EXPECT_TRUE(r->verify_block(3, buf).ok());
  write_at(data_file(data_dir(), id), 2 * kBlock + 9, was);
  EXPECT_TRUE(r->verify_block(2, buf).ok());
}

TEST_F(MappedReadTest, AFileCutShortUnderTheMappingIsCorruptNotACrash) {
  const std::string id = random_uuid();
  put(id, random_bytes(4 * kBlock, 4));
  auto r = open_mapped(id);
  ASSERT_NE(r, nullptr);
  std::vector<std::byte> buf;
  ASSERT_TRUE(r->verify_block(0, buf).ok());  // mapped now
  // Cut to one page and a half: on 4 KiB pages blocks 0 and 1 still map (the rest of block 1
  // reads as zeros), blocks 2 and 3 fault. Larger pages read blocks past the end as zeros.
  const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  ASSERT_EQ(::truncate(data_file(data_dir(), id).c_str(), static_cast<off_t>(kBlock + kBlock / 2)), 0);
  EXPECT_TRUE(r->verify_block(0, buf).ok());
  EXPECT_EQ(r->verify_block(1, buf).code(), Errc::corrupt);
  auto gone = r->verify_block(3, buf);
  EXPECT_EQ(gone.code(), Errc::corrupt);
  if (page == kBlock) {  // its pages faulted: SIGBUS, caught, and the file found short
    EXPECT_NE(gone.error().message.find("short read at block 3"), std::string::npos) << gone.error().message;
  }
  // A second fault on the same thread is caught too (SIGBUS was unblocked after the first).
  EXPECT_EQ(r->verify_block(2, buf).code(), Errc::corrupt);
}

TEST_F(MappedReadTest, MappedFileHashesLikeBlockXxh3AndReleaseKeepsTheBytes) {
  const fs::path file = root_ / "plain";
  const auto bytes = random_bytes(3 * 4096 + 5, 5);
  std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto m = MappedFile::map(fd, bytes.size(), file.string());
  ASSERT_TRUE(m.ok()) << m.error().message;
  for (int round = 0; round < 2; ++round) {
    auto h = m->xxh3(4096, 2 * 4096 + 5);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(*h, hash::block_xxh3(std::span(bytes).subspan(4096)));
    m->release(100, 8000);  // unaligned: rounded down to its page, then touched again
  }
  EXPECT_EQ(m->xxh3(4096, 3 * 4096).code(), Errc::invalid);  // past the mapped size
  auto empty = MappedFile::map(fd, 0, file.string());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty->xxh3(0, 0), hash::block_xxh3({}));
  ::close(fd);
}

// The handler catches only the guarded hash: any other SIGBUS still ends the process as before.
TEST_F(MappedReadTest, AFaultOutsideAGuardedReadStillEndsTheProcess) {
  const fs::path file = root_ / "cut";
  std::ofstream(file, std::ios::binary) << std::string(3 * 4096, 'x');
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto m = MappedFile::map(fd, 3 * 4096, file.string());  // installs the handler
  ASSERT_TRUE(m.ok());
  EXPECT_DEATH(
      {
        const int rw = ::open(file.c_str(), O_RDWR);
        if (rw < 0 || ::ftruncate(rw, 0) != 0) std::_Exit(0);  // exits alive: the test fails
        void* p = ::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) std::_Exit(0);
        volatile char c = *static_cast<volatile char*>(p);
        (void)c;
        std::_Exit(0);
      },
      "");
  EXPECT_DEATH(std::raise(SIGBUS), "");  // sent, not a fault: the default action too
  ::close(fd);
}

}  // namespace
}  // namespace glint::blob::testing
