// Typed rows of the cluster model (nodes, replicas, images as the workers see them), apart from
// the repositories so that pure decision code (shared/placement) can use them without a database.
// Plain value types; thread-compatible.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shared/core/states.hpp"

namespace glint::db {

using Timestamp = std::chrono::system_clock::time_point;

struct NodeRow {
  std::string name;     // unique
  std::string address;  // host:port of its glint-store
  std::string zone;
  double weight = 1.0;
  uint64_t capacity = 0;
  uint64_t free = 0;
  NodeState state = NodeState::up;
  std::optional<Timestamp> last_heartbeat;
  std::optional<Timestamp> state_since;
  // The database's clock when the row was read. Heartbeats and state_since are stamped by the
  // database (now()), so their age is judged on this clock, never a worker's own (which may drift).
  std::optional<Timestamp> read_at;
};

struct ReplicaRow {
  std::string image_id;
  std::string node;
  ReplicaState state = ReplicaState::writing;
  std::optional<int64_t> size;
  std::optional<std::string> digest;  // XXH3-128 hex
  std::optional<Timestamp> verified_at;
  // Changes with every write of the row (from one database sequence, so a row removed and
  // written again never repeats a version): the token of compare-and-set writes.
  int64_t version = 0;
};

// An image as the replicator and auditor see it: what must exist and where copies are.
struct ImageCopies {
  std::string id;
  ImageStatus status = ImageStatus::queued;
  int64_t size = 0;
  std::string os_hash_algo;
  std::string os_hash_value;
  std::vector<ReplicaRow> replicas;
};

// One replica due for a deep audit on a node, with what it must hash to.
struct AuditItem {
  std::string image_id;
  int64_t size = 0;
  std::string digest;  // XXH3-128 hex recorded for the replica
  std::string os_hash_algo;
  std::string os_hash_value;
  std::optional<Timestamp> verified_at;
  std::optional<Timestamp> hash_verified_at;
  int64_t version = 0;  // of the replica row
};

// A position in the change feed: every entry at or before it has been read. Entries are ordered
// by the id of the transaction that wrote them, then by sequence (see HealingRepository::changes).
struct FeedPosition {
  int64_t xid = 0;
  int64_t seq = 0;
  auto operator<=>(const FeedPosition&) const = default;
};

struct FeedEntry {
  FeedPosition at;
  std::string image_id;
};

// An image whose catalog digests disagree with every copy while the copies agree with each other
// (e.g. a database restored from an older backup): flagged for an operator, never "repaired".
struct ImageFlag {
  std::string image_id;
  std::string reason;
  Timestamp flagged_at{};
};

}  // namespace glint::db
