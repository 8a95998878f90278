// Inter-node TLS with a real glint-store ([tls] files made by tests/support/make_certs.sh for this
// run) and the HTTP BlobPeer api and replicator use: blobs move (including the read into a pipe,
// which TLS cannot splice); a store is accepted only with the cluster CA and its node's name; a
// client without a certificate of that CA is refused and the store says why; an expired
// certificate stops a store at start and a peer before it sends anything.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "shared/core/uuid.hpp"
#include "shared/peer/blob_peer.hpp"
#include "tests/support/pg.hpp"
#include "tests/support/store_node.hpp"
#include "tests/support/string_source.hpp"

namespace glint::testing {
namespace {

using namespace std::chrono_literals;
const std::string kAbc = "abc";

class StoreTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new TempDir("glint-store-tls-certs");
    const std::string cmd =
        std::string(GLINT_TEST_SOURCE_DIR) + "/tests/support/make_certs.sh " + certs_->path() + " node1 node2 api";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() { delete certs_; }
  static std::string cert(const std::string& name, const char* ext = ".pem") { return *certs_ / (name + ext); }

  // A store named node1 serving `served`'s certificate.
  bool start_store(const std::string& served = "node1") {
    StoreNodeOptions o;
    o.data_dir = dir_ / "data";
    o.overrides["tls.ca_file"] = cert("ca");
    o.overrides["tls.cert_file"] = cert(served);
    o.overrides["tls.key_file"] = cert(served, ".key");
    auto tls = http::client_tls(http::TlsFiles{cert("api"), cert("api", ".key"), cert("ca")});
    EXPECT_TRUE(tls.ok()) << tls.error().message;
    if (tls) o.client_tls = http::ClientTls{*tls, "localhost"};
    store_ = std::make_unique<StoreNode>(o);
    return store_->start(20s);
  }
  void TearDown() override {
    if (store_ && store_->running()) {
      EXPECT_EQ(store_->stop(), 0) << read_file(store_->log_path());
    }
  }
  peer::Endpoint node1() const { return peer::Endpoint{"node1", "127.0.0.1", store_->port()}; }
  // A peer trusting `ca` and presenting `client` (empty: no certificate).
  std::unique_ptr<peer::BlobPeer> peer_with(const std::string& ca, const std::string& client = "api") {
    peer::PeerOptions o;
    o.shared_secret = "test-secret";
    o.timeout = 10s;
    auto tls = http::client_tls(http::TlsFiles{client.empty() ? "" : cert(client), client.empty() ? "" : cert(client, ".key"), cert(ca)});
    EXPECT_TRUE(tls.ok()) << tls.error().message;
    if (tls) o.tls = *tls;
    return peer::make_http_blob_peer(std::move(o), clock_);
  }
  // Reads [first, last] of `id` through a pipe, as glint-api does.
  std::pair<peer::ReadResult, std::string> read(peer::BlobPeer& p, const std::string& id, uint64_t first = 0,
                                                std::optional<uint64_t> last = std::nullopt) {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    std::string got;
    std::thread reader([&] {
      char buf[65536];
      for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
    });
    peer::ReadResult r = p.read_into(node1(), id, first, last, fds[1]);
    ::close(fds[1]);
    reader.join();
    ::close(fds[0]);
    return {r, got};
  }
  bool store_logged(const std::string& what) {
    return wait_for([&] { return read_file(store_->log_path()).find(what) != std::string::npos; }, 10s);
  }

  static TempDir* certs_;
  TempDir dir_{"glint-store-tls"};
  SystemClock clock_;
  std::unique_ptr<StoreNode> store_;
};
TempDir* StoreTlsTest::certs_ = nullptr;

std::string bytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7919) >> 3);
  return s;
}

TEST_F(StoreTlsTest, BlobsMoveOverVerifiedTlsAndPlainHttpIsRefused) {
  ASSERT_TRUE(start_store()) << read_file(store_->log_path());
  auto p = peer_with("ca");
  const std::string id = random_uuid();
  const std::string data = bytes(3 * (1 << 20) + 4321);
  StringSource src(data, 65536);
  auto put = p->put(node1(), id, src, data.size());
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_EQ(put->size, data.size());

  auto [whole, got] = read(*p, id);
  EXPECT_EQ(whole.outcome, peer::ReadOutcome::complete) << whole.detail;
  EXPECT_EQ(whole.delivered, data.size());
  EXPECT_TRUE(got == data);
  auto [part, piece] = read(*p, id, 1000, 1048999);
  EXPECT_EQ(part.outcome, peer::ReadOutcome::complete) << part.detail;
  EXPECT_TRUE(piece == data.substr(1000, 1048000));
  auto [none, nothing] = read(*p, random_uuid());
  EXPECT_EQ(none.outcome, peer::ReadOutcome::missing);
  EXPECT_TRUE(nothing.empty()) << "an error answer's body must not reach the pipe";

  auto st = p->stat(node1(), id);
  ASSERT_TRUE(st.ok() && st->has_value());
  EXPECT_EQ((*st)->digest, put->digest);
  EXPECT_TRUE(p->remove(node1(), id, put->digest).ok());
  st = p->stat(node1(), id);
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE(st->has_value());

  // The store serves HTTPS only: a plain request gets no answer.
  auto plain = http::Client("127.0.0.1", store_->port(), 5s).request("GET", "/healthcheck");
  EXPECT_FALSE(plain.ok() && plain->status == 200);
}

TEST_F(StoreTlsTest, AStoreIsAcceptedOnlyWithTheClusterCaAndItsNodesName) {
  ASSERT_TRUE(start_store()) << read_file(store_->log_path());
  const std::string id = random_uuid();
  StringSource src(kAbc, 3);
  auto wrong_ca = peer_with("other-ca")->put(node1(), id, src, 3);
  ASSERT_FALSE(wrong_ca.ok());
  EXPECT_EQ(wrong_ca.code(), Errc::unavailable);
  // The store sends its chain up to the cluster CA, which this peer does not trust.
  EXPECT_NE(wrong_ca.error().message.find("(node1): self-signed certificate in certificate chain"), std::string::npos)
      << wrong_ca.error().message;
  auto [r, got] = read(*peer_with("other-ca"), id);
  EXPECT_EQ(r.outcome, peer::ReadOutcome::unreachable) << r.detail;
  TearDown();

  // node2's certificate, valid and signed by the CA, served at node1's address: not node1.
  ASSERT_TRUE(start_store("node2")) << read_file(store_->log_path());
  StringSource again(kAbc, 3);
  auto wrong_name = peer_with("ca")->put(node1(), id, again, 3);
  ASSERT_FALSE(wrong_name.ok());
  EXPECT_EQ(wrong_name.code(), Errc::unavailable);
  EXPECT_NE(wrong_name.error().message.find("(node1)"), std::string::npos) << wrong_name.error().message;
}

TEST_F(StoreTlsTest, AClientWithoutACertificateOfTheClusterCaIsRefusedAndTheStoreSaysWhy) {
  ASSERT_TRUE(start_store()) << read_file(store_->log_path());
  const std::string id = random_uuid();
  StringSource a(kAbc, 3);
  auto anonymous = peer_with("ca", "")->put(node1(), id, a, 3);
  EXPECT_FALSE(anonymous.ok());
  EXPECT_TRUE(store_logged("event=http.tls_handshake_failed")) << read_file(store_->log_path());
  StringSource b(kAbc, 3);
  auto rogue = peer_with("ca", "rogue")->put(node1(), id, b, 3);  // signed by another CA
  EXPECT_FALSE(rogue.ok());
  EXPECT_TRUE(store_logged("client certificate: ")) << read_file(store_->log_path());
  auto st = peer_with("ca")->stat(node1(), id);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_FALSE(st->has_value()) << "a refused client stored nothing";
}

TEST_F(StoreTlsTest, AnExpiredCertificateStopsAStoreAtStartAndAPeerBeforeItSends) {
  EXPECT_FALSE(start_store("expired"));
  EXPECT_NE(read_file(store_->log_path()).find("expired on"), std::string::npos) << read_file(store_->log_path());
  EXPECT_FALSE(store_->running());

  auto cfg = config::Config::parse("[auth]\nshared_secret = s\n[tls]\nca_file = " + cert("ca") + "\ncert_file = " +
                                       cert("expired") + "\nkey_file = " + cert("expired", ".key") + "\n",
                                   "test.conf");
  ASSERT_TRUE(std::holds_alternative<config::Config>(cfg));
  auto opts = peer::peer_options(std::get<config::Config>(cfg), "api");
  ASSERT_FALSE(opts.ok());
  EXPECT_NE(opts.error().message.find("expired on"), std::string::npos) << opts.error().message;

  auto missing = config::Config::parse("[auth]\nshared_secret = s\n[tls]\nca_file = " + cert("nobody") + "\ncert_file = " +
                                           cert("api") + "\nkey_file = " + cert("api", ".key") + "\n",
                                       "test.conf");
  ASSERT_TRUE(std::holds_alternative<config::Config>(missing));
  auto none = peer::peer_options(std::get<config::Config>(missing), "api");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("cannot read CA file " + cert("nobody") + ": No such file"), std::string::npos)
      << none.error().message;
  auto half = config::Config::parse("[auth]\nshared_secret = s\n[tls]\nca_file = " + cert("ca") + "\n", "test.conf");
  ASSERT_TRUE(std::holds_alternative<config::Config>(half));
  auto alone = peer::peer_options(std::get<config::Config>(half), "api");
  ASSERT_FALSE(alone.ok()) << "stores require a client certificate: a CA alone reaches none";
  EXPECT_NE(alone.error().message.find("together"), std::string::npos) << alone.error().message;
}

}  // namespace
}  // namespace glint::testing
