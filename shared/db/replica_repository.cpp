#include <pqxx/pqxx>

#include "shared/core/uuid.hpp"
#include "shared/db/pg_util.hpp"
#include "shared/db/repositories.hpp"

namespace glint::db {

namespace {

using detail::run_status;

// After a compare-and-set touched no row: conflict if the row exists (it changed), not_found if not.
Status lost_or_gone(pqxx::work& w, const std::string& image_id, const std::string& node) {
  auto r = w.exec_params("SELECT 1 FROM replicas WHERE image_id = $1::uuid AND node = $2", image_id, node);
  if (r.empty()) return Status(Errc::not_found, "no replica of " + image_id + " on " + node);
  return Status(Errc::conflict, "replica of " + image_id + " on " + node + " changed since it was read");
}

// Where each image's copies live and in what state, in PostgreSQL. Every write is a
// compare-and-set on the version the writer read. Each call is one short transaction through the
// Pool. Thread-safe (holds only a Pool reference; the Pool must outlive it).
class PgReplicaRepository final : public ReplicaRepository {
 public:
  explicit PgReplicaRepository(Pool& pool) : pool_(pool) {}

  Status record_copy(const ReplicaRow& r, std::optional<int64_t> expected_version) override {
    if (!is_canonical_uuid(r.image_id)) return Status(Errc::invalid, "image id is not a canonical uuid");
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      // FOR SHARE: a delete of the image waits for this transaction, so whoever removes the
      // image's copies afterwards sees this row (a copy can never be recorded behind its back).
      auto img = w.exec_params("SELECT status FROM images WHERE id = $1::uuid FOR SHARE", r.image_id);
      if (img.empty() || !keeps_data(detail::state_from<ImageStatus>(img[0][0])))
        return Status(Errc::not_found, "image " + r.image_id + " keeps no data (deleted or not active)");
      const auto verified = detail::to_pg_text(r.verified_at);
      pqxx::result res;
      try {
        if (!expected_version) {
          res = w.exec_params(
              "INSERT INTO replicas (image_id, node, state, size, digest, verified_at, hash_verified_at, updated_at) "
              "VALUES ($1::uuid, $2, 'ok', $3, $4, $5::timestamptz, $5::timestamptz, now()) "
              "ON CONFLICT (image_id, node) DO NOTHING",
              r.image_id, r.node, r.size, r.digest, verified);
        } else {
          res = w.exec_params(
              "UPDATE replicas SET state = 'ok', size = $3, digest = $4, verified_at = $5::timestamptz, "
              "  hash_verified_at = $5::timestamptz, updated_at = now(), version = nextval('replica_version_seq') "
              "WHERE image_id = $1::uuid AND node = $2 AND version = $6",
              r.image_id, r.node, r.size, r.digest, verified, *expected_version);
        }
      } catch (const pqxx::foreign_key_violation&) {
        return Status(Errc::not_found, "unknown node " + r.node);
      }
      if (res.affected_rows() == 0) {
        Status s = lost_or_gone(w, r.image_id, r.node);
        return s.code() == Errc::not_found ? Status(Errc::conflict, "replica row of " + r.image_id + " is gone") : s;
      }
      w.commit();
      return Status();
    });
  }

  Status set_state(const ReplicaRow& seen, ReplicaState to) override {
    if (!is_canonical_uuid(seen.image_id)) return Status(Errc::not_found, "no replica of " + seen.image_id);
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto res = w.exec_params(
          "UPDATE replicas SET state = $3, updated_at = now(), version = nextval('replica_version_seq') "
          "WHERE image_id = $1::uuid AND node = $2 AND state = $4 AND version = $5",
          seen.image_id, seen.node, to_string(to), to_string(seen.state), seen.version);
      if (res.affected_rows() == 0) return lost_or_gone(w, seen.image_id, seen.node);
      w.commit();
      return Status();
    });
  }

  Status mark_excess(const std::string& image_id, const std::string& node) override {
    if (!is_canonical_uuid(image_id)) return Status(Errc::invalid, "image id is not a canonical uuid");
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      pqxx::result res;
      try {
        res = w.exec_params(
            "INSERT INTO replicas (image_id, node, state, updated_at) VALUES ($1::uuid, $2, 'excess', now()) "
            "ON CONFLICT (image_id, node) DO UPDATE SET state = 'excess', updated_at = now(), "
            "  version = nextval('replica_version_seq') WHERE replicas.state <> 'ok' OR NOT EXISTS "
            "  (SELECT 1 FROM images i WHERE i.id = replicas.image_id AND i.status IN ('active', 'deactivated'))",
            image_id, node);
      } catch (const pqxx::foreign_key_violation&) {
        return Status(Errc::not_found, "unknown image " + image_id + " or node " + node);
      }
      if (res.affected_rows() == 0)
        return Status(Errc::conflict, "replica of " + image_id + " on " + node + " is ok: not marked excess");
      w.commit();
      return Status();
    });
  }

  Status remove(const ReplicaRow& seen) override {
    if (!is_canonical_uuid(seen.image_id)) return Status();
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto res = w.exec_params("DELETE FROM replicas WHERE image_id = $1::uuid AND node = $2 AND version = $3",
                               seen.image_id, seen.node, seen.version);
      if (res.affected_rows() == 0) {
        Status s = lost_or_gone(w, seen.image_id, seen.node);
        if (s.code() == Errc::not_found) return Status();  // gone already: the outcome wanted
        return s;
      }
      w.commit();
      return Status();
    });
  }

  Status remove_excess(const ReplicaRow& seen, const std::vector<ReplicaRow>& counted) override {
    if (!is_canonical_uuid(seen.image_id)) return Status();
    std::vector<std::string> nodes;
    std::vector<int64_t> versions;
    for (const auto& r : counted) {
      nodes.push_back(r.node);
      versions.push_back(r.version);
    }
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      // The copies that make this one excess, locked as they were read (ok, same version).
      auto still = w.exec_params(
          "SELECT node FROM replicas WHERE image_id = $1::uuid AND state = 'ok' "
          "AND (node, version) IN (SELECT * FROM unnest($2::text[], $3::bigint[])) FOR SHARE",
          seen.image_id, detail::text_array(nodes), detail::bigint_array(versions));
      if (still.size() != counted.size())
        return Status(Errc::conflict, "a copy counted for the excess rule changed since it was read");
      auto res = w.exec_params("DELETE FROM replicas WHERE image_id = $1::uuid AND node = $2 AND version = $3",
                               seen.image_id, seen.node, seen.version);
      if (res.affected_rows() == 0) return lost_or_gone(w, seen.image_id, seen.node);
      w.commit();
      return Status();
    });
  }

  Status forget(const std::string& image_id, const std::string& node) override {
    if (!is_canonical_uuid(image_id)) return Status();
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      w.exec_params("DELETE FROM replicas WHERE image_id = $1::uuid AND node = $2", image_id, node);
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

 private:
  Pool& pool_;
};

}  // namespace

std::unique_ptr<ReplicaRepository> make_replica_repository(Pool& pool) {
  return std::make_unique<PgReplicaRepository>(pool);
}

}  // namespace glint::db
