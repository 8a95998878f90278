#include <pqxx/pqxx>

#include <nlohmann/json.hpp>

#include "shared/core/uuid.hpp"
#include "shared/db/pg_util.hpp"
#include "shared/db/repositories.hpp"

namespace glint::db {

namespace {

using detail::opt_timestamp;

// PostgreSQL array literal of canonical uuids (anything else is dropped: it cannot be an image).
std::string uuid_array(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (const auto& id : ids) {
    if (!is_canonical_uuid(id)) continue;
    if (out.size() > 1) out += ",";
    out += id;
  }
  return out + "}";
}

// The self-healing queries in PostgreSQL; each call is one statement or short transaction.
// Thread-safe (holds only a Pool).
class PgHealingRepository final : public HealingRepository {
 public:
  explicit PgHealingRepository(Pool& pool) : pool_(pool) {}

  Expected<std::vector<FeedEntry>> changes(FeedPosition after, size_t limit) override {
    return pool_.query<std::vector<FeedEntry>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      std::vector<FeedEntry> out;
      // Only entries of transactions older than every running one (the snapshot's xmin): all of
      // those have committed or aborted, so nothing can still appear between them.
      for (const auto& r : t.exec_params("SELECT xid, seq, image_id::text FROM replication_log "
                                         "WHERE (xid, seq) > ($1, $2) "
                                         "  AND xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint "
                                         "ORDER BY xid, seq LIMIT $3",
                                         after.xid, after.seq, static_cast<int64_t>(limit)))
        out.push_back(FeedEntry{{r[0].as<int64_t>(), r[1].as<int64_t>()}, r[2].as<std::string>()});
      return out;
    });
  }

  Expected<FeedPosition> feed_head() override {
    return pool_.query<FeedPosition>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      // Every settled entry has an xid below xmin; every unsettled one is at or above it.
      auto r = t.exec1("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint");
      return FeedPosition{r[0].as<int64_t>(), 0};
    });
  }

  Status prune_changes(std::chrono::seconds age) override {
    return pool_.run([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      w.exec_params("DELETE FROM replication_log WHERE at < now() - make_interval(secs => $1)",
                    static_cast<double>(age.count()));
      w.commit();
    });
  }

  Expected<std::vector<std::string>> images_with_data(const std::string& after_id, size_t limit) override {
    return pool_.query<std::vector<std::string>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      std::vector<std::string> out;
      const std::string after = after_id.empty() ? detail::kNoId : after_id;
      for (const auto& r : t.exec_params("SELECT id::text FROM images WHERE id > $1::uuid "
                                         "AND status IN ('active', 'deactivated') ORDER BY id LIMIT $2",
                                         after, static_cast<int64_t>(limit)))
        out.push_back(r[0].as<std::string>());
      return out;
    });
  }

  Expected<std::vector<ImageCopies>> copies(const std::vector<std::string>& ids) override {
    return pool_.query<std::vector<ImageCopies>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      std::vector<ImageCopies> out;
      // One statement for the batch: images with their replica rows as JSON.
      auto res = t.exec_params(
          "SELECT i.id::text, i.status, coalesce(i.size, 0), coalesce(i.os_hash_algo, ''), "
          "coalesce(i.os_hash_value, ''), coalesce((SELECT json_agg(json_build_array(r.node, r.state, r.size, "
          "r.digest, (extract(epoch from r.verified_at) * 1000000)::bigint, r.version) ORDER BY r.node) "
          "FROM replicas r WHERE r.image_id = i.id), '[]')::text "
          "FROM images i WHERE i.id = ANY($1::uuid[]) ORDER BY i.id",
          uuid_array(ids));
      for (const auto& r : res) {
        ImageCopies ic;
        ic.id = r[0].as<std::string>();
        ic.status = detail::state_from<ImageStatus>(r[1]);
        ic.size = r[2].as<int64_t>();
        ic.os_hash_algo = r[3].as<std::string>();
        ic.os_hash_value = r[4].as<std::string>();
        for (const auto& a : nlohmann::json::parse(r[5].as<std::string>())) {
          ReplicaRow rr;
          rr.image_id = ic.id;
          rr.node = a[0].get<std::string>();
          const auto state = parse_state<ReplicaState>(a[1].get<std::string>());
          if (!state) throw std::runtime_error("unknown replica state in the database");
          rr.state = *state;
          if (!a[2].is_null()) rr.size = a[2].get<int64_t>();
          if (!a[3].is_null()) rr.digest = a[3].get<std::string>();
          if (!a[4].is_null()) rr.verified_at = detail::from_micros(a[4].get<int64_t>());
          rr.version = a[5].get<int64_t>();
          ic.replicas.push_back(std::move(rr));
        }
        out.push_back(std::move(ic));
      }
      return out;
    });
  }

  Expected<std::vector<ReplicaRow>> node_replicas(const std::string& node, const std::string& after_id,
                                                  size_t limit) override {
    return pool_.query<std::vector<ReplicaRow>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      const std::string after = after_id.empty() ? detail::kNoId : after_id;
      return detail::replicas_from(t.exec_params(std::string("SELECT ") + detail::kReplicaColumns +
                                                     " FROM replicas WHERE node = $1 AND image_id > $2::uuid "
                                                     "ORDER BY image_id LIMIT $3",
                                                 node, after, static_cast<int64_t>(limit)));
    });
  }

  Expected<std::vector<AuditItem>> due_for_audit(const std::string& node, Timestamp before, size_t limit) override {
    return pool_.query<std::vector<AuditItem>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      std::vector<AuditItem> out;
      for (const auto& r : t.exec_params(
               "SELECT r.image_id::text, coalesce(r.size, i.size, 0), coalesce(r.digest, ''), "
               "coalesce(i.os_hash_algo, ''), coalesce(i.os_hash_value, ''), "
               "(extract(epoch from r.verified_at) * 1000000)::bigint, "
               "(extract(epoch from r.hash_verified_at) * 1000000)::bigint, r.version "
               "FROM replicas r JOIN images i ON i.id = r.image_id "
               "WHERE r.node = $1 AND r.state = 'ok' AND (r.verified_at IS NULL OR r.verified_at < $2::timestamptz) "
               "ORDER BY r.verified_at NULLS FIRST, r.image_id LIMIT $3",
               node, detail::to_pg_text(before), static_cast<int64_t>(limit))) {
        AuditItem a;
        a.image_id = r[0].as<std::string>();
        a.size = r[1].as<int64_t>();
        a.digest = r[2].as<std::string>();
        a.os_hash_algo = r[3].as<std::string>();
        a.os_hash_value = r[4].as<std::string>();
        a.verified_at = opt_timestamp(r[5]);
        a.hash_verified_at = opt_timestamp(r[6]);
        a.version = r[7].as<int64_t>();
        out.push_back(std::move(a));
      }
      return out;
    });
  }

  Status mark_verified(const std::vector<std::pair<std::string, int64_t>>& seen, const std::string& node,
                       bool hash_checked) override {
    std::vector<std::string> ids;
    std::vector<int64_t> versions;
    for (const auto& [id, v] : seen) {
      if (!is_canonical_uuid(id)) continue;
      ids.push_back(id);
      versions.push_back(v);
    }
    if (ids.empty()) return {};
    return pool_.run([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      // Only the rows as they were read: a copy replaced meanwhile was not the one verified.
      w.exec_params(
          "UPDATE replicas r SET verified_at = now(), "
          "hash_verified_at = CASE WHEN $3 THEN now() ELSE r.hash_verified_at END "
          "FROM unnest($1::uuid[], $4::bigint[]) AS v(id, version) "
          "WHERE r.image_id = v.id AND r.version = v.version AND r.node = $2 AND r.state = 'ok'",
          uuid_array(ids), node, hash_checked, detail::bigint_array(versions));
      w.commit();
    });
  }

  Expected<std::optional<Timestamp>> oldest_verification(const std::string& node) override {
    return pool_.query<std::optional<Timestamp>>([&](pqxx::connection_base& c) -> std::optional<Timestamp> {
      pqxx::read_transaction t(c);
      auto r = t.exec_params(
          "SELECT (extract(epoch from coalesce(verified_at, 'epoch'::timestamptz)) * 1000000)::bigint "
          "FROM replicas WHERE node = $1 AND state = 'ok' ORDER BY verified_at NULLS FIRST LIMIT 1",
          node);
      if (r.empty()) return std::nullopt;
      return detail::from_micros(r[0][0].as<int64_t>());
    });
  }

  Status record_orphan(const std::string& node, const std::string& image_id, uint64_t size) override {
    // One statement, autocommitted: one round trip (the updater replays these by the thousand).
    return pool_.run([&](pqxx::connection_base& c) {
      pqxx::nontransaction w(c);
      w.exec_params("INSERT INTO orphans (node, image_id, size) VALUES ($1, $2, $3) "
                    "ON CONFLICT (node, image_id) DO UPDATE SET size = excluded.size",
                    node, image_id, detail::to_bigint(size));
    });
  }

  Status clear_orphan(const std::string& node, const std::string& image_id) override {
    return pool_.run([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      w.exec_params("DELETE FROM orphans WHERE node = $1 AND image_id = $2", node, image_id);
      w.commit();
    });
  }

  Expected<std::optional<std::string>> checkpoint(const std::string& node, const std::string& worker) override {
    return pool_.query<std::optional<std::string>>([&](pqxx::connection_base& c) -> std::optional<std::string> {
      pqxx::read_transaction t(c);
      auto r = t.exec_params("SELECT position FROM checkpoints WHERE node = $1 AND worker = $2", node, worker);
      if (r.empty()) return std::nullopt;
      return r[0][0].as<std::string>();
    });
  }

  Status save_checkpoint(const std::string& node, const std::string& worker, const std::string& position) override {
    return pool_.run([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      w.exec_params("INSERT INTO checkpoints (node, worker, position) VALUES ($1, $2, $3) "
                    "ON CONFLICT (node, worker) DO UPDATE SET position = excluded.position, updated_at = now()",
                    node, worker, position);
      w.commit();
    });
  }

  Expected<std::string> placement_generation() override {
    return pool_.query<std::string>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      auto r = t.exec("SELECT generation FROM placement_generation WHERE id = 1");
      return r.empty() ? std::string() : r[0][0].as<std::string>();
    });
  }

  Status set_placement_generation(const std::string& generation) override {
    return pool_.run([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      w.exec_params("INSERT INTO placement_generation (id, generation) VALUES (1, $1) "
                    "ON CONFLICT (id) DO UPDATE SET generation = excluded.generation, updated_at = now()",
                    generation);
      w.commit();
    });
  }

  Status flag_image(const std::string& image_id, const std::string& reason) override {
    if (!is_canonical_uuid(image_id)) return Status(Errc::invalid, "image id is not a canonical uuid");
    return pool_.run([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      w.exec_params("INSERT INTO image_flags (image_id, reason) VALUES ($1::uuid, $2) "
                    "ON CONFLICT (image_id) DO UPDATE SET reason = excluded.reason",
                    image_id, reason);
      w.commit();
    });
  }

  Status clear_flag(const std::string& image_id) override {
    if (!is_canonical_uuid(image_id)) return Status();
    return pool_.run([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      w.exec_params("DELETE FROM image_flags WHERE image_id = $1::uuid", image_id);
      w.commit();
    });
  }

  Expected<bool> is_flagged(const std::string& image_id) override {
    if (!is_canonical_uuid(image_id)) return false;
    return pool_.query<bool>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      return !t.exec_params("SELECT 1 FROM image_flags WHERE image_id = $1::uuid", image_id).empty();
    });
  }

  Expected<std::vector<ImageFlag>> flagged(size_t limit) override {
    return pool_.query<std::vector<ImageFlag>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      std::vector<ImageFlag> out;
      for (const auto& r : t.exec_params("SELECT image_id::text, reason, "
                                         "(extract(epoch from flagged_at) * 1000000)::bigint FROM image_flags "
                                         "ORDER BY flagged_at, image_id LIMIT $1",
                                         static_cast<int64_t>(limit)))
        out.push_back(ImageFlag{r[0].as<std::string>(), r[1].as<std::string>(), detail::from_micros(r[2].as<int64_t>())});
      return out;
    });
  }

 private:
  Pool& pool_;
};

}  // namespace

std::unique_ptr<HealingRepository> make_healing_repository(Pool& pool) {
  return std::make_unique<PgHealingRepository>(pool);
}

}  // namespace glint::db
