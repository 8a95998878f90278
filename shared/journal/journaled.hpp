// The journal at the database seam: repositories that, when PostgreSQL is unavailable, keep the
// write in the node's journal (and answer ok: the fact is durable) instead of losing it, and the
// Applier that replays those records through the real repositories. The writes journaled are the
// facts a node learns: replica state changes (corrupt, missing), copies made, verifications,
// orphans and worker passes. Liveness (heartbeats) is never journaled: a late heartbeat would
// claim a node alive that may be dead. Each replays as the same compare-and-set it was.
#pragma once
#include <memory>

#include "shared/db/repositories.hpp"
#include "shared/journal/journal.hpp"
#include "shared/journal/replay.hpp"

namespace glint::journal {

std::unique_ptr<db::ReplicaRepository> journaled(std::unique_ptr<db::ReplicaRepository> inner, Journal& j);
std::unique_ptr<db::HealingRepository> journaled(std::unique_ptr<db::HealingRepository> inner, Journal& j);
std::unique_ptr<db::WorkerPassRepository> journaled(std::unique_ptr<db::WorkerPassRepository> inner, Journal& j);

// Replays records into the database. Thread-compatible.
class DbApplier final : public Applier {
 public:
  DbApplier(db::ReplicaRepository& replicas, db::HealingRepository& heal, db::WorkerPassRepository& passes)
      : replicas_(replicas), heal_(heal), passes_(passes) {}
  // invalid for a record whose body does not parse (it will be quarantined).
  Status apply(const Record& r) override;

 private:
  db::ReplicaRepository& replicas_;
  db::HealingRepository& heal_;
  db::WorkerPassRepository& passes_;
};

}  // namespace glint::journal
