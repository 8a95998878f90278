#include <pqxx/pqxx>

#include "shared/db/pg_util.hpp"
#include "shared/db/repositories.hpp"

namespace glint::db {

namespace {

// Last passes in PostgreSQL: one upsert per pass, one read for glintctl status. Thread-safe.
class PgWorkerPassRepository final : public WorkerPassRepository {
 public:
  explicit PgWorkerPassRepository(Pool& pool) : pool_(pool) {}

  Status record(const WorkerPassRow& r) override {
    if (r.node.empty() || r.worker.empty()) return Status(Errc::invalid, "worker pass without node or worker");
    return pool_.run([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      w.exec_params(
          "INSERT INTO worker_passes (node, worker, started_at, finished_at, ok, items, failed, bytes, note, backlog) "
          "VALUES ($1, $2, $3::timestamptz, $4::timestamptz, $5, $6, $7, $8, $9, $10) "
          "ON CONFLICT (node, worker) DO UPDATE SET started_at = excluded.started_at, "
          "  finished_at = excluded.finished_at, ok = excluded.ok, items = excluded.items, "
          "  failed = excluded.failed, bytes = excluded.bytes, note = excluded.note, backlog = excluded.backlog "
          // A pass replayed from a node's journal never overwrites a later one.
          "WHERE worker_passes.finished_at <= excluded.finished_at",
          r.node, r.worker, detail::to_pg_text(r.started_at), detail::to_pg_text(r.finished_at), r.ok,
          detail::to_bigint(r.items), detail::to_bigint(r.failed), detail::to_bigint(r.bytes), r.note,
          r.backlog ? std::optional<int64_t>(detail::to_bigint(*r.backlog)) : std::nullopt);
      w.commit();
    });
  }

  Expected<std::vector<WorkerPassRow>> list() override {
    return pool_.query<std::vector<WorkerPassRow>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      std::vector<WorkerPassRow> out;
      for (const auto& row : t.exec(
               "SELECT node, worker, (extract(epoch from started_at) * 1000000)::bigint, "
               "(extract(epoch from finished_at) * 1000000)::bigint, ok, items, failed, bytes, coalesce(note, ''), backlog "
               "FROM worker_passes ORDER BY node, worker")) {
        WorkerPassRow r;
        r.node = row[0].as<std::string>();
        r.worker = row[1].as<std::string>();
        r.started_at = detail::from_micros(row[2].as<int64_t>());
        r.finished_at = detail::from_micros(row[3].as<int64_t>());
        r.ok = row[4].as<bool>();
        r.items = detail::from_bigint(row[5]);
        r.failed = detail::from_bigint(row[6]);
        r.bytes = detail::from_bigint(row[7]);
        r.note = row[8].as<std::string>();
        if (!row[9].is_null()) r.backlog = detail::from_bigint(row[9]);
        out.push_back(std::move(r));
      }
      return out;
    });
  }

 private:
  Pool& pool_;
};

}  // namespace

std::unique_ptr<WorkerPassRepository> make_worker_pass_repository(Pool& pool) {
  return std::make_unique<PgWorkerPassRepository>(pool);
}

}  // namespace glint::db
