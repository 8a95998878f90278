// Fixture for blob store tests: a fresh mkdtemp data directory per test, removed afterwards.
// Single-threaded helpers.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "shared/blob/blob_store.hpp"
#include "shared/core/uuid.hpp"

namespace glint::blob::testing {

namespace fs = std::filesystem;

inline std::vector<std::byte> random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::byte> v(n);
  for (auto& b : v) b = static_cast<std::byte>(rng());
  return v;
}

inline size_t count_entries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

inline fs::path data_file(const fs::path& root, const std::string& id) {
  return root / "objects" / id.substr(0, 2) / id.substr(2, 2) / id;
}

class BlobStoreTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kBlock = 4096;

  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "glint-blob-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  FsOptions options() const {
    FsOptions o;
    o.data_dir = (root_ / "data").string();
    o.block_size = kBlock;
    o.fsync = false;  // keeps the tests fast; the fsync path is exercised by FsyncEnabled
    return o;
  }
  BlobStore& store() {
    if (!store_) {
      auto s = open_fs_store(options());
      EXPECT_TRUE(s.ok()) << s.error().message;
      store_ = std::move(s.value());
    }
    return *store_;
  }
  fs::path data_dir() const { return root_ / "data"; }

  // Writes `bytes` in uneven chunks and commits; fails the test on any error.
  BlobInfo put(const std::string& id, const std::vector<std::byte>& bytes, std::optional<uint64_t> expected = {}) {
    auto w = store().create(id, expected);
    EXPECT_TRUE(w.ok()) << w.error().message;
    if (!w.ok()) return {};
    size_t pos = 0, step = 1;
    while (pos < bytes.size()) {
      const size_t n = std::min(step, bytes.size() - pos);
      EXPECT_TRUE((*w)->write(std::span(bytes).subspan(pos, n)).ok());
      pos += n;
      step = step * 3 + 7;
    }
    auto info = (*w)->commit();
    EXPECT_TRUE(info.ok()) << info.error().message;
    return info.ok() ? info.value() : BlobInfo{};
  }

  // Reads every block back through a verifying reader.
  std::vector<std::byte> get(const std::string& id) {
    auto r = store().open(id);
    EXPECT_TRUE(r.ok()) << r.error().message;
    std::vector<std::byte> out, buf;
    if (!r.ok()) return out;
    for (uint64_t i = 0; i < (*r)->info().block_count; ++i) {
      auto block = (*r)->read_block(i, buf);
      EXPECT_TRUE(block.ok()) << block.error().message;
      if (block.ok()) out.insert(out.end(), block->begin(), block->end());
    }
    return out;
  }

  fs::path root_;
  std::unique_ptr<BlobStore> store_;
};

}  // namespace glint::blob::testing
