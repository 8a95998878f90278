#include "workers/coordinator/coordinator.hpp"

#include <set>

#include "shared/core/job_target.hpp"
#include "shared/placement/cluster_view.hpp"

namespace glint::coordinator {

Coordinator::Coordinator(CoordinatorOptions opts, db::NodeRepository& nodes, db::JobRepository& jobs,
                         const Clock& clock, metrics::Metrics& metrics, log::Logger logger)
    : opts_(std::move(opts)),
      nodes_(nodes),
      jobs_(jobs),
      clock_(clock),
      log_(std::move(logger)),
      messages_(metrics.counter("glint_coordinator_messages_total", "Bus messages received, by type")),
      bad_messages_(metrics.counter("glint_coordinator_bad_messages_total",
                                    "Malformed or unknown bus messages dropped").Add({})),
      members_gauge_(metrics.gauge("glint_coordinator_members", "Processes heard from within node_down_after").Add({})),
      transitions_(metrics.counter("glint_coordinator_node_transitions_total", "Storage nodes going down or up")) {}

bus::Envelope Coordinator::event(const std::string& topic, nlohmann::json body) const {
  bus::Envelope e = bus::make_envelope(bus::type::kEvent, opts_.self, clock_.wall(), std::move(body));
  e.topic = topic;
  return e;
}

Actions Coordinator::on_message(const bus::Envelope& e) {
  messages_.Add({{"type", e.type}}).Increment();
  if (e.type == bus::type::kRegister || e.type == bus::type::kHeartbeat) {
    const std::string key = e.from.node + "/" + e.from.role + "/" + std::to_string(e.from.pid);
    auto [it, fresh] = members_.try_emplace(key);
    if (!fresh) by_age_.erase({it->second.last_seen, key});
    it->second.who = e.from;
    it->second.last_seen = clock_.now();
    by_age_.emplace(it->second.last_seen, key);
    it->second.status = e.body;
    if (fresh) log_.info("member.registered", {{"member", key}, {"version", e.from.version}});
    // Bounded: a flood of made-up senders (pids, names) cannot grow the table without limit.
    while (members_.size() > opts_.max_members) forget(members_.find(by_age_.begin()->second));
    return {};
  }
  if (e.type == bus::type::kEvent) return {{e}, std::nullopt};  // fan out as published
  if (e.type == bus::type::kCommand) return on_command(e);
  return {};
}

Actions Coordinator::on_command(const bus::Envelope& e) {
  Actions out;
  bus::Envelope reply = bus::make_envelope(bus::type::kReply, opts_.self, clock_.wall());
  nlohmann::json body = {{"ok", false}};
  if (e.body.contains("request_id")) body["request_id"] = e.body["request_id"];
  auto text = [&](const char* key) {
    const auto it = e.body.find(key);
    return it != e.body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string command = text("command");
  if (command == "job") {
    const std::string kind = text("kind");
    const std::string target = text("target");
    std::string who = text("requested_by");
    if (who.empty()) who = e.from.role + "@" + e.from.node;
    auto parsed = JobTarget::parse(target);
    auto job = kind.empty()  ? Expected<db::JobRow>(Error{Errc::invalid, "job command without kind"})
               : !parsed     ? Expected<db::JobRow>(parsed.error())
                             : jobs_.create(kind, target.empty() ? std::nullopt : std::optional(target), who);
    if (job) {
      body["ok"] = true;
      body["job"] = {{"id", job->id}, {"kind", job->kind}, {"target", target}, {"state", job->state}};
      log_.info("job.queued", {{"job", job->id}, {"kind", kind}, {"target", target}, {"by", who}});
      out.publish.push_back(event("job.queued", {{"job", job->id}, {"kind", kind}, {"target", target}}));
    } else {
      body["error"] = job.error().message;
      log_.warn("command.failed", {{"command", command}, {"error", job.error().message}});
    }
  } else if (command == "node_state") {
    // Operators drain and undrain nodes; down/up belong to the liveness sweep and the stores.
    const std::string node = text("node");
    const auto state = parse_state<NodeState>(text("state"));
    if (!state || *state == NodeState::down) {
      body["error"] = "node_state takes state draining or up, not '" + text("state").substr(0, 32) + "'";
    } else if (auto row = nodes_.get(node); !row) {
      body["error"] = row.error().message;
    } else if (!*row) {
      body["error"] = "no node " + node;
    } else if (Status s = nodes_.set_state(node, (*row)->state, *state); !s) {
      // A compare-and-set on the state just read: a concurrent sweep or heartbeat is never undone.
      body["error"] = s.code() == Errc::conflict ? "node " + node + " changed state meanwhile; try again" : s.message();
    } else {
      body["ok"] = true;
      node_states_[node] = *state;
      const std::string word = to_string(*state);
      log_.info("node." + word, {{"node", node}, {"by", e.from.role + "@" + e.from.node}});
      out.publish.push_back(event(*state == NodeState::up ? "node.up" : "node.draining", {{"node", node}, {"zone", (*row)->zone}}));
    }
  } else if (command == "cache_queue") {
    // glintctl changed cache queues in the database; the prefetchers' doorbell (they also poll).
    body["ok"] = true;
    out.publish.push_back(event("cache.queue", {{"by", e.from.role + "@" + e.from.node}}));
  } else if (command == "members") {
    body["ok"] = true;
    body["members"] = members_json();
  } else {
    bad_messages_.Increment();
    body["error"] = "unknown command '" + command + "'";
    log_.warn("bus.bad_message", {{"error", body["error"].get<std::string>()}});
  }
  reply.body = std::move(body);
  out.reply = std::move(reply);
  return out;
}

nlohmann::json Coordinator::members_json() const {
  nlohmann::json arr = nlohmann::json::array();
  const auto now = clock_.now();
  for (const auto& [_, m] : members_) {
    arr.push_back({{"node", m.who.node},
                   {"role", m.who.role},
                   {"pid", m.who.pid},
                   {"version", m.who.version},
                   {"last_seen_ms", std::chrono::duration_cast<std::chrono::milliseconds>(now - m.last_seen).count()}});
  }
  return arr;
}

void Coordinator::on_bad_message(const std::string& why) {
  bad_messages_.Increment();
  log_.warn("bus.bad_message", {{"error", why}});
}

void Coordinator::forget(std::map<std::string, MemberInfo>::iterator it) {
  by_age_.erase({it->second.last_seen, it->first});
  members_.erase(it);
}

std::vector<bus::Envelope> Coordinator::sweep() {
  std::vector<bus::Envelope> out;
  const auto now = clock_.now();
  // Forget members silent for long; stores heard on the bus recently are alive whatever the table says.
  std::set<std::string> alive_stores;
  for (auto it = members_.begin(); it != members_.end();) {
    const bool silent = now - it->second.last_seen > opts_.node_down_after;
    if (!silent && it->second.who.role == "store") alive_stores.insert(it->second.who.node);
    if (silent && now - it->second.last_seen > 10 * opts_.node_down_after) {
      forget(it++);
    } else {
      ++it;
    }
  }
  size_t live = 0;
  for (const auto& [_, m] : members_) live += now - m.last_seen <= opts_.node_down_after;
  members_gauge_.Set(static_cast<double>(live));

  auto rows = nodes_.list();
  if (!rows) {
    log_.warn("db.failed", {{"error", rows.error().message}});
    return out;
  }
  const auto wall = clock_.wall();
  for (const auto& n : *rows) {
    NodeState state = n.state;
    bool marked = false;
    const bool stale = !placement::ClusterView::heartbeat_fresh(n, wall, opts_.node_down_after);
    if (state == NodeState::up && stale && !alive_stores.count(n.name)) {
      // Compare-and-set on what was read: a drain or a heartbeat that came in meanwhile wins.
      // The node's own heartbeat (written by its store) brings it back up when it returns.
      Status s = nodes_.mark_down(n.name, n.last_heartbeat);
      if (s.code() == Errc::conflict) {
        log_.info("node.sweep_race", {{"node", n.name}, {"detail", s.message()}});
        continue;  // judged again on a fresh read next sweep
      }
      if (!s) {
        log_.warn("db.failed", {{"node", n.name}, {"error", s.message()}});
        continue;
      }
      state = NodeState::down;
      marked = true;
    }
    auto prev = node_states_.find(n.name);
    const bool changed = prev != node_states_.end() && prev->second != state;
    const bool first_seen_down = prev == node_states_.end() && states_loaded_ && state == NodeState::down;
    if ((marked || changed || first_seen_down) && state != NodeState::draining) {
      const std::string topic = "node." + to_string(state);
      transitions_.Add({{"to", to_string(state)}}).Increment();
      log_.warn(topic, {{"node", n.name}});
      out.push_back(event(topic, {{"node", n.name}, {"zone", n.zone}}));
    }
    node_states_[n.name] = state;
  }
  states_loaded_ = true;
  return out;
}

}  // namespace glint::coordinator
