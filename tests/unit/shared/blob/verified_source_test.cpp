// VerifiedSource over a fake reader: bytes handed out only after their block verified, a corrupt
// block reported once and the rest from the fallback, an unreadable block served by the fallback
// without blaming the copy, and no fallback: the error ends the body.
#include "shared/blob/verified_source.hpp"

#include <gtest/gtest.h>

#include "tests/support/drain_body.hpp"
#include "tests/support/fake_blob_store.hpp"
#include "tests/support/string_source.hpp"

namespace glint::blob {
namespace {

constexpr uint32_t kBlock = 4096;

// The fallback's body: bytes it owns, in 1000-byte chunks.
class OwnedSource final : public http::BodySource {
 public:
  explicit OwnedSource(std::string data) : data_(std::move(data)), chunks_(data_, 1000) {}
  Expected<std::span<const std::byte>> next() override { return chunks_.next(); }

 private:
  std::string data_;
  testing::StringSource chunks_;
};

class VerifiedSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (size_t i = 0; i < 5 * kBlock + 100; ++i) image_.push_back(static_cast<char>((i * 7919) >> 3));
    auto w = store_.create(id_, image_.size());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->write(hash::as_bytes(image_)).ok());
    ASSERT_TRUE((*w)->commit().ok());
  }
  // Bytes [first, last] from the right image, recording where each fallback starts.
  RangeFallback fallback() {
    return [this](uint64_t first, uint64_t last) -> Expected<std::unique_ptr<http::BodySource>> {
      fallbacks_.push_back(first);
      return std::unique_ptr<http::BodySource>(
          std::make_unique<OwnedSource>(image_.substr(first, last - first + 1)));
    };
  }
  std::unique_ptr<VerifiedSource> source(uint64_t first, uint64_t last, RangeFallback fb, bool read_ahead) {
    auto r = store_.open(id_);
    EXPECT_TRUE(r.ok());
    VerifiedHooks hooks;
    hooks.on_corrupt = [this](uint64_t file, const std::string& why) { corrupt_.emplace_back(file, why); };
    hooks.on_bytes = [this](uint64_t n) { handed_out_ += n; };
    return std::make_unique<VerifiedSource>(std::move(*r), first, last, std::move(fb), std::move(hooks), read_ahead);
  }
  static Expected<std::string> drain(http::BodySource& src) { return testing::drain_body(src); }

  testing::FakeBlobStore store_{kBlock};
  const std::string id_ = "7a2a3b5e-8f61-4a4e-9d0e-2f1c0b7d9e11";
  std::string image_;
  std::vector<uint64_t> fallbacks_;
  std::vector<std::pair<uint64_t, std::string>> corrupt_;
  uint64_t handed_out_ = 0;
};

TEST_F(VerifiedSourceTest, HandsOutTheRangeWithAndWithoutReadAhead) {
  for (bool ahead : {false, true}) {
    auto src = source(kBlock - 3, 3 * kBlock + 9, fallback(), ahead);
    auto got = drain(*src);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(*got, image_.substr(kBlock - 3, 2 * kBlock + 13)) << ahead;
  }
  EXPECT_TRUE(fallbacks_.empty());
  EXPECT_EQ(handed_out_, 2 * (2 * kBlock + 13));
}

TEST_F(VerifiedSourceTest, ACorruptBlockIsReportedOnceAndTheRestComesFromTheFallback) {
  ASSERT_TRUE(store_.flip_byte(id_, 2 * kBlock + 5));
  for (bool ahead : {false, true}) {
    corrupt_.clear();
    fallbacks_.clear();
    auto src = source(10, image_.size() - 1, fallback(), ahead);
    auto got = drain(*src);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(*got, image_.substr(10));
    ASSERT_EQ(corrupt_.size(), 1u);
    EXPECT_NE(corrupt_[0].second.find("block 2"), std::string::npos);
    EXPECT_EQ(fallbacks_, std::vector<uint64_t>{2 * kBlock});
  }
}

TEST_F(VerifiedSourceTest, AnUnreadableBlockComesFromTheFallbackWithoutBlamingTheCopy) {
  ASSERT_TRUE(store_.make_unreadable(id_, 3));
  for (bool ahead : {false, true}) {
    fallbacks_.clear();
    auto src = source(0, image_.size() - 1, fallback(), ahead);
    auto got = drain(*src);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(*got, image_);
    EXPECT_EQ(fallbacks_, std::vector<uint64_t>{3 * kBlock});
  }
  EXPECT_TRUE(corrupt_.empty());
}

TEST_F(VerifiedSourceTest, WithoutAFallbackABadBlockEndsTheBodyBeforeItsBytes) {
  ASSERT_TRUE(store_.flip_byte(id_, 4 * kBlock));
  auto src = source(0, image_.size() - 1, RangeFallback{}, true);
  std::string out;
  Expected<std::span<const std::byte>> c = src->next();
  for (; c && !c->empty(); c = src->next()) out.append(reinterpret_cast<const char*>(c->data()), c->size());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.code(), Errc::corrupt);
  EXPECT_EQ(out, image_.substr(0, 4 * kBlock));  // nothing of block 4
  EXPECT_EQ(corrupt_.size(), 1u);
}

}  // namespace
}  // namespace glint::blob
