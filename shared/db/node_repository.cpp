#include <pqxx/pqxx>

#include "shared/db/pg_util.hpp"
#include "shared/db/repositories.hpp"

namespace glint::db {

namespace {

using detail::run_status;

// Timestamps travel as integer microseconds since the epoch (exact; see pg_util.hpp).
constexpr const char* kNodeColumns =
    "name, address, zone, weight, capacity, free, state, "
    "(extract(epoch from last_heartbeat) * 1000000)::bigint, "
    "(extract(epoch from state_since) * 1000000)::bigint, (extract(epoch from now()) * 1000000)::bigint";

NodeRow node_from(const pqxx::row& r) {
  NodeRow n;
  n.name = r[0].as<std::string>();
  n.address = r[1].as<std::string>();
  n.zone = r[2].as<std::string>();
  n.weight = r[3].as<double>();
  n.capacity = detail::from_bigint(r[4]);
  n.free = detail::from_bigint(r[5]);
  n.state = detail::state_from<NodeState>(r[6]);
  n.last_heartbeat = detail::opt_timestamp(r[7]);
  n.state_since = detail::opt_timestamp(r[8]);
  n.read_at = detail::opt_timestamp(r[9]);
  return n;
}

// Storage nodes in PostgreSQL; each call is one short transaction through the Pool. Thread-safe
// (holds only a Pool reference; the Pool must outlive it).
class PgNodeRepository final : public NodeRepository {
 public:
  explicit PgNodeRepository(Pool& pool) : pool_(pool) {}

  Status register_node(const NodeRow& n) override {
    if (n.name.empty()) return Status(Errc::invalid, "node name is empty");
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      // An operator's drain survives restarts of the node; otherwise (re)registering means up,
      // and state_since only moves when the state really changes.
      w.exec_params(
          "INSERT INTO nodes (name, address, zone, weight, capacity, free, state, state_since, last_heartbeat) "
          "VALUES ($1, $2, $3, $4, $5, $6, 'up', now(), now()) "
          "ON CONFLICT (name) DO UPDATE SET address = excluded.address, zone = excluded.zone, "
          "  weight = excluded.weight, capacity = excluded.capacity, free = excluded.free, "
          "  last_heartbeat = now(), "
          "  state = CASE WHEN nodes.state = 'draining' THEN 'draining' ELSE 'up' END, "
          "  state_since = CASE WHEN nodes.state IN ('draining', 'up') THEN nodes.state_since ELSE now() END",
          n.name, n.address, n.zone, n.weight, detail::to_bigint(n.capacity), detail::to_bigint(n.free));
      w.commit();
      return Status();
    });
  }

  Status heartbeat(const std::string& name, uint64_t capacity, uint64_t free) override {
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      // A heartbeat proves a down node is back; draining is an operator decision and stays.
      auto r = w.exec_params(
          "UPDATE nodes SET capacity = $2, free = $3, last_heartbeat = now(), "
          "  state = CASE WHEN state = 'down' THEN 'up' ELSE state END, "
          "  state_since = CASE WHEN state = 'down' THEN now() ELSE state_since END "
          "WHERE name = $1",
          name, detail::to_bigint(capacity), detail::to_bigint(free));
      if (r.affected_rows() == 0) return Status(Errc::not_found, "unknown node " + name);
      w.commit();
      return Status();
    });
  }

  Status set_state(const std::string& name, NodeState from, NodeState to) override {
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto r = w.exec_params(
          "UPDATE nodes SET state = $3, "
          "  state_since = CASE WHEN state <> $3 THEN now() ELSE state_since END "
          "WHERE name = $1 AND state = $2",
          name, to_string(from), to_string(to));
      if (r.affected_rows() == 0) return changed_or_unknown(w, name);
      w.commit();
      return Status();
    });
  }

  Status mark_down(const std::string& name, std::optional<Timestamp> heartbeat_seen) override {
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto r = w.exec_params(
          "UPDATE nodes SET state = 'down', state_since = now() "
          "WHERE name = $1 AND state = 'up' AND last_heartbeat IS NOT DISTINCT FROM $2::timestamptz",
          name, detail::to_pg_text(heartbeat_seen));
      if (r.affected_rows() == 0) return changed_or_unknown(w, name);
      w.commit();
      return Status();
    });
  }

  Expected<std::optional<NodeRow>> get(const std::string& name) override {
    return pool_.query<std::optional<NodeRow>>([&](pqxx::connection_base& c) -> std::optional<NodeRow> {
      pqxx::read_transaction t(c);
      auto r = t.exec_params(std::string("SELECT ") + kNodeColumns + " FROM nodes WHERE name = $1", name);
      if (r.empty()) return std::nullopt;
      return node_from(r[0]);
    });
  }

  Expected<std::vector<NodeRow>> list() override {
    return pool_.query<std::vector<NodeRow>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      auto r = t.exec(std::string("SELECT ") + kNodeColumns + " FROM nodes ORDER BY name");
      std::vector<NodeRow> out;
      out.reserve(r.size());
      for (const auto& row : r) out.push_back(node_from(row));
      return out;
    });
  }

 private:
  static Status changed_or_unknown(pqxx::work& w, const std::string& name) {
    if (w.exec_params("SELECT 1 FROM nodes WHERE name = $1", name).empty())
      return Status(Errc::not_found, "unknown node " + name);
    return Status(Errc::conflict, "node " + name + " changed since it was read");
  }

  Pool& pool_;
};

}  // namespace

std::unique_ptr<NodeRepository> make_node_repository(Pool& pool) {
  return std::make_unique<PgNodeRepository>(pool);
}

}  // namespace glint::db
