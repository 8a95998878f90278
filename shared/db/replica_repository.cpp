#include <pqxx/pqxx>

#include "shared/core/uuid.hpp"
#include "shared/db/pg_util.hpp"
#include "shared/db/repositories.hpp"

namespace glint::db {

namespace {

using detail::opt;
using detail::run_status;

bool valid_replica_state(const std::string& s) {
  return s == "writing" || s == "ok" || s == "missing" || s == "corrupt" || s == "excess";
}

// Timestamps travel as integer microseconds since the epoch (exact; see pg_util.hpp).
// Where each image's copies live and in what state, in PostgreSQL; each call is one short
// transaction through the Pool. Thread-safe (holds only a Pool reference; the Pool must outlive it).
class PgReplicaRepository final : public ReplicaRepository {
 public:
  explicit PgReplicaRepository(Pool& pool) : pool_(pool) {}

  Status upsert(const ReplicaRow& r) override {
    if (!is_canonical_uuid(r.image_id)) return Status(Errc::invalid, "image id is not a canonical uuid");
    if (!valid_replica_state(r.state)) return Status(Errc::invalid, "bad replica state '" + r.state + "'");
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      try {
        w.exec_params(
            // A copy written and verified against a verified digest carries that copy's os_hash
            // check too: hash_verified_at follows verified_at.
            "INSERT INTO replicas (image_id, node, state, size, digest, verified_at, hash_verified_at, updated_at) "
            "VALUES ($1::uuid, $2, $3, $4, $5, $6::timestamptz, $6::timestamptz, now()) "
            "ON CONFLICT (image_id, node) DO UPDATE SET state = excluded.state, size = excluded.size, "
            "  digest = excluded.digest, verified_at = excluded.verified_at, "
            "  hash_verified_at = excluded.hash_verified_at, updated_at = now()",
            r.image_id, r.node, r.state, r.size, r.digest, detail::to_pg_text(r.verified_at));
      } catch (const pqxx::foreign_key_violation&) {
        // Expected when the image or node is unknown: an outcome, not a failure.
        return Status(Errc::not_found, "unknown image " + r.image_id + " or node " + r.node);
      }
      w.commit();
      return Status();
    });
  }

  Status set_state(const std::string& image_id, const std::string& node, const std::string& state) override {
    if (!valid_replica_state(state)) return Status(Errc::invalid, "bad replica state '" + state + "'");
    if (!is_canonical_uuid(image_id)) return Status(Errc::not_found, "no replica of " + image_id);
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto res = w.exec_params(
          "UPDATE replicas SET state = $3, updated_at = now() WHERE image_id = $1::uuid AND node = $2",
          image_id, node, state);
      if (res.affected_rows() == 0) {
        return Status(Errc::not_found, "no replica of " + image_id + " on " + node);
      }
      w.commit();
      return Status();
    });
  }

  Expected<std::vector<ReplicaRow>> for_image(const std::string& image_id) override {
    if (!is_canonical_uuid(image_id)) return std::vector<ReplicaRow>();
    return pool_.query<std::vector<ReplicaRow>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      return detail::replicas_from(t.exec_params(
          std::string("SELECT ") + detail::kReplicaColumns + " FROM replicas WHERE image_id = $1::uuid ORDER BY node",
          image_id));
    });
  }

  Expected<std::vector<ReplicaRow>> for_node(const std::string& node) override {
    return pool_.query<std::vector<ReplicaRow>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      return detail::replicas_from(t.exec_params(
          std::string("SELECT ") + detail::kReplicaColumns + " FROM replicas WHERE node = $1 ORDER BY image_id", node));
    });
  }

  Status remove(const std::string& image_id, const std::string& node) override {
    if (!is_canonical_uuid(image_id)) return Status();
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      w.exec_params("DELETE FROM replicas WHERE image_id = $1::uuid AND node = $2", image_id, node);
      w.commit();
      return Status();
    });
  }

 private:
  Pool& pool_;
};

}  // namespace

std::unique_ptr<ReplicaRepository> make_replica_repository(Pool& pool) {
  return std::make_unique<PgReplicaRepository>(pool);
}

}  // namespace glint::db
