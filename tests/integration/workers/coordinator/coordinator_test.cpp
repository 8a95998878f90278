// glint-coordinator as a real process over ZeroMQ and PostgreSQL: registration, a silent storage
// node marked down and back up with events, event fan-out to subscribers, and a kill -9 restart.
// ZeroMQ's slow joiner is handled by re-publishing until the subscriber sees an event (with a
// deadline), never by sleeping.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include <zmq.hpp>

#include "shared/bus/bus_client.hpp"
#include "shared/db/pool.hpp"
#include "shared/db/repositories.hpp"
#include "tests/support/pg.hpp"
#include "tests/support/service_process.hpp"
#include "tests/support/store_node.hpp"

namespace glint::testing {
namespace {

using namespace std::chrono_literals;

// Events a subscriber received, by topic. Thread-safe.
class Inbox {
 public:
  void add(const bus::Envelope& e) {
    std::lock_guard lk(mu_);
    seen_.push_back(e);
  }
  bool has(const std::string& topic, const std::string& key, const std::string& value) {
    std::lock_guard lk(mu_);
    for (const auto& e : seen_)
      if (e.topic == topic && e.body.value(key, std::string()) == value) return true;
    return false;
  }

 private:
  std::mutex mu_;
  std::vector<bus::Envelope> seen_;
};

class CoordinatorProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!admin_database_url()) GTEST_SKIP() << "no PostgreSQL";
    db_url_ = fresh_database_url("coord");
    router_ = "tcp://127.0.0.1:" + std::to_string(closed_port());
    pub_ = "tcp://127.0.0.1:" + std::to_string(closed_port());
    ASSERT_TRUE(start()) << read_file(coord_.log_path());
    db::PoolOptions po;
    po.url = db_url_;
    pool_ = std::make_unique<db::Pool>(po);
    nodes_ = db::make_node_repository(*pool_);
  }
  bool start() {
    IniMap ini;
    ini["database"]["connection"] = db_url_;
    ini["bus"]["router_endpoint"] = router_;
    ini["bus"]["pub_endpoint"] = pub_;
    ini["cluster"]["node_down_after"] = "2s";
    ini["coordinator"]["sweep_interval"] = "200ms";
    return coord_.start(ini);
  }
  bus::ClientOptions client(const std::string& node, const std::string& role) {
    bus::ClientOptions o;
    o.router_endpoint = router_;
    o.pub_endpoint = pub_;
    o.self = bus::Sender{node, role, 1, "test"};
    o.heartbeat_interval = 200ms;
    o.topics = {""};
    return o;
  }
  // Publishes probes until the subscriber has seen one: past that point no event is lost to the
  // slow-joiner window.
  void await_subscription(bus::BusClient& pub, Inbox& inbox, const std::string& tag) {
    ASSERT_TRUE(wait_for([&] {
      pub.publish("test.probe", {{"tag", tag}});
      return wait_for([&] { return inbox.has("test.probe", "tag", tag); }, 300ms);
    }, 20s)) << "subscriber never joined";
  }

  TempDir dir_{"glint-coord-it"};
  ServiceProcess coord_{"glint-coordinator", "coordinator", dir_ / "coord"};
  std::string db_url_, router_, pub_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<db::NodeRepository> nodes_;
  SystemClock clock_;
};

TEST_F(CoordinatorProcessTest, NodeDownAndUpEventsReachSubscribers) {
  Inbox inbox;
  bus::BusClient sub(client("watcher", "ctl"), clock_, log::Logger::null(), [&](const bus::Envelope& e) { inbox.add(e); });
  bus::BusClient api(client("api1", "api"), clock_, log::Logger::null());
  await_subscription(api, inbox, "1");

  // A store registers in the table, then goes silent.
  db::NodeRow n;
  n.name = "store1";
  n.address = "127.0.0.1:1";
  n.zone = "z1";
  ASSERT_TRUE(nodes_->register_node(n).ok());
  ASSERT_TRUE(wait_for([&] { return inbox.has("node.down", "node", "store1"); }, 15s)) << read_file(coord_.log_path());
  EXPECT_EQ((*nodes_->get("store1"))->state, NodeState::down);
  // Its heartbeat brings it back, and the coordinator says so.
  ASSERT_TRUE(nodes_->heartbeat("store1", 10, 5).ok());
  ASSERT_TRUE(wait_for([&] { return inbox.has("node.up", "node", "store1"); }, 15s)) << read_file(coord_.log_path());

  // Events published by one process reach the others.
  api.publish("image.uploaded", {{"image", "abc"}});
  EXPECT_TRUE(wait_for([&] { return inbox.has("image.uploaded", "image", "abc"); }, 10s));
}

TEST_F(CoordinatorProcessTest, KilledCoordinatorComesBackAndEventsFlowAgain) {
  Inbox inbox;
  bus::BusClient sub(client("watcher", "ctl"), clock_, log::Logger::null(), [&](const bus::Envelope& e) { inbox.add(e); });
  bus::BusClient api(client("api1", "api"), clock_, log::Logger::null());
  await_subscription(api, inbox, "before");
  coord_.stop(SIGKILL);
  // While it is down publishing is harmless (dropped or queued, never blocking).
  api.publish("image.uploaded", {{"image", "lost-maybe"}});
  ASSERT_TRUE(start()) << read_file(coord_.log_path());
  // The clients reconnect by themselves; events flow again.
  await_subscription(api, inbox, "after");
  EXPECT_NE(read_file(coord_.log_path()).find("member.registered"), std::string::npos);
}

TEST_F(CoordinatorProcessTest, MalformedMessagesAreDroppedNotFatal) {
  // A raw DEALER sends garbage; the coordinator counts it and keeps serving.
  zmq::context_t ctx(1);
  zmq::socket_t raw(ctx, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.connect(router_);
  for (const char* junk : {"not json", "{\"v\":9}", "[]"}) raw.send(zmq::buffer(std::string(junk)), zmq::send_flags::none);
  ASSERT_TRUE(wait_for([&] {
    auto m = coord_.client().request("GET", "/metrics");
    return m && m->body.find("glint_coordinator_bad_messages_total 3") != std::string::npos;
  }, 10s));
  EXPECT_TRUE(coord_.running());
}

}  // namespace
}  // namespace glint::testing
