// The bus's authentication rules: what each kind of key may say, and the key files.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "shared/bus/curve.hpp"

namespace glint::bus {
namespace {

Envelope from(const char* type, const char* node, const char* role) {
  Envelope e;
  e.type = type;
  e.from = Sender{node, role, 1, "test"};
  return e;
}

TEST(CurveRules, EachKeySpeaksOnlyInItsRole) {
  const AuthorizedKey store1{KeyRole::store, "node1"}, worker1{KeyRole::worker, "node1"}, api{KeyRole::api, "api1"},
      op{KeyRole::operator_, "alice"};
  // Allowed.
  EXPECT_FALSE(refuse_sender(store1, from(type::kHeartbeat, "node1", "store")));
  EXPECT_FALSE(refuse_sender(store1, from(type::kEvent, "node1", "store")));
  EXPECT_FALSE(refuse_sender(worker1, from(type::kHeartbeat, "node1", "replicator")));
  EXPECT_FALSE(refuse_sender(worker1, from(type::kEvent, "node1", "auditor")));
  EXPECT_FALSE(refuse_sender(api, from(type::kEvent, "api1", "api")));
  EXPECT_FALSE(refuse_sender(op, from(type::kCommand, "host", "ctl")));
  // Refused: another node's store, a worker as a store, commands without an operator key, the
  // coordinator's name, a store key as a worker, an api key as a worker, an operator as a store.
  EXPECT_TRUE(refuse_sender(store1, from(type::kHeartbeat, "node2", "store")));
  EXPECT_TRUE(refuse_sender(worker1, from(type::kHeartbeat, "node1", "store")));
  EXPECT_TRUE(refuse_sender(worker1, from(type::kCommand, "node1", "replicator")));
  EXPECT_TRUE(refuse_sender(store1, from(type::kCommand, "node1", "store")));
  EXPECT_TRUE(refuse_sender(api, from(type::kCommand, "api1", "api")));
  EXPECT_TRUE(refuse_sender(worker1, from(type::kEvent, "node1", "coordinator")));
  EXPECT_TRUE(refuse_sender(store1, from(type::kEvent, "node1", "replicator")));
  EXPECT_TRUE(refuse_sender(api, from(type::kEvent, "api1", "replicator")));
  EXPECT_TRUE(refuse_sender(worker1, from(type::kEvent, "node2", "replicator")));
  EXPECT_TRUE(refuse_sender(op, from(type::kHeartbeat, "node1", "store")));
}

TEST(CurveRules, UserIdRoundTrips) {
  const AuthorizedKey k{KeyRole::worker, "node7"};
  auto back = key_of_user_id(user_id_of(k));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->role, KeyRole::worker);
  EXPECT_EQ(back->name, "node7");
  EXPECT_FALSE(key_of_user_id(""));
  EXPECT_FALSE(key_of_user_id("root node1"));
}

TEST(CurveFiles, AuthorizedKeysWithFileAndLine) {
  const CurveKeys a = generate_keys(), b = generate_keys();
  auto ok = parse_authorized_keys("# keys\n\nstore node1 " + a.public_key + "\noperator alice " + b.public_key + "\n", "auth");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->size(), 2u);
  EXPECT_EQ(ok->at(a.public_key).name, "node1");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"root node1 " + a.public_key, "auth:1: unknown role 'root'"},
      {"store node1", "auth:1: expected ROLE NAME PUBLIC_KEY"},
      {"\nstore node1 tooshort", "auth:2: not a CURVE public key"},
      {"store n1 " + a.public_key + "\nstore n2 " + a.public_key, "auth:2: this key is listed twice"},
      {"store n1 " + a.public_key + " extra", "auth:1: expected ROLE NAME PUBLIC_KEY"},
  };
  for (const auto& [text, want] : bad) {
    auto r = parse_authorized_keys(text, "auth");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.error().message.find(want), std::string::npos) << r.error().message;
  }
}

TEST(CurveFiles, AKeyFileMustBePrivateAndWellFormed) {
  char tmpl[] = "/tmp/glint-key-XXXXXX";
  const int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  const std::string path = tmpl;
  const CurveKeys k = generate_keys();
  std::ofstream(path) << key_file_text(k);
  ::chmod(path.c_str(), 0600);
  auto loaded = load_key_file(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->public_key, k.public_key);
  EXPECT_EQ(loaded->secret_key, k.secret_key);
  ::chmod(path.c_str(), 0640);
  auto shared = load_key_file(path);
  ASSERT_FALSE(shared.ok());
  EXPECT_NE(shared.error().message.find("chmod 600"), std::string::npos);
  ::chmod(path.c_str(), 0600);
  std::ofstream(path) << "public = " << k.public_key << "\nsecret = nope\n";
  auto broken = load_key_file(path);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message.find(":2:"), std::string::npos) << broken.error().message;
  std::remove(path.c_str());
  EXPECT_FALSE(load_key_file("/nonexistent/key").ok());
}

}  // namespace
}  // namespace glint::bus
