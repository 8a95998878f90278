#include <pqxx/pqxx>

#include "shared/core/uuid.hpp"
#include "shared/db/pg_util.hpp"
#include "shared/db/repositories.hpp"

namespace glint::db {

namespace {

// Copies (r) the reaper may delete, by their image (i): the SQL side of reapable() and
// reapable_while_queued().
constexpr const char* kReapableCopy =
    "(i.status IN ('deleted', 'killed') OR (i.status = 'pending_delete' AND i.reap_claimed_at IS NOT NULL) "
    " OR (i.status = 'queued' AND r.state = 'excess'))";

// The reaper's claims, leftovers, orphans and restores in PostgreSQL. The claim and the restore
// are each one UPDATE on the image row, so PostgreSQL's row lock orders them: whichever commits
// first wins and the other sees the row as it left it. Thread-safe (holds only a Pool reference).
class PgReaperRepository final : public ReaperRepository {
 public:
  explicit PgReaperRepository(Pool& pool) : pool_(pool) {}

  // One write statement in its own transaction; how many rows it touched.
  template <class... Params>
  Expected<size_t> rows_changed(const char* sql, const Params&... params) {
    return pool_.query<size_t>([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto r = w.exec_params(sql, params...);
      w.commit();
      return static_cast<size_t>(r.affected_rows());
    });
  }

  Expected<size_t> claim_due_deletes(Timestamp before, size_t limit) override {
    return rows_changed(
        "UPDATE images SET reap_claimed_at = now() WHERE id IN ("
        "  SELECT id FROM images WHERE status = 'pending_delete' AND reap_claimed_at IS NULL "
        "  AND deleted_at < $1::timestamptz ORDER BY deleted_at LIMIT $2 FOR UPDATE SKIP LOCKED) "
        "AND status = 'pending_delete' AND reap_claimed_at IS NULL",
        detail::to_pg_text(before), static_cast<int64_t>(limit));
  }

  Expected<std::vector<Leftover>> leftovers(const std::string& node, const std::string& after_id,
                                            size_t limit) override {
    return pool_.query<std::vector<Leftover>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      auto res = t.exec_params(
          std::string("SELECT r.image_id::text, r.node, r.state, r.size, r.digest, "
                      "  (extract(epoch from r.verified_at) * 1000000)::bigint, r.version, i.status, "
                      "  i.reap_claimed_at IS NOT NULL "
                      "FROM replicas r JOIN images i ON i.id = r.image_id "
                      "WHERE r.node = $1 AND r.image_id > $2::uuid AND ") +
              kReapableCopy + " ORDER BY r.image_id LIMIT $3",
          node, after_id.empty() ? detail::kNoId : after_id, static_cast<int64_t>(limit));
      std::vector<Leftover> out;
      for (const auto& row : res) {
        Leftover l;
        l.replica = detail::replica_from(row);
        l.status = detail::state_from<ImageStatus>(row[7]);
        l.claimed = row[8].as<bool>();
        out.push_back(std::move(l));
      }
      return out;
    });
  }

  Expected<bool> remove_queued_excess(const ReplicaRow& seen, const std::function<Status()>& remove_file) override {
    if (!is_canonical_uuid(seen.image_id)) return false;
    bool removed = false;
    Status file;
    Status s = pool_.run([&](pqxx::connection_base& c) {
      removed = false;
      pqxx::work w(c);
      // Held until the commit: the upload's queued -> saving UPDATE waits for it.
      if (w.exec_params("SELECT 1 FROM images WHERE id = $1::uuid AND status = 'queued' FOR UPDATE SKIP LOCKED",
                        seen.image_id)
              .empty())
        return;
      auto row = w.exec_params(
          "DELETE FROM replicas WHERE image_id = $1::uuid AND node = $2 AND state = 'excess' AND version = $3",
          seen.image_id, seen.node, seen.version);
      if (row.affected_rows() == 0) return;
      if (file = remove_file(); !file) return;  // the rollback keeps the row
      w.commit();
      removed = true;
    });
    if (!s) return s.error();
    if (!file) return file.error();
    return removed;
  }

  Expected<size_t> remove_reaped(const std::vector<ReplicaRow>& seen) override {
    std::vector<std::string> ids, nodes;
    std::vector<int64_t> versions;
    for (const auto& r : seen) {
      if (!is_canonical_uuid(r.image_id)) continue;
      ids.push_back(r.image_id);
      nodes.push_back(r.node);
      versions.push_back(r.version);
    }
    if (ids.empty()) return size_t{0};
    return rows_changed(
        "DELETE FROM replicas WHERE (image_id, node, version) IN "
        "  (SELECT u.i::uuid, u.n, u.v FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(i, n, v))",
        detail::text_array(ids), detail::text_array(nodes), detail::bigint_array(versions));
  }

  Expected<size_t> finish_reaped(size_t limit) override {
    // record_copy takes the image FOR SHARE and refuses images that keep no data, so no copy can
    // appear behind this check.
    return rows_changed(
        "UPDATE images SET status = 'deleted', updated_at = now() WHERE id IN ("
        "  SELECT i.id FROM images i WHERE i.status = 'pending_delete' AND i.reap_claimed_at IS NOT NULL "
        "  AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.image_id = i.id) LIMIT $1 FOR UPDATE SKIP LOCKED)",
        static_cast<int64_t>(limit));
  }

  Expected<std::vector<OrphanRow>> due_orphans(const std::string& node, Timestamp found_before, size_t limit) override {
    return pool_.query<std::vector<OrphanRow>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      auto res = t.exec_params(
          "SELECT node, image_id, coalesce(size, 0), (extract(epoch from found_at) * 1000000)::bigint FROM orphans "
          "WHERE node = $1 AND found_at < $2::timestamptz ORDER BY found_at LIMIT $3",
          node, detail::to_pg_text(found_before), static_cast<int64_t>(limit));
      std::vector<OrphanRow> out;
      for (const auto& row : res)
        out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), detail::from_bigint(row[2]),
                       detail::from_micros(row[3].as<int64_t>())});
      return out;
    });
  }

  Expected<bool> take_orphan(const std::string& node, const std::string& image_id) override {
    return pool_.query<bool>([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      // A non-uuid file name can never become a replica: only the row check needs the cast.
      auto r = w.exec_params(
          "DELETE FROM orphans o WHERE o.node = $1 AND o.image_id = $2 AND NOT EXISTS ("
          "  SELECT 1 FROM replicas r WHERE r.node = $1 AND r.image_id::text = $2)",
          node, image_id);
      const bool taken = r.affected_rows() > 0;
      if (!taken) w.exec_params("DELETE FROM orphans WHERE node = $1 AND image_id = $2", node, image_id);  // a replica now
      w.commit();
      return taken;
    });
  }

  Expected<RestoreOutcome> restore(const std::string& image_id) override {
    if (!is_canonical_uuid(image_id)) return RestoreOutcome::not_found;
    return pool_.query<RestoreOutcome>([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto r = w.exec_params(
          "UPDATE images SET status = CASE WHEN size IS NULL THEN 'queued' ELSE 'active' END, deleted_at = NULL, "
          "  updated_at = now() WHERE id = $1::uuid AND status = 'pending_delete' AND reap_claimed_at IS NULL",
          image_id);
      if (r.affected_rows() == 1) {
        w.commit();
        return RestoreOutcome::restored;
      }
      auto now = w.exec_params("SELECT status, reap_claimed_at IS NOT NULL FROM images WHERE id = $1::uuid", image_id);
      if (now.empty()) return RestoreOutcome::not_found;
      if (now[0][0].as<std::string>() == "pending_delete" && now[0][1].as<bool>()) return RestoreOutcome::being_reaped;
      return RestoreOutcome::not_pending_delete;
    });
  }

  Expected<size_t> purge(Timestamp deleted_before, size_t limit) override {
    // One statement: the tombstones and the deletes see the same rows. Properties, tags, members
    // and flags go by ON DELETE CASCADE.
    return rows_changed(
        "WITH doomed AS (SELECT id FROM images i WHERE status = 'deleted' AND deleted_at < $1::timestamptz "
        "    AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.image_id = i.id) "
        "    ORDER BY deleted_at LIMIT $2 FOR UPDATE SKIP LOCKED), "
        "  tomb AS (INSERT INTO purged_images (id) SELECT id FROM doomed ON CONFLICT DO NOTHING), "
        "  cached AS (DELETE FROM cache_entries WHERE image_id IN (SELECT id FROM doomed)), "
        "  queued AS (DELETE FROM cache_queue WHERE image_id IN (SELECT id FROM doomed)) "
        "DELETE FROM images WHERE id IN (SELECT id FROM doomed)",
        detail::to_pg_text(deleted_before), static_cast<int64_t>(limit));
  }

  Expected<size_t> requeue_stale_uploads(Timestamp before, size_t limit) override {
    return rows_changed(
        "UPDATE images SET status = 'queued', upload_heartbeat_at = NULL, updated_at = now() WHERE id IN ("
        "  SELECT id FROM images WHERE status = 'saving' AND greatest(upload_heartbeat_at, updated_at) < $1::timestamptz "
        "  LIMIT $2 FOR UPDATE SKIP LOCKED) AND status = 'saving'",
        detail::to_pg_text(before), static_cast<int64_t>(limit));
  }

  Expected<ReapBacklog> backlog(const std::string& node, Timestamp due_before) override {
    return pool_.query<ReapBacklog>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      ReapBacklog b;
      auto due = t.exec_params1(
          "SELECT count(*), (extract(epoch from min(deleted_at)) * 1000000)::bigint FROM images "
          "WHERE status = 'pending_delete' AND deleted_at < $1::timestamptz",
          detail::to_pg_text(due_before));
      b.due_deletes = due[0].as<int64_t>();
      b.oldest_due = detail::opt_timestamp(due[1]);
      b.leftovers = t.exec_params1(std::string("SELECT count(*) FROM replicas r JOIN images i ON i.id = r.image_id "
                                               "WHERE r.node = $1 AND ") + kReapableCopy,
                                   node)[0]
                        .as<int64_t>();
      return b;
    });
  }

 private:
  Pool& pool_;
};

}  // namespace

std::unique_ptr<ReaperRepository> make_reaper_repository(Pool& pool) { return std::make_unique<PgReaperRepository>(pool); }

}  // namespace glint::db
