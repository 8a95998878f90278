// glint-coordinator with CURVE on: only listed keys connect (an unknown one is refused and
// counted), only operator keys send commands, and a key cannot speak for another node, so forged
// heartbeats do not keep a silent storage node up.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

#include "shared/bus/bus_client.hpp"
#include "shared/bus/curve.hpp"
#include "shared/bus/request.hpp"
#include "shared/db/pool.hpp"
#include "shared/db/repositories.hpp"
#include "tests/support/pg.hpp"
#include "tests/support/service_process.hpp"
#include "tests/support/store_node.hpp"

namespace glint::testing {
namespace {

using namespace std::chrono_literals;

class CurveCoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!admin_database_url()) GTEST_SKIP() << "no PostgreSQL";
    db_url_ = fresh_database_url("curve");
    router_ = "tcp://127.0.0.1:" + std::to_string(closed_port());
    pub_ = "tcp://127.0.0.1:" + std::to_string(closed_port());
    server_ = bus::generate_keys();
    const std::string key_file = dir_ / "coordinator.key";
    write(key_file, bus::key_file_text(server_));
    ::chmod(key_file.c_str(), 0600);
    const std::string authorized = dir_ / "authorized";
    write(authorized, "# role name key\nstore node1 " + store1_.public_key + "\nworker node2 " + worker2_.public_key +
                          "\noperator alice " + operator_.public_key + "\n");
    IniMap ini;
    ini["database"]["connection"] = db_url_;
    ini["bus"]["router_endpoint"] = router_;
    ini["bus"]["pub_endpoint"] = pub_;
    ini["bus"]["curve_key_file"] = key_file;
    ini["coordinator"]["curve_authorized_keys"] = authorized;
    ini["cluster"]["node_down_after"] = "2s";
    ini["coordinator"]["sweep_interval"] = "200ms";
    ASSERT_TRUE(coord_.start(ini)) << read_file(coord_.log_path());
    db::PoolOptions po;
    po.url = db_url_;
    pool_ = std::make_unique<db::Pool>(po);
    nodes_ = db::make_node_repository(*pool_);
  }
  static void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
  bus::CurveClient as(const bus::CurveKeys& k) { return bus::CurveClient{k, server_.public_key}; }
  bus::ClientOptions client(const bus::CurveKeys& k, const std::string& node, const std::string& role) {
    bus::ClientOptions o;
    o.router_endpoint = router_;
    o.pub_endpoint = pub_;
    o.self = bus::Sender{node, role, 1, "test"};
    o.heartbeat_interval = 200ms;
    o.curve = as(k);
    return o;
  }
  bus::Envelope members_command() {
    return bus::make_envelope(bus::type::kCommand, bus::Sender{"host", "ctl", 1, "test"}, std::chrono::system_clock::now(),
                              {{"command", "members"}});
  }
  std::string metrics() {
    auto m = coord_.client().request("GET", "/metrics");
    return m ? m->body : std::string();
  }

  TempDir dir_{"glint-curve-it"};
  ServiceProcess coord_{"glint-coordinator", "coordinator", dir_ / "coord"};
  bus::CurveKeys server_, store1_ = bus::generate_keys(), worker2_ = bus::generate_keys(), operator_ = bus::generate_keys(),
                          stranger_ = bus::generate_keys();
  std::string db_url_, router_, pub_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<db::NodeRepository> nodes_;
  SystemClock clock_;
};

TEST_F(CurveCoordinatorTest, AnUnknownKeyIsRefusedAndCounted) {
  auto r = bus::request(router_, members_command(), 1500ms, as(stranger_));
  EXPECT_FALSE(r.ok());
  ASSERT_TRUE(wait_for([&] { return metrics().find("glint_coordinator_auth_refused_total{reason=\"unknown_key\"}") != std::string::npos; }, 10s))
      << metrics();
  EXPECT_NE(read_file(coord_.log_path()).find("event=bus.key_refused"), std::string::npos);
  // Without CURVE at all, nothing gets through either.
  EXPECT_FALSE(bus::request(router_, members_command(), 1500ms).ok());
}

TEST_F(CurveCoordinatorTest, OnlyAnOperatorKeySendsCommands) {
  auto refused = bus::request(router_, members_command(), 10s, as(worker2_));
  ASSERT_TRUE(refused.ok()) << refused.error().message;
  EXPECT_FALSE(refused->body.value("ok", true));
  EXPECT_NE(refused->body.value("error", std::string()).find("may not send commands"), std::string::npos);
  auto allowed = bus::request(router_, members_command(), 10s, as(operator_));
  ASSERT_TRUE(allowed.ok()) << allowed.error().message;
  EXPECT_TRUE(allowed->body.value("ok", false)) << allowed->body.dump();
  EXPECT_NE(metrics().find("glint_coordinator_auth_refused_total{reason=\"role\"}"), std::string::npos);
}

TEST_F(CurveCoordinatorTest, ForgedHeartbeatsDoNotKeepASilentNodeUp) {
  // node1's store is gone (its row goes stale); node2's worker key heartbeats as node1's store.
  db::NodeRow n;
  n.name = "node1";
  n.address = "127.0.0.1:1";
  n.zone = "z1";
  ASSERT_TRUE(nodes_->register_node(n).ok());
  bus::BusClient forger(client(worker2_, "node1", "store"), clock_, log::Logger::null());
  ASSERT_TRUE(wait_for([&] { return (*nodes_->get("node1"))->state == NodeState::down; }, 20s)) << read_file(coord_.log_path());
  EXPECT_NE(read_file(coord_.log_path()).find("cannot speak as a store"), std::string::npos);
  // The genuine key is admitted: node1's store shows among the members.
  bus::BusClient genuine(client(store1_, "node1", "store"), clock_, log::Logger::null());
  ASSERT_TRUE(wait_for([&] {
    auto m = bus::request(router_, members_command(), 2s, as(operator_));
    return m && m->body.dump().find("\"store\"") != std::string::npos;
  }, 15s));
}

}  // namespace
}  // namespace glint::testing
