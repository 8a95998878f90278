#include "workers/store/write_behind.hpp"

#include <gtest/gtest.h>

#include <string>

namespace glint::store {
namespace {

// Records what reaches it; fails from the n-th write on when asked.
class RecordingWriter final : public blob::BlobWriter {
 public:
  Status write(std::span<const std::byte> d) override {
    if (++writes_ >= fail_at_) return Status(Errc::no_space, "full");
    data_.append(reinterpret_cast<const char*>(d.data()), d.size());
    return {};
  }
  Expected<blob::BlobInfo> commit() override { return blob::BlobInfo{}; }
  void abort() override {}
  uint64_t bytes_written() const override { return data_.size(); }
  std::string data_;
  int writes_ = 0;
  int fail_at_ = 1 << 30;
};

std::span<const std::byte> bytes(const std::string& s) { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }

TEST(WriteBehind, KeepsOrderAndDrains) {
  RecordingWriter w;
  std::string expect;
  {
    WriteBehind wb(w);
    for (int i = 0; i < 200; ++i) {
      const std::string chunk(static_cast<size_t>(i % 7 + 1), static_cast<char>('a' + i % 26));
      expect += chunk;
      ASSERT_TRUE(wb.submit(bytes(chunk)).ok());
    }
    ASSERT_TRUE(wb.drain().ok());
    EXPECT_EQ(w.data_, expect);
  }
}

TEST(WriteBehind, AWriteErrorSurfacesAndStopsFurtherWrites) {
  RecordingWriter w;
  w.fail_at_ = 3;
  WriteBehind wb(w);
  Status last;
  for (int i = 0; i < 10 && last.ok(); ++i) last = wb.submit(bytes("xy"));
  Status d = wb.drain();
  EXPECT_EQ(d.code(), Errc::no_space);
  EXPECT_EQ(w.data_, "xyxy");  // nothing after the failure
  EXPECT_EQ(wb.submit(bytes("z")).code(), Errc::no_space);
}

}  // namespace
}  // namespace glint::store
