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

  Expected<std::vector<std::pair<int64_t, std::string>>> changes(int64_t after_seq, size_t limit) override {
    return pool_.query<std::vector<std::pair<int64_t, std::string>>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      std::vector<std::pair<int64_t, std::string>> out;
      for (const auto& r : t.exec_params("SELECT seq, image_id::text FROM replication_log WHERE seq > $1 "
                                         "ORDER BY seq LIMIT $2",
                                         after_seq, static_cast<int64_t>(limit)))
        out.emplace_back(r[0].as<int64_t>(), r[1].as<std::string>());
      return out;
    });
  }

  Expected<std::pair<int64_t, int64_t>> change_bounds() override {
    return pool_.query<std::pair<int64_t, int64_t>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      // Both ends through the primary key index: constant time however long the feed is.
      auto r = t.exec1("SELECT coalesce((SELECT seq FROM replication_log ORDER BY seq LIMIT 1), 0), "
                       "coalesce((SELECT seq FROM replication_log ORDER BY seq DESC LIMIT 1), 0)");
      return std::pair<int64_t, int64_t>(r[0].as<int64_t>(), r[1].as<int64_t>());
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
      const std::string after = after_id.empty() ? "00000000-0000-0000-0000-000000000000" : after_id;
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
          "r.digest, (extract(epoch from r.verified_at) * 1000000)::bigint) ORDER BY r.node) "
          "FROM replicas r WHERE r.image_id = i.id), '[]')::text "
          "FROM images i WHERE i.id = ANY($1::uuid[]) ORDER BY i.id",
          uuid_array(ids));
      for (const auto& r : res) {
        ImageCopies ic;
        ic.id = r[0].as<std::string>();
        ic.status = r[1].as<std::string>();
        ic.size = r[2].as<int64_t>();
        ic.os_hash_algo = r[3].as<std::string>();
        ic.os_hash_value = r[4].as<std::string>();
        for (const auto& a : nlohmann::json::parse(r[5].as<std::string>())) {
          ReplicaRow rr;
          rr.image_id = ic.id;
          rr.node = a[0].get<std::string>();
          rr.state = a[1].get<std::string>();
          if (!a[2].is_null()) rr.size = a[2].get<int64_t>();
          if (!a[3].is_null()) rr.digest = a[3].get<std::string>();
          if (!a[4].is_null()) rr.verified_at = detail::from_micros(a[4].get<int64_t>());
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
      const std::string after = after_id.empty() ? "00000000-0000-0000-0000-000000000000" : after_id;
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
               "(extract(epoch from r.hash_verified_at) * 1000000)::bigint "
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
        out.push_back(std::move(a));
      }
      return out;
    });
  }

  Status mark_verified(const std::vector<std::string>& image_ids, const std::string& node,
                       bool hash_checked) override {
    if (image_ids.empty()) return {};
    return pool_.run([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      w.exec_params(
          "UPDATE replicas SET verified_at = now(), "
          "hash_verified_at = CASE WHEN $3 THEN now() ELSE hash_verified_at END "
          "WHERE image_id = ANY($1::uuid[]) AND node = $2 AND state = 'ok'",
          uuid_array(image_ids), node, hash_checked);
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
    return pool_.run([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      w.exec_params("INSERT INTO orphans (node, image_id, size) VALUES ($1, $2, $3) "
                    "ON CONFLICT (node, image_id) DO UPDATE SET size = excluded.size",
                    node, image_id, detail::to_bigint(size));
      w.commit();
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

 private:
  Pool& pool_;
};

}  // namespace

std::unique_ptr<HealingRepository> make_healing_repository(Pool& pool) {
  return std::make_unique<PgHealingRepository>(pool);
}

}  // namespace glint::db
