// The coordinator's decisions, without sockets: who is registered and when it was last heard
// from, which storage nodes went silent (marked down in the nodes table) or came back, and which
// events to fan out. Liveness is rebuilt from heartbeats after a restart; nothing here must
// survive one. Single-threaded (the coordinator's loop).
#pragma once
#include <chrono>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include "shared/bus/envelope.hpp"
#include "shared/core/clock.hpp"
#include "shared/db/repositories.hpp"
#include "shared/log/log.hpp"
#include "shared/metrics/metrics.hpp"

namespace glint::coordinator {

struct CoordinatorOptions {
  std::chrono::milliseconds node_down_after{30000};
  bus::Sender self = {};
  size_t max_members = 10000;  // beyond this, the member heard from longest ago is forgotten
};

struct MemberInfo {
  bus::Sender who = {};
  std::chrono::steady_clock::time_point last_seen{};
  nlohmann::json status = nlohmann::json::object();
};

// What to do after a message: events to publish and, for a command, the reply to its sender.
struct Actions {
  std::vector<bus::Envelope> publish;
  std::optional<bus::Envelope> reply;
};

class Coordinator {
 public:
  Coordinator(CoordinatorOptions opts, db::NodeRepository& nodes, db::JobRepository& jobs, const Clock& clock,
              metrics::Metrics& metrics, log::Logger logger);

  // A message from a process. Events are fanned out as sent. Commands (body "command"):
  //   job {kind, target?, requested_by?} -> the job row is created (the truth), job.queued is
  //       published to wake the claimers, and the reply carries the job;
  //   node_state {node, state: draining|up} -> an operator's drain or undrain, node.draining/node.up;
  //   cache_queue -> cache.queue is published (glintctl changed cache queues in the database);
  //   members -> the processes heard from, with their age.
  // Replies echo the request's "request_id" and say ok true/false (with "error").
  Actions on_message(const bus::Envelope& e);
  // A message that could not be decoded: counted and dropped.
  void on_bad_message(const std::string& why);
  // Periodic liveness check: marks silent storage nodes down and reports nodes that came back.
  std::vector<bus::Envelope> sweep();

  const std::map<std::string, MemberInfo>& members() const { return members_; }  // by node/role/pid

 private:
  bus::Envelope event(const std::string& topic, nlohmann::json body) const;
  Actions on_command(const bus::Envelope& e);
  nlohmann::json members_json() const;

  CoordinatorOptions opts_;
  db::NodeRepository& nodes_;
  db::JobRepository& jobs_;
  const Clock& clock_;
  log::Logger log_;
  std::map<std::string, MemberInfo> members_;
  // members_ ordered by when each was last heard from, so the oldest goes in O(log n) when full.
  std::set<std::pair<std::chrono::steady_clock::time_point, std::string>> by_age_;
  void forget(std::map<std::string, MemberInfo>::iterator it);
  std::map<std::string, NodeState> node_states_;  // last seen in the nodes table
  bool states_loaded_ = false;
  prometheus::Family<prometheus::Counter>& messages_;
  prometheus::Counter& bad_messages_;
  prometheus::Gauge& members_gauge_;
  prometheus::Family<prometheus::Counter>& transitions_;
};

}  // namespace glint::coordinator
