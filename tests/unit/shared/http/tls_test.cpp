// HTTPS in glint's server and client, with certificates made by tests/support/make_certs.sh for
// this run: a verified exchange; a wrong CA, a wrong name and an expired certificate refused with
// a clear reason; a plain client refused; SIGHUP swaps the certificate for new connections.
#include <gtest/gtest.h>

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "shared/http/client.hpp"
#include "shared/http/server.hpp"
#include "tests/support/process.hpp"

namespace glint::http {
namespace {

using namespace std::chrono_literals;

class Hello final : public Handler {
 public:
  Reply handle_request(const Request& req) override { return Reply::of(text_response(200, "hello " + req.path)); }
};

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/glint-tls-XXXXXX";
    dir_ = mkdtemp(tmpl);
    const std::string cmd = std::string(GLINT_TEST_SOURCE_DIR) + "/tests/support/make_certs.sh " + dir_ + " localhost node1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  void start(const std::string& name) {
    ServerOptions o;
    o.threads = 2;
    o.tls.cert_file = dir_ + "/" + name + ".pem";
    o.tls.key_file = dir_ + "/" + name + ".key";
    log_file_ = dir_ + "/server-" + std::to_string(++servers_) + ".log";
    server_ = std::make_unique<Server>(o, handler_, log::Logger::make("test", log::Level::info, log_file_));
    ASSERT_TRUE(server_->listen().ok());
    thread_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    if (!server_) return;
    server_->stop();
    thread_.join();
  }
  ClientTls trust(const std::string& ca, const std::string& name = "localhost") {
    auto ctx = client_tls(TlsFiles{"", "", dir_ + "/" + ca + ".pem"});
    EXPECT_TRUE(ctx.ok()) << ctx.error().message;
    return ClientTls{*ctx, name};
  }
  Expected<ClientResponse> get(std::optional<ClientTls> tls) {
    return Client("127.0.0.1", server_->port(), 10s, std::move(tls)).request("GET", "/x");
  }
  bool log_has(const std::string& what) { return slurp(log_file_).find(what) != std::string::npos; }
  bool wait_for_log(const std::string& what) { return testing::wait_for([&] { return log_has(what); }, 20s); }

  static std::string dir_;
  static int servers_;
  Hello handler_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::string log_file_;
};
std::string TlsTest::dir_;
int TlsTest::servers_ = 0;

TEST_F(TlsTest, AVerifiedExchange) {
  start("localhost");
  auto r = get(trust("ca"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello /x");
}

TEST_F(TlsTest, AWrongCaOrNameOrAPlainClientIsRefused) {
  start("localhost");
  auto wrong_ca = get(trust("other-ca"));
  ASSERT_FALSE(wrong_ca.ok());
  EXPECT_NE(wrong_ca.error().message.find("unable to get local issuer certificate"), std::string::npos) << wrong_ca.error().message;
  auto wrong_name = get(trust("ca", "node2"));
  ASSERT_FALSE(wrong_name.ok());
  EXPECT_NE(wrong_name.error().message.find("node2"), std::string::npos) << wrong_name.error().message;
  auto plain = get(std::nullopt);
  EXPECT_FALSE(plain.ok() && plain->status == 200);
  EXPECT_TRUE(wait_for_log("http.tls_handshake_failed"));
  EXPECT_EQ(get(trust("ca"))->status, 200);  // and the server still serves
}

TEST_F(TlsTest, ANodeCertificateIsVerifiedByTheNodesName) {
  start("node1");
  auto ok = get(trust("ca", "node1"));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->status, 200);
}

TEST_F(TlsTest, AServerCertificateThatExpiredOrWhoseKeyDiffersDoesNotStart) {
  ServerOptions o;
  o.tls = TlsFiles{dir_ + "/expired.pem", dir_ + "/expired.key", ""};
  Server expired(o, handler_, log::Logger::null());
  Status s = expired.listen();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("expired on"), std::string::npos) << s.message();
  o.tls = TlsFiles{dir_ + "/localhost.pem", dir_ + "/node1.key", ""};
  Server mismatched(o, handler_, log::Logger::null());
  Status m = mismatched.listen();
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.message().find("mismatch"), std::string::npos) << m.message();
  EXPECT_FALSE(client_tls(TlsFiles{"", "", dir_ + "/nothing.pem"}).ok());
}

TEST_F(TlsTest, SighupSwapsTheCertificateForNewConnections) {
  // Served files are copies, so the test can replace them as an operator would.
  std::filesystem::copy_file(dir_ + "/localhost.pem", dir_ + "/live.pem", std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(dir_ + "/localhost.key", dir_ + "/live.key", std::filesystem::copy_options::overwrite_existing);
  start("live");
  ASSERT_EQ(get(trust("ca"))->status, 200);
  // A bad pair first: refused, the old certificate stays.
  std::filesystem::copy_file(dir_ + "/expired.pem", dir_ + "/live.pem", std::filesystem::copy_options::overwrite_existing);
  std::raise(SIGHUP);
  ASSERT_TRUE(wait_for_log("http.tls_reload_failed"));
  ASSERT_EQ(get(trust("ca"))->status, 200);
  // Then the rogue CA's certificate: new connections now need that CA.
  std::filesystem::copy_file(dir_ + "/rogue.pem", dir_ + "/live.pem", std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(dir_ + "/rogue.key", dir_ + "/live.key", std::filesystem::copy_options::overwrite_existing);
  std::raise(SIGHUP);
  ASSERT_TRUE(wait_for_log("http.tls_reloaded"));
  EXPECT_FALSE(get(trust("ca")).ok());
  auto now = get(trust("other-ca"));
  ASSERT_TRUE(now.ok()) << now.error().message;
  EXPECT_EQ(now->status, 200);
}

}  // namespace
}  // namespace glint::http
