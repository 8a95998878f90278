// Coordinator decisions over an in-memory nodes table and a simulated clock: registration,
// silent storage nodes marked down (node.down), nodes that come back (node.up), fan-out, bad input.
#include "workers/coordinator/coordinator.hpp"

#include <gtest/gtest.h>

#include "tests/support/fake_clock.hpp"
#include "tests/support/fake_cluster.hpp"
#include "tests/support/fake_jobs.hpp"

namespace glint::coordinator {
namespace {

using namespace std::chrono_literals;

bus::Envelope command(nlohmann::json body) {
  bus::Envelope e;
  e.type = bus::type::kCommand;
  e.from = bus::Sender{"ops", "ctl", 7, "0.1.0"};
  e.body = std::move(body);
  return e;
}

class CoordinatorTest : public ::testing::Test {
 protected:
  CoordinatorTest() {
    clock_.set_wall(std::chrono::system_clock::time_point(std::chrono::hours(500000)));
    add_node("node1", clock_.wall());
    add_node("node2", clock_.wall());
  }
  void add_node(const std::string& name, std::chrono::system_clock::time_point hb) {
    db::NodeRow r;
    r.name = name;
    r.address = "127.0.0.1:1";
    r.zone = "z";
    r.last_heartbeat = hb;
    ASSERT_TRUE(nodes_.register_node(r).ok());
  }
  bus::Envelope msg(const char* type, const std::string& node, const std::string& role) {
    bus::Envelope e;
    e.type = type;
    e.from = bus::Sender{node, role, 1, "0.1.0"};
    return e;
  }
  std::vector<std::string> topics(const std::vector<bus::Envelope>& es) {
    std::vector<std::string> out;
    for (const auto& e : es) out.push_back(e.topic + ":" + e.body.value("node", std::string()));
    return out;
  }

  testing::FakeClock clock_;
  testing::FakeNodeRepository nodes_;
  testing::FakeJobRepository jobs_;
  metrics::Metrics metrics_;
  Coordinator c_{CoordinatorOptions{30s, {"hub", "coordinator", 1, "0.1.0"}}, nodes_, jobs_, clock_, metrics_,
                 log::Logger::null()};
};

TEST_F(CoordinatorTest, RegistrationAndHeartbeatsAreTracked) {
  EXPECT_TRUE(c_.on_message(msg(bus::type::kRegister, "node1", "store")).publish.empty());
  EXPECT_TRUE(c_.on_message(msg(bus::type::kHeartbeat, "node1", "store")).publish.empty());
  EXPECT_EQ(c_.members().size(), 1u);
  c_.on_message(msg(bus::type::kRegister, "api1", "api"));
  EXPECT_EQ(c_.members().size(), 2u);
}

TEST_F(CoordinatorTest, TheMemberTableIsBoundedOldestFirst) {
  Coordinator small{CoordinatorOptions{30s, {"hub", "coordinator", 1, "0.1.0"}, 3}, nodes_, jobs_, clock_, metrics_,
                    log::Logger::null()};
  for (int pid = 1; pid <= 3; ++pid) {
    bus::Envelope e = msg(bus::type::kRegister, "node1", "replicator");
    e.from.pid = pid;
    small.on_message(e);
    clock_.advance(1s);
  }
  bus::Envelope again = msg(bus::type::kHeartbeat, "node1", "replicator");
  again.from.pid = 1;  // pid 1 is heard from again: pid 2 is now the oldest
  small.on_message(again);
  for (int pid = 100; pid < 200; ++pid) {  // a flood of made-up senders
    bus::Envelope e = msg(bus::type::kRegister, "node1", "replicator");
    e.from.pid = pid;
    small.on_message(e);
  }
  EXPECT_EQ(small.members().size(), 3u);
  EXPECT_EQ(small.members().count("node1/replicator/2"), 0u);
}

TEST_F(CoordinatorTest, EventsAreFannedOutAsPublished) {
  auto e = msg(bus::type::kEvent, "api1", "api");
  e.topic = "image.uploaded";
  auto out = c_.on_message(e).publish;
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "image.uploaded");
  EXPECT_EQ(out[0].from.node, "api1");
}

TEST_F(CoordinatorTest, SilentStorageNodeGoesDownAndComesBack) {
  EXPECT_TRUE(c_.sweep().empty());  // both fresh
  clock_.advance(31s);
  clock_.set_wall(clock_.wall() + 31s);
  c_.on_message(msg(bus::type::kHeartbeat, "node2", "store"));  // node2 is alive on the bus
  EXPECT_EQ(topics(c_.sweep()), std::vector<std::string>{"node.down:node1"});
  EXPECT_EQ((*nodes_.get("node1"))->state, NodeState::down);
  EXPECT_EQ((*nodes_.get("node2"))->state, NodeState::up);
  EXPECT_TRUE(c_.sweep().empty());  // reported once
  // The node's own heartbeat (its store writes it) brings it back; the coordinator reports it.
  ASSERT_TRUE(nodes_.set_state("node1", NodeState::down, NodeState::up).ok());
  add_node("node1", clock_.wall());
  EXPECT_EQ(topics(c_.sweep()), std::vector<std::string>{"node.up:node1"});
}

// The sweep read node1 as up and silent; before it writes, an operator drains node1. The sweep
// must not overwrite the drain with down (a later heartbeat would then turn it up: drain lost).
TEST_F(CoordinatorTest, ASweepNeverUndoesADrainThatLandedAfterItsRead) {
  clock_.advance(31s);
  clock_.set_wall(clock_.wall() + 31s);
  nodes_.before_write = [&](const std::string& node) {
    nodes_.before_write = nullptr;
    nodes_.edit(node, [](db::NodeRow& r) { r.state = NodeState::draining; });
  };
  c_.on_message(msg(bus::type::kHeartbeat, "node2", "store"));
  EXPECT_TRUE(c_.sweep().empty());  // no node.down: the drain won the race
  EXPECT_EQ((*nodes_.get("node1"))->state, NodeState::draining);
  EXPECT_TRUE(c_.sweep().empty());  // a draining node is not the sweep's to mark
  EXPECT_EQ((*nodes_.get("node1"))->state, NodeState::draining);
}

// A heartbeat that arrives between the sweep's read and its write proves the node alive.
TEST_F(CoordinatorTest, ASweepNeverMarksDownANodeThatSpokeAfterItsRead) {
  clock_.advance(31s);
  clock_.set_wall(clock_.wall() + 31s);
  const auto now = clock_.wall();
  nodes_.before_write = [&](const std::string& node) {
    nodes_.before_write = nullptr;
    nodes_.edit(node, [&](db::NodeRow& r) { r.last_heartbeat = now; });
  };
  c_.on_message(msg(bus::type::kHeartbeat, "node2", "store"));
  EXPECT_TRUE(c_.sweep().empty());
  EXPECT_EQ((*nodes_.get("node1"))->state, NodeState::up);
}

TEST_F(CoordinatorTest, DrainAndUndrainAreCompareAndSetOnTheStateRead) {
  auto act = c_.on_message(command({{"command", "node_state"}, {"node", "node1"}, {"state", "draining"}}));
  ASSERT_EQ(act.reply->body["ok"], true) << act.reply->body.dump();
  EXPECT_EQ((*nodes_.get("node1"))->state, NodeState::draining);
  EXPECT_EQ(act.publish.at(0).topic, "node.draining");
  // Someone else changes node1 between the command's read and its write: refused, not overwritten.
  nodes_.before_write = [&](const std::string& node) {
    nodes_.before_write = nullptr;
    nodes_.edit(node, [](db::NodeRow& r) { r.state = NodeState::down; });
  };
  act = c_.on_message(command({{"command", "node_state"}, {"node", "node1"}, {"state", "up"}}));
  EXPECT_EQ(act.reply->body["ok"], false);
  EXPECT_EQ((*nodes_.get("node1"))->state, NodeState::down);
  act = c_.on_message(command({{"command", "node_state"}, {"node", "node1"}, {"state", "down"}}));
  EXPECT_EQ(act.reply->body["ok"], false);  // down belongs to the sweep
}

TEST_F(CoordinatorTest, RestartRebuildsWithoutFalseAlarms) {
  // A new coordinator sees the table as it is: fresh nodes stay up, no events.
  Coordinator fresh(CoordinatorOptions{30s, {}}, nodes_, jobs_, clock_, metrics_, log::Logger::null());
  EXPECT_TRUE(fresh.sweep().empty());
  EXPECT_TRUE(fresh.members().empty());
}

TEST_F(CoordinatorTest, JobCommandRecordsTheJobAndRingsTheDoorbell) {
  auto act = c_.on_message(command({{"command", "job"}, {"kind", "replicator"}, {"target", "node:node1"},
                                    {"requested_by", "glintctl:ops"}, {"request_id", "r1"}}));
  ASSERT_TRUE(act.reply.has_value());
  EXPECT_EQ(act.reply->type, bus::type::kReply);
  EXPECT_EQ(act.reply->body["request_id"], "r1");
  ASSERT_EQ(act.reply->body["ok"], true) << act.reply->body.dump();
  const std::string id = act.reply->body["job"]["id"];
  auto row = *jobs_.get(id);
  ASSERT_TRUE(row.has_value());  // the database row is the truth
  EXPECT_EQ(row->kind, "replicator");
  EXPECT_EQ(row->target.value_or(""), "node:node1");
  EXPECT_EQ(row->requested_by.value_or(""), "glintctl:ops");
  ASSERT_EQ(act.publish.size(), 1u);
  EXPECT_EQ(act.publish[0].topic, "job.queued");
  EXPECT_EQ(act.publish[0].body["job"], id);
  EXPECT_EQ(act.publish[0].body["kind"], "replicator");
}

TEST_F(CoordinatorTest, FailedOrUnknownCommandsGetAnErrorReplyAndNoEvent) {
  jobs_.set_failing(true);
  auto act = c_.on_message(command({{"command", "job"}, {"kind", "auditor"}}));
  ASSERT_TRUE(act.reply.has_value());
  EXPECT_EQ(act.reply->body["ok"], false);
  EXPECT_NE(act.reply->body["error"].get<std::string>().find("database down"), std::string::npos);
  EXPECT_TRUE(act.publish.empty());
  jobs_.set_failing(false);
  act = c_.on_message(command({{"command", "job"}}));  // no kind
  EXPECT_EQ(act.reply->body["ok"], false);
  act = c_.on_message(command({{"command", "job"}, {"kind", "replicator"}, {"target", "image:../etc"}}));
  EXPECT_EQ(act.reply->body["ok"], false);  // a target no worker could act on
  EXPECT_TRUE(act.publish.empty());
  act = c_.on_message(command({{"command", "explode"}}));
  EXPECT_EQ(act.reply->body["ok"], false);
  EXPECT_NE(metrics_.render().find("glint_coordinator_bad_messages_total 1"), std::string::npos);
  act = c_.on_message(command({{"command", 42}}));  // wrong type: treated as unknown, no crash
  EXPECT_EQ(act.reply->body["ok"], false);
}

TEST_F(CoordinatorTest, CacheQueueCommandRingsThePrefetchersDoorbell) {
  auto act = c_.on_message(command({{"command", "cache_queue"}}));
  ASSERT_TRUE(act.reply.has_value());
  EXPECT_EQ(act.reply->body["ok"], true);
  ASSERT_EQ(act.publish.size(), 1u);
  EXPECT_EQ(act.publish[0].topic, "cache.queue");
}

TEST_F(CoordinatorTest, MembersCommandListsWhoIsHeard) {
  c_.on_message(msg(bus::type::kRegister, "node1", "store"));
  clock_.advance(2s);
  c_.on_message(msg(bus::type::kRegister, "node1", "auditor"));
  auto act = c_.on_message(command({{"command", "members"}}));
  ASSERT_EQ(act.reply->body["ok"], true);
  const auto& m = act.reply->body["members"];
  ASSERT_EQ(m.size(), 2u);
  std::map<std::string, int64_t> age;
  for (const auto& x : m) age[x["role"]] = x["last_seen_ms"];
  EXPECT_EQ(age["store"], 2000);
  EXPECT_EQ(age["auditor"], 0);
}

TEST_F(CoordinatorTest, BadMessagesAreCountedNotFatal) {
  c_.on_bad_message("not json");
  EXPECT_NE(metrics_.render().find("glint_coordinator_bad_messages_total 1"), std::string::npos);
}

}  // namespace
}  // namespace glint::coordinator
