// glint-store under bad input and faults: corruption on disk, vanishing clients, malformed
// requests, a full disk. Each case: a clear error and nothing visible written.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "shared/core/uuid.hpp"
#include "shared/http/auth.hpp"
#include "tests/support/store_node.hpp"
#include "tests/support/string_source.hpp"

namespace glint::testing {
namespace {

namespace fs = std::filesystem;

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 2654435761u) >> 13);
  return s;
}

size_t count_files(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); ++it)
    if (it->is_regular_file()) ++n;
  return n;
}

std::string signed_head(const StoreNode& node, const std::string& method, const std::string& target,
                        const std::string& extra, const std::string& length) {
  http::Headers h;
  node.sign(h, method, target, length);
  std::string s = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : h.all()) s += k + ": " + v + "\r\n";
  return s + extra + "\r\n";
}

class StoreFaults : public ::testing::Test {
 protected:
  void start(std::map<std::string, std::string> overrides = {}) {
    StoreNodeOptions o;
    o.data_dir = data_;
    o.overrides = std::move(overrides);
    node_ = std::make_unique<StoreNode>(o);
    ASSERT_TRUE(node_->start()) << read_file(node_->log_path());
  }
  void TearDown() override {
    if (node_ && node_->running()) {
      EXPECT_EQ(node_->stop(), 0);
    }
  }
  bool nothing_visible(const std::string& id) {
    auto h = node_->signed_request("HEAD", StoreNode::blob_target(id));
    return h.ok() && h->status == 404 && count_files(data_ + "/tmp") == 0;
  }
  TempDir dir_{"glint-store-faults"};
  std::string data_ = dir_ / "data";
  std::unique_ptr<StoreNode> node_;
};

TEST_F(StoreFaults, CorruptByteCutsTheStreamBeforeTheBadBlockAndQuarantines) {
  start();
  const std::string id = random_uuid();
  const std::string data = pattern(4 << 20);
  ASSERT_EQ(node_->signed_request("PUT", StoreNode::blob_target(id), data)->status, 201);
  std::string path;
  for (auto& e : fs::recursive_directory_iterator(data_ + "/objects"))
    if (e.path().filename() == id) path = e.path();
  ASSERT_FALSE(path.empty());
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp((2 << 20) + 999);
    f.put(static_cast<char>(data[(2 << 20) + 999] ^ 0x40));
  }
  std::string received;
  http::ClientRequest req;
  req.target = StoreNode::blob_target(id);
  node_->sign(req.headers, "GET", req.target, "");
  req.on_body = [&](std::span<const std::byte> c) {
    received.append(reinterpret_cast<const char*>(c.data()), c.size());
    return true;
  };
  auto r = node_->client().send(req);
  EXPECT_FALSE(r.ok());  // the connection was cut mid-body
  EXPECT_EQ(received.size(), size_t(2) << 20);  // exactly the two good blocks
  EXPECT_TRUE(received == data.substr(0, received.size()));
  EXPECT_FALSE(fs::exists(path));
  EXPECT_GE(count_files(data_ + "/quarantine"), 2u);  // data + sidecar
  auto after = node_->signed_request("GET", StoreNode::blob_target(id));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 404);
  auto m = node_->client().request("GET", "/metrics");
  EXPECT_NE(m->body.find("glint_store_corrupt_reads_total 1"), std::string::npos);
}

TEST_F(StoreFaults, CorruptFirstBlockIs500) {
  start();
  const std::string id = random_uuid();
  const std::string data = pattern(100000);
  ASSERT_EQ(node_->signed_request("PUT", StoreNode::blob_target(id), data)->status, 201);
  for (auto& e : fs::recursive_directory_iterator(data_ + "/objects"))
    if (e.path().filename() == id) {
      std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(5);
      f.put(static_cast<char>(data[5] ^ 1));
    }
  auto r = node_->signed_request("GET", StoreNode::blob_target(id));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body.find(data.substr(0, 16)), std::string::npos);
}

TEST_F(StoreFaults, ClientVanishingMidPutLeavesNothing) {
  start();
  const std::string id = random_uuid();
  const std::string target = StoreNode::blob_target(id);
  std::string req = signed_head(*node_, "PUT", target, "Content-Length: 3000000\r\n", "3000000");
  req += pattern(700000);
  raw_exchange(node_->port(), req, std::chrono::seconds(1), /*close_after_send=*/true);
  EXPECT_TRUE(wait_for([&] { return nothing_visible(id); }, std::chrono::seconds(10)));
  // The node still serves. Until the server has noticed the vanished client and aborted its
  // upload, a second PUT of the same id is a concurrent one and rightly gets 409: so wait for
  // the 201 (with a deadline) rather than expect it at once (a loaded machine noticed later).
  int last = 0;
  EXPECT_TRUE(wait_for([&] {
    auto r = node_->signed_request("PUT", target, "ok");
    last = r ? r->status : 0;
    return last == 201;
  }, std::chrono::seconds(20))) << "last status " << last;
}

TEST_F(StoreFaults, ShortBodyThenSilenceTimesOutAndLeavesNothing) {
  start({{"store.read_timeout", "300ms"}});
  const std::string id = random_uuid();
  std::string req = signed_head(*node_, "PUT", StoreNode::blob_target(id), "Content-Length: 5000\r\n", "5000") + "only this";
  const std::string resp = raw_exchange(node_->port(), req, std::chrono::seconds(5));
  EXPECT_EQ(resp, "");  // connection closed without a success answer
  EXPECT_TRUE(wait_for([&] { return nothing_visible(id); }, std::chrono::seconds(10)));
}

TEST_F(StoreFaults, OversizedHeaderIs431) {
  start();
  std::string req = "GET /healthcheck HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n";
  const std::string resp = raw_exchange(node_->port(), req, std::chrono::seconds(5));
  EXPECT_EQ(resp.rfind("HTTP/1.1 431", 0), 0u) << resp.substr(0, 200);
}

TEST_F(StoreFaults, MalformedRequestLineIs400) {
  start();
  const std::string resp = raw_exchange(node_->port(), "GARBAGE\r\n\r\n", std::chrono::seconds(5));
  EXPECT_EQ(resp.rfind("HTTP/1.1 400", 0), 0u) << resp.substr(0, 200);
}

TEST_F(StoreFaults, UnknownRoutesMethodsAndBadIds) {
  start();
  for (const std::string target : {"/v1/blobs/../../../etc/passwd", "/v1/blobs/NOT-A-UUID", "/v1/other", "/v1/blobs/%2e%2e"}) {
    auto r = node_->signed_request("GET", target);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 404) << target;
  }
  auto post = node_->signed_request("POST", StoreNode::blob_target(random_uuid()), "x");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(count_files(data_ + "/objects"), 0u);
}

TEST_F(StoreFaults, SigtermDrainsAnInFlightDownload) {
  start();
  const std::string id = random_uuid();
  const std::string data = pattern(8 << 20);
  ASSERT_EQ(node_->signed_request("PUT", StoreNode::blob_target(id), data)->status, 201);
  std::string received;
  bool signalled = false;
  http::ClientRequest req;
  req.target = StoreNode::blob_target(id);
  node_->sign(req.headers, "GET", req.target, "");
  req.on_body = [&](std::span<const std::byte> c) {
    received.append(reinterpret_cast<const char*>(c.data()), c.size());
    if (!signalled) {
      kill(node_->pid(), SIGTERM);  // mid-download
      signalled = true;
    }
    return true;
  };
  auto r = node_->client().send(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(received == data);
  EXPECT_EQ(node_->stop(), 0);
}

class StoreDiskFull : public StoreFaults {
 protected:
  void SetUp() override {
    fs::create_directories(data_);
    if (geteuid() != 0 || mount("tmpfs", data_.c_str(), "tmpfs", 0, "size=16m") != 0)
      GTEST_SKIP() << "needs root to mount a small tmpfs";
    mounted_ = true;
  }
  void TearDown() override {
    StoreFaults::TearDown();
    node_.reset();
    if (mounted_) umount2(data_.c_str(), MNT_DETACH);
  }
  bool mounted_ = false;
};

TEST_F(StoreDiskFull, UploadsThatWouldCrossTheReserveAreRefused) {
  start({{"store.reserve", "4M"}});
  const std::string big = pattern(14 << 20);
  const std::string id1 = random_uuid();
  auto declared = node_->signed_request("PUT", StoreNode::blob_target(id1), big);
  ASSERT_TRUE(declared.ok()) << declared.error().message;
  EXPECT_EQ(declared->status, 507);
  EXPECT_TRUE(nothing_visible(id1));

  // Chunked: the size is unknown up front, so the refusal comes mid-stream.
  const std::string id2 = random_uuid();
  StringSource src(big, 1 << 20);
  http::ClientRequest req;
  req.method = "PUT";
  req.target = StoreNode::blob_target(id2);
  req.upload = &src;
  node_->sign(req.headers, "PUT", req.target, "chunked");
  auto chunked = node_->client().send(req);
  if (chunked.ok()) {
    EXPECT_EQ(chunked->status, 507);  // or the connection was closed on us: also a refusal
  }
  EXPECT_TRUE(wait_for([&] { return nothing_visible(id2); }, std::chrono::seconds(10)));

  // A blob that fits is still accepted.
  const std::string id3 = random_uuid();
  EXPECT_EQ(node_->signed_request("PUT", StoreNode::blob_target(id3), pattern(1 << 20))->status, 201);
  auto m = node_->client().request("GET", "/metrics");
  EXPECT_EQ(m->body.find("glint_store_no_space_total 0"), std::string::npos);
}

}  // namespace
}  // namespace glint::testing
