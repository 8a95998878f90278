// The Beast server adapter on loopback with a scripted handler: body streaming, sink refusals,
// drain on stop.
#include "shared/http/server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <unistd.h>

#include "shared/http/client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/string_source.hpp"

namespace glint::http {
namespace {

// Accepts bodies into memory, refusing once more than `limit` bytes arrived.
class CountingSink final : public BodySink {
 public:
  CountingSink(size_t limit, std::atomic<int>& finished) : limit_(limit), finished_(finished) {}
  Status write(std::span<const std::byte> c) override {
    got_ += c.size();
    if (got_ > limit_) return Status(Errc::no_space, "over the limit");
    return {};
  }
  Response finish() override {
    ++finished_;
    return text_response(201, std::to_string(got_));
  }
  Response failed(const Status& why) override { return json_error(507, "Insufficient Storage", why.message()); }
  void abort() override {}

 private:
  size_t limit_;
  size_t got_ = 0;
  std::atomic<int>& finished_;
};

// A file body: `file` sent in ranges of 256 KiB by sendfile, then `tail` from memory; with
// fail_after, an error after that many ranges (the server must cut the stream).
class FileSource final : public BodySource, public FileBody {
 public:
  FileSource(int fd, size_t file_size, std::string tail, int fail_after, std::atomic<int>* ahead_asks = nullptr)
      : fd_(fd), size_(file_size), tail_(std::move(tail)), fail_after_(fail_after), ahead_asks_(ahead_asks) {}
  // With ahead_asks, the server may ask for the next range while the socket drains (it counts how
  // often it asked: only when a sendfile found the socket full).
  bool verify_ahead() const override {
    if (ahead_asks_) ++*ahead_asks_;
    return ahead_asks_ != nullptr;
  }
  Expected<std::span<const std::byte>> next() override { return Error{Errc::io_error, "next() must not be used"}; }
  Expected<FileRange> next_range() override {
    if (fail_after_ >= 0 && ranges_++ >= fail_after_) return Error{Errc::corrupt, "block 1 is corrupt"};
    if (pos_ < size_) {
      const size_t n = std::min<size_t>(256 * 1024, size_ - pos_);
      FileRange r{fd_, pos_, n, {}};
      pos_ += n;
      return r;
    }
    if (!tail_done_) {
      tail_done_ = true;
      return FileRange{-1, 0, tail_.size(), {reinterpret_cast<const std::byte*>(tail_.data()), tail_.size()}};
    }
    return FileRange{-1, 0, 0, {}};
  }

 private:
  int fd_;
  size_t size_, pos_ = 0;
  std::string tail_;
  int fail_after_, ranges_ = 0;
  bool tail_done_ = false;
  std::atomic<int>* ahead_asks_;
};

class ScriptedHandler final : public Handler {
 public:
  Reply handle_request(const Request& req) override {
    ++calls;
    if (req.path == "/throw") throw std::runtime_error("handler bug");
    if (req.path == "/file" || req.path == "/file-bad" || req.path == "/file-ahead" || req.path == "/file-ahead-bad") {
      Response r;
      const bool bad = req.path.ends_with("-bad");
      r.stream = std::make_unique<FileSource>(file_fd, file_size, "tail!", bad ? 2 : -1,
                                              req.path.starts_with("/file-ahead") ? &ahead_asks : nullptr);
      r.content_length = file_size + 5;
      return Reply::of(std::move(r));
    }
    if (req.method == "PUT") return Reply::upload(std::make_unique<CountingSink>(limit, finished));
    return Reply::of(text_response(200, "hello " + req.path));
  }
  size_t limit = 1 << 30;
  int file_fd = -1;
  size_t file_size = 0;
  std::atomic<int> finished{0};
  std::atomic<int> calls{0};
  std::atomic<int> ahead_asks{0};
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.threads = 2;
    o.body_chunk_bytes = 64 * 1024;
    server_ = std::make_unique<Server>(o, handler_, log::Logger::null());
    ASSERT_TRUE(server_->listen().ok());
    thread_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    server_->stop();
    thread_.join();
  }
  Client client() { return Client("127.0.0.1", server_->port(), std::chrono::seconds(10)); }
  void file_body_round_trip(const std::string& path, size_t size);

  ScriptedHandler handler_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

TEST_F(ServerTest, ServesPlainResponsesWithRequestIds) {
  auto r = client().request("GET", "/x");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello /x");
  EXPECT_EQ(r->header("x-openstack-request-id").rfind("req-", 0), 0u);
  Headers h;
  h.set("X-Openstack-Request-Id", "req-abcdef12");
  auto kept = client().request("GET", "/y", h);
  EXPECT_EQ(kept->header("x-openstack-request-id"), "req-abcdef12");
}

// GET `path` of an unlinked file of `size` patterned bytes, then `path`-bad: the whole body
// (file + tail) and, for the failing source, a cut stream.
void ServerTest::file_body_round_trip(const std::string& path, size_t size) {
  char name[] = "/tmp/glint-sendfile-XXXXXX";
  const int fd = ::mkstemp(name);
  ASSERT_GE(fd, 0);
  ::unlink(name);
  std::string data(size, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 251);
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  handler_.file_fd = fd;
  handler_.file_size = data.size();
  auto r = client().request("GET", path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body == data + "tail!") << "got " << r->body.size() << " bytes";
  auto bad = client().request("GET", path + "-bad");
  EXPECT_TRUE(!bad.ok() || bad->body.size() < data.size()) << "a failed range must cut the stream";
  ::close(fd);
}

TEST_F(ServerTest, FileBodiesGoOutBySendfileAndAnErrorCutsTheStream) { file_body_round_trip("/file", 1'000'003); }

TEST_F(ServerTest, RangesMadeReadyWhileTheSocketDrainsGoOutInOrderAndAnErrorStillCuts) {
  file_body_round_trip("/file-ahead", 24'000'007);  // far more than a loopback socket buffer holds
  EXPECT_GT(handler_.ahead_asks.load(), 0) << "the socket never filled: the path under test did not run";
}

TEST_F(ServerTest, StreamsBodiesIntoTheSink) {
  const std::string body(1'000'000, 'b');
  auto r = client().request("PUT", "/b", {}, body);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "1000000");
}

TEST_F(ServerTest, RefusalOfTheLastChunkIsAnsweredAndNeverFinished) {
  const std::string body(3 * 64 * 1024, 'c');
  handler_.limit = body.size() - 1;  // only the very last chunk crosses the limit
  testing::StringSource src(body, 64 * 1024);
  ClientRequest req;
  req.method = "PUT";
  req.target = "/b";
  req.upload = &src;
  req.upload_length = body.size();
  auto r = client().send(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 507);
  EXPECT_EQ(handler_.finished.load(), 0);
}

TEST_F(ServerTest, EarlyRefusalStillReachesTheClient) {
  handler_.limit = 10;
  const std::string body(8 << 20, 'd');  // far more than the socket buffers hold
  auto r = client().request("PUT", "/b", {}, body);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 507);
}

// A handler that throws answers 500 on a connection that stays usable, and the request is no
// longer counted in flight (a leaked count made every later SIGTERM wait the whole drain timeout).
TEST_F(ServerTest, AThrowingHandlerIsAnswered500AndNothingLeaks) {
  Client c = client();
  auto r = c.request("GET", "/throw");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 500);
  auto again = client().request("GET", "/fine");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 200);
  // The session releases its count just after the client has its answer: wait, with a deadline.
  EXPECT_TRUE(testing::wait_for([&] { return server_->in_flight() == 0; }, std::chrono::seconds(10)));
}

TEST_F(ServerTest, BytesThatAreNotUtf8Get400BeforeAnyHandler) {
  const int before = handler_.calls.load();
  for (const std::string& target : {std::string("/v2/images/\xff"), std::string("/x?name=\xc3\x28"),
                                   std::string("/a\xed\xa0\x80")}) {
    auto r = client().request("GET", target);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 400) << target;
  }
  Headers h;
  h.set("X-Name", "caf\xe9");  // Latin-1, not UTF-8
  auto hr = client().request("GET", "/x", h);
  ASSERT_TRUE(hr.ok());
  EXPECT_EQ(hr->status, 400);
  EXPECT_EQ(handler_.calls.load(), before);
  auto ok = client().request("GET", "/caf\xc3\xa9");  // valid UTF-8 is fine
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
  EXPECT_TRUE(testing::wait_for([&] { return server_->in_flight() == 0; }, std::chrono::seconds(10)));
}

TEST(Utf8, ValidAndInvalidSequences) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(valid_utf8("\xff"));
  EXPECT_FALSE(valid_utf8("\xc3"));              // truncated
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));         // overlong
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));     // surrogate
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80")); // past U+10FFFF
  EXPECT_FALSE(valid_utf8("\xe2\x82"));         // truncated at the end
  EXPECT_NE(json_error(400, "Bad", "id \xff").body.find("\"code\":400"), std::string::npos);
}

}  // namespace
}  // namespace glint::http
