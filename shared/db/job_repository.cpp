#include <pqxx/pqxx>

#include "shared/core/uuid.hpp"
#include "shared/db/pg_util.hpp"
#include "shared/db/repositories.hpp"

namespace glint::db {

namespace {

using detail::opt;
using detail::run_status;

constexpr const char* kJobColumns =
    "id::text, kind, target, state, progress, result::text, requested_by, lease_owner, "
    "(extract(epoch from lease_expires) * 1000000)::bigint, (extract(epoch from created_at) * 1000000)::bigint, "
    "(extract(epoch from started_at) * 1000000)::bigint, (extract(epoch from finished_at) * 1000000)::bigint";

JobRow job_from(const pqxx::row& r) {
  JobRow j;
  j.id = r[0].as<std::string>();
  j.kind = r[1].as<std::string>();
  j.target = opt<std::string>(r[2]);
  j.state = r[3].as<std::string>();
  j.progress = r[4].as<double>();
  j.result = opt<std::string>(r[5]);
  j.requested_by = opt<std::string>(r[6]);
  j.lease_owner = opt<std::string>(r[7]);
  j.lease_expires = detail::opt_timestamp(r[8]);
  j.created_at = detail::from_micros(r[9].as<int64_t>());
  j.started_at = detail::opt_timestamp(r[10]);
  j.finished_at = detail::opt_timestamp(r[11]);
  return j;
}

// Jobs in PostgreSQL; every call is one short transaction. Thread-safe (holds only a Pool).
class PgJobRepository final : public JobRepository {
 public:
  explicit PgJobRepository(Pool& pool) : pool_(pool) {}

  Expected<JobRow> create(const std::string& kind, const std::optional<std::string>& target,
                          const std::string& requested_by) override {
    if (kind.empty()) return Error{Errc::invalid, "job kind is empty"};
    return pool_.query<JobRow>([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto r = w.exec_params(std::string("INSERT INTO jobs (id, kind, target, state, requested_by) "
                                         "VALUES ($1::uuid, $2, $3, 'queued', $4) RETURNING ") + kJobColumns,
                             random_uuid(), kind, target, requested_by);
      w.commit();
      return job_from(r[0]);
    });
  }

  Expected<JobRow> ensure(const std::string& kind, const std::string& target, const std::string& requested_by) override {
    if (kind.empty()) return Error{Errc::invalid, "job kind is empty"};
    return pool_.query<JobRow>([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      // Serialises callers asking for the same job (every node's auditor after a restore).
      w.exec_params("SELECT pg_advisory_xact_lock(hashtext($1 || '/' || $2))", kind, target);
      auto open = w.exec_params(std::string("SELECT ") + kJobColumns +
                                    " FROM jobs WHERE kind = $1 AND target = $2 AND state IN ('queued', 'running') "
                                    "ORDER BY created_at LIMIT 1",
                                kind, target);
      if (!open.empty()) return job_from(open[0]);
      auto r = w.exec_params(std::string("INSERT INTO jobs (id, kind, target, state, requested_by) "
                                         "VALUES ($1::uuid, $2, $3, 'queued', $4) RETURNING ") + kJobColumns,
                             random_uuid(), kind, target, requested_by);
      w.commit();
      return job_from(r[0]);
    });
  }

  Expected<std::optional<JobRow>> claim(const std::string& kind, const std::string& owner,
                                        std::chrono::seconds lease, const std::string& node) override {
    return pool_.query<std::optional<JobRow>>([&](pqxx::connection_base& c) -> std::optional<JobRow> {
      pqxx::work w(c);
      // SKIP LOCKED: concurrent claimers never wait for each other and never get the same job.
      auto r = w.exec_params(
          std::string("UPDATE jobs SET state = 'running', lease_owner = $2, "
                      "  lease_expires = now() + make_interval(secs => $3), "
                      "  started_at = coalesce(started_at, now()), updated_at = now() "
                      "WHERE id = (SELECT id FROM jobs WHERE kind = $1 AND "
                      "  (state = 'queued' OR (state = 'running' AND lease_expires < now())) "
                      "  AND (target IS NULL OR target NOT LIKE 'node:%' OR "
                      "       split_part(substr(target, 6), ';', 1) = $4) "
                      "  ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING ") + kJobColumns,
          kind, owner, static_cast<int64_t>(lease.count()), node);
      w.commit();
      if (r.empty()) return std::nullopt;
      return job_from(r[0]);
    });
  }

  Status renew(const std::string& id, const std::string& owner, std::chrono::seconds lease, double progress) override {
    if (!is_canonical_uuid(id)) return Status(Errc::not_found, "unknown job " + id);
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto r = w.exec_params(
          "UPDATE jobs SET lease_expires = now() + make_interval(secs => $3), progress = $4, updated_at = now() "
          "WHERE id = $1::uuid AND state = 'running' AND lease_owner = $2",
          id, owner, static_cast<int64_t>(lease.count()), progress);
      if (r.affected_rows() == 0) return Status(Errc::conflict, "lease on job " + id + " lost");
      w.commit();
      return Status();
    });
  }

  Status finish(const std::string& id, const std::string& owner, const std::string& state,
                const std::string& result_json) override {
    if (state != "done" && state != "failed") return Status(Errc::invalid, "bad final state '" + state + "'");
    if (!is_canonical_uuid(id)) return Status(Errc::not_found, "unknown job " + id);
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      try {
        auto r = w.exec_params(
            "UPDATE jobs SET state = $3, result = $4::jsonb, progress = CASE WHEN $3 = 'done' THEN 1 ELSE progress END, "
            "  finished_at = now(), lease_owner = NULL, lease_expires = NULL, updated_at = now() "
            "WHERE id = $1::uuid AND state = 'running' AND lease_owner = $2",
            id, owner, state, result_json);
        if (r.affected_rows() == 0) return Status(Errc::conflict, "lease on job " + id + " lost");
      } catch (const pqxx::data_exception&) {
        return Status(Errc::invalid, "job result is not JSON");
      }
      w.commit();
      return Status();
    });
  }

  Status cancel(const std::string& id) override {
    if (!is_canonical_uuid(id)) return Status(Errc::not_found, "unknown job " + id);
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto r = w.exec_params(
          "UPDATE jobs SET state = 'cancelled', finished_at = now(), lease_owner = NULL, lease_expires = NULL, "
          "  updated_at = now() WHERE id = $1::uuid AND state IN ('queued', 'running') RETURNING 1",
          id);
      if (r.empty()) {
        auto cur = w.exec_params("SELECT state FROM jobs WHERE id = $1::uuid", id);
        if (cur.empty()) return Status(Errc::not_found, "unknown job " + id);
        return Status(Errc::conflict, "job " + id + " is already " + cur[0][0].as<std::string>());
      }
      w.commit();
      return Status();
    });
  }

  Expected<std::optional<JobRow>> get(const std::string& id) override {
    if (!is_canonical_uuid(id)) return std::optional<JobRow>();
    return pool_.query<std::optional<JobRow>>([&](pqxx::connection_base& c) -> std::optional<JobRow> {
      pqxx::nontransaction t(c);
      auto r = t.exec_params(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = $1::uuid", id);
      if (r.empty()) return std::nullopt;
      return job_from(r[0]);
    });
  }

  Expected<std::vector<JobRow>> list(const std::string& state, size_t limit) override {
    return pool_.query<std::vector<JobRow>>([&](pqxx::connection_base& c) {
      pqxx::nontransaction t(c);
      auto r = t.exec_params(std::string("SELECT ") + kJobColumns +
                                 " FROM jobs WHERE ($1 = '' OR state = $1) ORDER BY created_at DESC, id LIMIT $2",
                             state, static_cast<int64_t>(limit));
      std::vector<JobRow> out;
      for (const auto& row : r) out.push_back(job_from(row));
      return out;
    });
  }

 private:
  Pool& pool_;
};

}  // namespace

std::unique_ptr<JobRepository> make_job_repository(Pool& pool) { return std::make_unique<PgJobRepository>(pool); }

Expected<ClusterCounts> cluster_counts(Pool& pool, int replicas) {
  return pool.query<ClusterCounts>([&](pqxx::connection_base& c) {
    pqxx::read_transaction t(c);  // one statement each; read committed
    ClusterCounts out;
    for (const auto& r : t.exec("SELECT status, count(*) FROM images WHERE status NOT IN ('deleted') GROUP BY status"))
      out.images_by_status[r[0].as<std::string>()] = r[1].as<int64_t>();
    out.under_replicated = t.exec_params(
        "SELECT count(*) FROM images i WHERE i.status = 'active' AND "
        "(SELECT count(*) FROM replicas r WHERE r.image_id = i.id AND r.state = 'ok') < $1",
        replicas)[0][0].as<int64_t>();
    for (const auto& r : t.exec("SELECT state, count(*) FROM replicas WHERE state <> 'ok' GROUP BY state")) {
      const int64_t n = r[1].as<int64_t>();
      switch (detail::state_from<ReplicaState>(r[0])) {
        case ReplicaState::corrupt: out.corrupt = n; break;
        case ReplicaState::missing: out.missing = n; break;
        case ReplicaState::excess: out.excess = n; break;
        case ReplicaState::ok:
        case ReplicaState::writing: break;
      }
    }
    out.flagged = t.exec("SELECT count(*) FROM image_flags")[0][0].as<int64_t>();
    return out;
  });
}

}  // namespace glint::db
