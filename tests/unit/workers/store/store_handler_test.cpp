// StoreHandler called directly (no sockets) over a real blob store in a temp dir.
#include "workers/store/store_handler.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "shared/http/auth.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/support/process.hpp"

namespace glint::store {
namespace {

constexpr const char* kId = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
constexpr const char* kSecret = "unit-secret";

class StoreHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    blob::FsOptions o;
    o.data_dir = dir_.path();
    o.block_size = 4096;
    o.fsync = false;
    auto s = blob::open_fs_store(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    blobs_ = std::move(s.value());
    HandlerOptions ho;
    ho.shared_secret = kSecret;
    ho.node = "node1";
    handler_ = std::make_unique<StoreHandler>(ho, *blobs_, metrics_, store_metrics_, clock_, log::Logger::null());
  }

  // A request signed for `node` with its length and conditions (set in `headers` before signing).
  http::Request req(const std::string& method, const std::string& path, bool sign = true,
                    std::optional<uint64_t> length = std::nullopt, http::Headers headers = {},
                    const std::string& node = "node1") {
    http::Request r;
    r.method = method;
    r.target = r.path = path;
    r.request_id = "req-test";
    r.content_length = length;
    r.headers = headers;
    if (sign)
      http::sign_headers(r.headers, kSecret,
                         http::fields_for(method, path, node, http::body_binding(length, false), headers), clock_.wall());
    return r;
  }

  http::Response put(const std::string& data, http::Headers headers = {}) {
    auto r = req("PUT", std::string("/v1/blobs/") + kId, true, data.size(), headers);
    return send_put(r, data);
  }
  http::Response send_put(const http::Request& r, const std::string& data) {
    auto reply = handler_->handle_request(r);
    if (!reply.sink) return std::move(reply.response);
    Status s = reply.sink->write(hash::as_bytes(data));
    if (!s) return reply.sink->failed(s);
    return reply.sink->finish();
  }

  // Drains a response body; returns false if the stream failed.
  bool drain(http::Response& r, std::string& out) {
    if (!r.stream) {
      out = r.body;
      return true;
    }
    for (;;) {
      auto c = r.stream->next();
      if (!c) return false;
      if (c->empty()) return true;
      out.append(reinterpret_cast<const char*>(c->data()), c->size());
    }
  }

  // Drains a response as the server's sendfile path does (FileBody ranges, read here with pread).
  bool drain_ranges(http::Response& r, std::string& out) {
    auto* fb = dynamic_cast<http::FileBody*>(r.stream.get());
    if (!fb) return false;
    for (;;) {
      auto range = fb->next_range();
      if (!range) return false;
      if (range->end()) return true;
      if (range->fd < 0) {
        out.append(reinterpret_cast<const char*>(range->bytes.data()), range->bytes.size());
        continue;
      }
      std::string piece(range->length, '\0');
      if (::pread(range->fd, piece.data(), piece.size(), static_cast<off_t>(range->offset)) !=
          static_cast<ssize_t>(piece.size()))
        return false;
      out += piece;
    }
  }

  testing::TempDir dir_{"glint-store-unit"};
  testing::FakeClock clock_;
  metrics::Metrics metrics_;
  StoreMetrics store_metrics_{metrics_};
  std::unique_ptr<blob::BlobStore> blobs_;
  std::unique_ptr<StoreHandler> handler_;
};

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  return s;
}

TEST_F(StoreHandlerTest, PutThenGetRoundTrip) {
  const std::string data = pattern(10000);
  auto created = put(data);
  EXPECT_EQ(created.status, 201);
  EXPECT_NE(created.body.find("\"size\":10000"), std::string::npos);
  EXPECT_NE(created.body.find("\"blocks\":3"), std::string::npos);
  auto got = handler_->handle_request(req("GET", std::string("/v1/blobs/") + kId)).response;
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.content_length, 10000u);
  std::string body;
  ASSERT_TRUE(drain(got, body));
  EXPECT_EQ(body, data);
}

TEST_F(StoreHandlerTest, RangeAcrossBlocksAnd416) {
  const std::string data = pattern(10000);
  ASSERT_EQ(put(data).status, 201);
  auto r = req("GET", std::string("/v1/blobs/") + kId);
  r.headers.set("Range", "bytes=4000-8200");
  auto got = handler_->handle_request(r).response;
  EXPECT_EQ(got.status, 206);
  EXPECT_EQ(*got.headers.get("Content-Range"), "bytes 4000-8200/10000");
  std::string body;
  ASSERT_TRUE(drain(got, body));
  EXPECT_EQ(body, data.substr(4000, 4201));
  auto again = req("GET", std::string("/v1/blobs/") + kId);  // a request is good once: signed afresh
  again.headers.set("Range", "bytes=10000-");
  auto bad = handler_->handle_request(again).response;
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(*bad.headers.get("Content-Range"), "bytes */10000");
}

TEST_F(StoreHandlerTest, UnsignedRequestsChangeNothing) {
  auto r = req("PUT", std::string("/v1/blobs/") + kId, false);
  r.content_length = 10;
  auto reply = handler_->handle_request(r);
  EXPECT_FALSE(reply.sink);
  EXPECT_EQ(reply.response.status, 401);
  EXPECT_EQ(blobs_->stat(kId).code(), Errc::not_found);
  clock_.advance(std::chrono::seconds(0));
  auto stale = req("GET", std::string("/v1/blobs/") + kId);
  clock_.advance(std::chrono::minutes(10));  // signature now outside the skew window
  EXPECT_EQ(handler_->handle_request(stale).response.status, 401);
}

TEST_F(StoreHandlerTest, SecondPutOfSameIdConflicts) {
  ASSERT_EQ(put("abc").status, 201);
  EXPECT_EQ(put("abc").status, 409);
}

std::string digest_of(const std::string& data) {
  hash::Xxh128Stream x;
  x.update(hash::as_bytes(data));
  return hash::digest_hex(x.digest());
}

http::Headers with(const std::string& name, const std::string& value) {
  http::Headers h;
  h.set(name, value);
  return h;
}

std::string quoted(const std::string& d) { return "\"" + d + "\""; }

// A captured request cannot be used twice: the second use is 401 and changes nothing.
TEST_F(StoreHandlerTest, AReplayedRequestIsRefusedAndChangesNothing) {
  ASSERT_EQ(put("hello").status, 201);
  auto del = req("DELETE", std::string("/v1/blobs/") + kId, true, std::nullopt, with("If-Match", quoted(digest_of("hello"))));
  auto first = handler_->handle_request(del).response;
  EXPECT_EQ(first.status, 204);
  ASSERT_EQ(put("hello").status, 201);  // the same bytes stored again
  auto replay = handler_->handle_request(del).response;
  EXPECT_EQ(replay.status, 401);
  EXPECT_NE(replay.body.find("replayed"), std::string::npos);
  EXPECT_TRUE(blobs_->stat(kId).ok());  // still there
  EXPECT_NE(metrics_.render().find("glint_store_auth_rejected_total 1"), std::string::npos);
}

// Nonces seen before a restart are gone, so a request signed before the store started is refused
// (it may be one captured earlier and replayed now).
TEST_F(StoreHandlerTest, ARequestSignedBeforeTheStoreStartedIsRefused) {
  auto captured = req("GET", std::string("/v1/blobs/") + kId);
  clock_.advance(std::chrono::seconds(60));  // the store restarts a minute later
  HandlerOptions ho;
  ho.shared_secret = kSecret;
  ho.node = "node1";
  ho.not_before = std::chrono::duration_cast<std::chrono::seconds>(clock_.wall().time_since_epoch()).count() - 2;
  StoreHandler restarted(ho, *blobs_, metrics_, store_metrics_, clock_, log::Logger::null());
  auto r = restarted.handle_request(captured).response;
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("before this node started"), std::string::npos);
  EXPECT_EQ(restarted.handle_request(req("GET", std::string("/v1/blobs/") + kId)).response.status, 404);  // fresh: fine
}

TEST_F(StoreHandlerTest, ARequestSignedForAnotherNodeIsRefused) {
  ASSERT_EQ(put("hello").status, 201);
  auto del = req("DELETE", std::string("/v1/blobs/") + kId, true, std::nullopt, with("If-Match", "*"), "node2");
  EXPECT_EQ(handler_->handle_request(del).response.status, 401);
  EXPECT_TRUE(blobs_->stat(kId).ok());
}

TEST_F(StoreHandlerTest, ABodyOtherThanTheSignedLengthIsRefused) {
  auto r = req("PUT", std::string("/v1/blobs/") + kId, true, 5);
  r.content_length = 6;  // re-framed after signing
  EXPECT_EQ(send_put(r, "hello!").status, 401);
  EXPECT_EQ(blobs_->stat(kId).code(), Errc::not_found);
}

TEST_F(StoreHandlerTest, DeleteNamesTheCopyItMeans) {
  ASSERT_EQ(put("hello").status, 201);
  const std::string path = std::string("/v1/blobs/") + kId;
  EXPECT_EQ(handler_->handle_request(req("DELETE", path)).response.status, 428);
  auto wrong = handler_->handle_request(req("DELETE", path, true, std::nullopt, with("If-Match", quoted(digest_of("other")))));
  EXPECT_EQ(wrong.response.status, 412);
  EXPECT_TRUE(blobs_->stat(kId).ok());
  EXPECT_EQ(handler_->handle_request(req("DELETE", path, true, std::nullopt, with("If-Match", "bogus"))).response.status, 400);
  EXPECT_EQ(handler_->handle_request(req("DELETE", path, true, std::nullopt, with("If-Match", quoted(digest_of("hello"))))).response.status, 204);
}

TEST_F(StoreHandlerTest, APutThatMissesItsExpectedDigestKeepsNothing) {
  auto r = put("hello", with(std::string(http::kExpectDigestHeader), digest_of("jello")));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(blobs_->stat(kId).code(), Errc::not_found);
  EXPECT_EQ(put("hello", with(std::string(http::kExpectDigestHeader), digest_of("hello"))).status, 201);
}

// A verified replacement: the new copy is proven first, then the old bytes go to quarantine.
TEST_F(StoreHandlerTest, AReplacingPutSwapsOnlyAProvenCopyAndKeepsTheOld) {
  ASSERT_EQ(put("stale").status, 201);
  http::Headers h = with(std::string(http::kExpectDigestHeader), digest_of("fresh"));
  h.set("If-Match", quoted(digest_of("stale")));
  // Bytes that miss the expected digest: nothing changes, the old copy stays in place.
  http::Headers bad = h;
  bad.set(std::string(http::kExpectDigestHeader), digest_of("frosh"));
  EXPECT_EQ(put("fresh", bad).status, 422);
  EXPECT_EQ(hash::digest_hex(blobs_->stat(kId)->digest), digest_of("stale"));
  // The old copy is not the one named: 412.
  http::Headers other = h;
  other.set("If-Match", quoted(digest_of("nope")));
  EXPECT_EQ(put("fresh", other).status, 412);
  EXPECT_EQ(put("fresh", h).status, 201);
  EXPECT_EQ(hash::digest_hex(blobs_->stat(kId)->digest), digest_of("fresh"));
  size_t quarantined = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_.path() + "/quarantine"))
    quarantined += e.path().filename().string().rfind(kId, 0) == 0 && e.path().extension() == ".reason";
  EXPECT_EQ(quarantined, 1u);
}

// A slow download still reading the old file finds its corruption after a verified replacement
// swapped in a good copy: only the old file may go to quarantine, never the new copy.
TEST_F(StoreHandlerTest, ASlowReadersFindingNeverQuarantinesTheCopyThatReplacedItsFile) {
  const std::string old_bytes = pattern(3 * 4096);
  ASSERT_EQ(put(old_bytes).status, 201);
  std::string path;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir_.path() + "/objects"))
    if (e.is_regular_file() && e.path().filename() == kId) path = e.path();
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(2 * 4096 + 5);
    f.put(static_cast<char>(old_bytes[2 * 4096 + 5] ^ 0x01));
  }
  auto slow = handler_->handle_request(req("GET", std::string("/v1/blobs/") + kId)).response;
  ASSERT_EQ(slow.status, 200);
  ASSERT_TRUE(slow.stream->next().ok());  // the first block went out; the reader holds the old file
  const std::string fresh = pattern(3 * 4096 + 1);
  http::Headers h = with(std::string(http::kExpectDigestHeader), digest_of(fresh));
  h.set("If-Match", quoted(digest_of(old_bytes)));
  ASSERT_EQ(put(fresh, h).status, 201);
  std::string rest;
  EXPECT_FALSE(drain(slow, rest));  // the old file's bad block is still refused
  auto now = blobs_->stat(kId);
  ASSERT_TRUE(now.ok()) << "the new copy was quarantined: " << now.error().message;
  EXPECT_EQ(hash::digest_hex(now->digest), digest_of(fresh));
}

TEST_F(StoreHandlerTest, PutWithoutLengthIs411) {
  auto r = req("PUT", std::string("/v1/blobs/") + kId);
  EXPECT_EQ(handler_->handle_request(r).response.status, 411);
}

// Downloads leave by sendfile: the ranges handed out are the verified bytes, at their offsets, and a
// corrupt block ends the stream before its range is handed out.
TEST_F(StoreHandlerTest, SendfileRangesAreTheVerifiedBytesAndStopAtACorruptBlock) {
  const std::string data = pattern(3 * 4096 + 100);
  ASSERT_EQ(put(data).status, 201);
  auto r = req("GET", std::string("/v1/blobs/") + kId);
  r.headers.set("Range", "bytes=4000-8200");
  auto part = handler_->handle_request(r).response;
  ASSERT_EQ(part.status, 206);
  std::string body;
  ASSERT_TRUE(drain_ranges(part, body));
  EXPECT_EQ(body, data.substr(4000, 4201));
  std::string path;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir_.path() + "/objects"))
    if (e.is_regular_file() && e.path().filename() == kId) path = e.path();
  ASSERT_FALSE(path.empty());
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(2 * 4096 + 5);
    f.put(static_cast<char>(data[2 * 4096 + 5] ^ 0x01));
  }
  auto whole = handler_->handle_request(req("GET", std::string("/v1/blobs/") + kId)).response;
  ASSERT_EQ(whole.status, 200);
  body.clear();
  EXPECT_FALSE(drain_ranges(whole, body));
  EXPECT_EQ(body, data.substr(0, 2 * 4096));  // the two good blocks, not the third
  EXPECT_EQ(store_metrics_.corrupt_reads.Value(), 1);
}

TEST_F(StoreHandlerTest, CorruptBlockIsNeverReturnedAndBlobIsQuarantined) {
  const std::string data = pattern(3 * 4096);
  ASSERT_EQ(put(data).status, 201);
  // Flip one byte in the second block on disk.
  std::string path;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir_.path() + "/objects"))
    if (e.is_regular_file() && e.path().filename() == kId) path = e.path();
  ASSERT_FALSE(path.empty());
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 + 17);
    f.put(static_cast<char>(data[4096 + 17] ^ 0x01));
  }
  auto got = handler_->handle_request(req("GET", std::string("/v1/blobs/") + kId)).response;
  ASSERT_EQ(got.status, 200);
  std::string body;
  EXPECT_FALSE(drain(got, body));
  EXPECT_EQ(body, data.substr(0, 4096));  // only the good first block went out
  EXPECT_EQ(blobs_->stat(kId).code(), Errc::not_found);  // quarantined
  EXPECT_EQ(store_metrics_.corrupt_reads.Value(), 1);
  EXPECT_NE(metrics_.render().find("glint_store_corrupt_reads_total 1"), std::string::npos);
}

TEST_F(StoreHandlerTest, DeleteAndHead) {
  ASSERT_EQ(put("hello").status, 201);
  auto head = handler_->handle_request(req("HEAD", std::string("/v1/blobs/") + kId)).response;
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.content_length, 5u);
  EXPECT_FALSE(head.stream);
  const http::Headers any = with("If-Match", "*");
  EXPECT_EQ(handler_->handle_request(req("DELETE", std::string("/v1/blobs/") + kId, true, std::nullopt, any)).response.status, 204);
  EXPECT_EQ(handler_->handle_request(req("DELETE", std::string("/v1/blobs/") + kId, true, std::nullopt, any)).response.status, 404);
  EXPECT_EQ(handler_->handle_request(req("HEAD", std::string("/v1/blobs/") + kId)).response.status, 404);
}

TEST_F(StoreHandlerTest, HealthMetricsAndUnknownRoutes) {
  EXPECT_EQ(handler_->handle_request(req("GET", "/healthcheck", false)).response.status, 200);
  auto m = handler_->handle_request(req("GET", "/metrics", false)).response;
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("glint_store_free_bytes"), std::string::npos);
  EXPECT_EQ(handler_->handle_request(req("GET", "/nope", false)).response.status, 404);
  auto r = handler_->handle_request(req("POST", std::string("/v1/blobs/") + kId, false)).response;
  EXPECT_EQ(r.status, 405);
  EXPECT_TRUE(r.headers.get("Allow").has_value());
}

}  // namespace
}  // namespace glint::store
