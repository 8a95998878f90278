// glint-store as a real process on loopback: the blob API, auth, and registration in PostgreSQL.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include <pqxx/pqxx>

#include "shared/core/uuid.hpp"
#include "shared/http/auth.hpp"
#include "tests/support/pg.hpp"
#include "tests/support/store_node.hpp"
#include "tests/support/string_source.hpp"

namespace glint::testing {
namespace {

std::string pattern(size_t n, unsigned seed = 1) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

class StoreProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreNodeOptions o;
    o.data_dir = dir_ / "data";
    node_ = std::make_unique<StoreNode>(o);
    ASSERT_TRUE(node_->start()) << read_file(node_->log_path());
  }
  void TearDown() override {
    if (node_) {
      EXPECT_EQ(node_->stop(), 0) << read_file(node_->log_path());  // clean exit on SIGTERM
    }
  }
  TempDir dir_{"glint-store-it"};
  std::unique_ptr<StoreNode> node_;
};

TEST_F(StoreProcessTest, PutGetRangeHeadDelete) {
  const std::string id = random_uuid();
  const std::string data = pattern(3 * (1 << 20) + 12345);
  auto put = node_->signed_request("PUT", StoreNode::blob_target(id), data);
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_EQ(put->status, 201) << put->body;
  EXPECT_NE(put->body.find("\"blocks\":4"), std::string::npos) << put->body;
  auto get = node_->signed_request("GET", StoreNode::blob_target(id));
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->status, 200);
  EXPECT_TRUE(get->body == data);
  EXPECT_EQ(get->header("x-glint-digest"), put->header("x-glint-digest"));

  http::Headers range;
  range.set("Range", "bytes=1048570-2097160");
  auto part = node_->signed_request("GET", StoreNode::blob_target(id), {}, range);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->header("content-range"), "bytes 1048570-2097160/" + std::to_string(data.size()));
  EXPECT_TRUE(part->body == data.substr(1048570, 2097160 - 1048570 + 1));
  range.set("Range", "bytes=" + std::to_string(data.size()) + "-");
  auto bad = node_->signed_request("GET", StoreNode::blob_target(id), {}, range);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 416);

  auto head = node_->signed_request("HEAD", StoreNode::blob_target(id));
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-length"), std::to_string(data.size()));
  EXPECT_TRUE(head->body.empty());

  auto again = node_->signed_request("PUT", StoreNode::blob_target(id), "x");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 409);

  auto unconditional = node_->signed_request("DELETE", StoreNode::blob_target(id));
  ASSERT_TRUE(unconditional.ok());
  EXPECT_EQ(unconditional->status, 428);  // a delete names the copy it means
  http::Headers cond;
  cond.set("If-Match", "\"" + put->header("x-glint-digest") + "\"");
  auto del = node_->signed_request("DELETE", StoreNode::blob_target(id), {}, cond);
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->status, 204);
  auto gone = node_->signed_request("GET", StoreNode::blob_target(id));
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->status, 404);
}

TEST_F(StoreProcessTest, ChunkedUploadAndEmptyBlob) {
  const std::string id = random_uuid();
  const std::string data = pattern(2'500'000, 7);
  StringSource src(data, 300'000);
  http::ClientRequest req;
  req.method = "PUT";
  req.target = StoreNode::blob_target(id);
  req.upload = &src;  // no length: chunked
  node_->sign(req.headers, req.method, req.target, "chunked");
  auto put = node_->client().send(req);
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_EQ(put->status, 201) << put->body;
  auto get = node_->signed_request("GET", StoreNode::blob_target(id));
  ASSERT_TRUE(get.ok());
  EXPECT_TRUE(get->body == data);

  const std::string empty_id = random_uuid();
  auto e = node_->signed_request("PUT", StoreNode::blob_target(empty_id), "");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->status, 201) << e->body;
  auto eg = node_->signed_request("GET", StoreNode::blob_target(empty_id));
  ASSERT_TRUE(eg.ok());
  EXPECT_EQ(eg->status, 200);
  EXPECT_TRUE(eg->body.empty());
}

TEST_F(StoreProcessTest, AuthFailuresAre401AndChangeNothing) {
  const std::string id = random_uuid();
  const std::string target = StoreNode::blob_target(id);
  auto unsigned_put = node_->client().request("PUT", target, {}, "data");
  ASSERT_TRUE(unsigned_put.ok());
  EXPECT_EQ(unsigned_put->status, 401);

  http::Headers bad;
  node_->sign(bad, "PUT", target, "4", "wrong-secret");
  auto wrong = node_->client().request("PUT", target, bad, "data");
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 401);

  http::Headers old;
  node_->sign(old, "PUT", target, "4", "", std::chrono::system_clock::now() - std::chrono::hours(1));
  auto stale = node_->client().request("PUT", target, old, "data");
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->status, 401);

  http::Headers for_get;  // a valid GET signature replayed on DELETE
  node_->sign(for_get, "GET", target, "");
  for_get.set("If-Match", "*");
  auto replay = node_->client().request("DELETE", target, for_get);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->status, 401);

  // A good PUT, captured and sent again: refused, and nothing changes.
  http::Headers good;
  node_->sign(good, "PUT", target, "4");
  auto first = node_->client().request("PUT", target, good, "data");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, 201);
  auto gone = node_->signed_request("DELETE", target, "", [] {
    http::Headers h;
    h.set("If-Match", "*");
    return h;
  }());
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->status, 204);
  auto again = node_->client().request("PUT", target, good, "data");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 401);
  EXPECT_NE(again->body.find("replayed"), std::string::npos);

  auto head = node_->signed_request("HEAD", target);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->status, 404);  // nothing was written
}

TEST_F(StoreProcessTest, MetricsExposeTraffic) {
  const std::string id = random_uuid();
  ASSERT_EQ(node_->signed_request("PUT", StoreNode::blob_target(id), pattern(1000))->status, 201);
  const std::vector<std::string> names = {"glint_store_received_bytes_total 1000",
                                         "glint_store_requests_total{code=\"201\",method=\"PUT\"} 1",
                                         "glint_store_fsync_seconds_count 1", "glint_store_free_bytes",
                                         "glint_store_corrupt_reads_total 0"};
  // A request is counted after its response went out (on_complete): the client may ask for the
  // metrics before the server got there, so wait for them, with a deadline.
  std::string body;
  const bool all = wait_for([&] {
    auto m = node_->client().request("GET", "/metrics");
    if (!m.ok() || m->status != 200) return false;
    body = m->body;
    return std::all_of(names.begin(), names.end(), [&](const std::string& n) { return body.find(n) != std::string::npos; });
  }, std::chrono::seconds(10));
  for (const auto& name : names) EXPECT_NE(body.find(name), std::string::npos) << name << "\n" << body;
  EXPECT_TRUE(all);
}

TEST(StoreRegistration, RegistersAndHeartbeatsInTheNodesTable) {
  auto admin = admin_database_url();
  if (!admin) GTEST_SKIP() << "no PostgreSQL";
  const std::string url = fresh_database_url("store_reg");
  TempDir dir("glint-store-reg");
  StoreNodeOptions o;
  o.name = "reg-node";
  o.zone = "zone-b";
  o.data_dir = dir / "data";
  o.database_url = url;
  o.overrides["store.weight"] = "2.5";
  StoreNode node(o);
  ASSERT_TRUE(node.start()) << read_file(node.log_path());
  pqxx::connection c(url);
  auto row = [&]() -> std::optional<pqxx::row> {
    try {
      pqxx::nontransaction tx(c);
      auto r = tx.exec("select address, zone, weight, capacity, free, state, extract(epoch from last_heartbeat) "
                       "from nodes where name = 'reg-node'");
      if (r.empty()) return std::nullopt;
      return r[0];
    } catch (const std::exception&) {
      return std::nullopt;  // tables may not exist until the node migrated
    }
  };
  ASSERT_TRUE(wait_for([&] { return row().has_value(); }, std::chrono::seconds(20))) << read_file(node.log_path());
  auto r = *row();
  EXPECT_EQ(r[0].as<std::string>(), "127.0.0.1:" + std::to_string(node.port()));
  EXPECT_EQ(r[1].as<std::string>(), "zone-b");
  EXPECT_DOUBLE_EQ(r[2].as<double>(), 2.5);
  EXPECT_GT(r[3].as<int64_t>(), 0);
  EXPECT_GT(r[4].as<int64_t>(), 0);
  EXPECT_EQ(r[5].as<std::string>(), "up");
  const double first_beat = r[6].as<double>();
  EXPECT_TRUE(wait_for([&] { auto x = row(); return x && (*x)[6].as<double>() > first_beat; }, std::chrono::seconds(20)))
      << "heartbeat did not advance";
  {
    pqxx::nontransaction tx(c);  // an operator (or a rebuilt database) loses the row
    tx.exec("delete from nodes where name = 'reg-node'");
  }
  EXPECT_TRUE(wait_for([&] { return row().has_value(); }, std::chrono::seconds(20))) << "node did not re-register";
  EXPECT_EQ(node.stop(), 0);
}

TEST(StoreRegistration, KeepsServingWhileTheDatabaseIsDown) {
  TempDir dir("glint-store-nodb");
  StoreNodeOptions o;
  o.data_dir = dir / "data";  // database_url empty: a closed port
  StoreNode node(o);
  ASSERT_TRUE(node.start()) << read_file(node.log_path());
  const std::string id = random_uuid();
  auto put = node.signed_request("PUT", StoreNode::blob_target(id), "still works");
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put->status, 201);
  ASSERT_TRUE(wait_for([&] {
    auto m = node.client().request("GET", "/metrics");
    return m.ok() && m->body.find("glint_store_db_errors_total 0") == std::string::npos;
  }, std::chrono::seconds(20)));
  EXPECT_NE(read_file(node.log_path()).find("event=node.heartbeat_failed"), std::string::npos);
  EXPECT_EQ(node.stop(), 0);
}

}  // namespace
}  // namespace glint::testing
