#include "shared/db/cache_repository.hpp"

#include <pqxx/pqxx>

#include "shared/core/uuid.hpp"
#include "shared/db/pg_util.hpp"

namespace glint::db {

namespace {

Status check_id(const std::string& image_id) {
  if (!is_canonical_uuid(image_id)) return Status(Errc::invalid, "not an image id: " + image_id);
  return {};
}

// CacheRepository over PostgreSQL. Thread-safe (the pool is).
class PgCacheRepository final : public CacheRepository {
 public:
  explicit PgCacheRepository(Pool& pool) : pool_(pool) {}

  Status register_node(const std::string& node, const std::string& url) override {
    if (node.empty()) return Status(Errc::invalid, "cache node without a name");
    return pool_.run([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      w.exec_params("INSERT INTO cache_nodes (node, url) VALUES ($1, $2) "
                    "ON CONFLICT (node) DO UPDATE SET url = excluded.url, last_seen = now()",
                    node, url);
      w.commit();
    });
  }

  Expected<std::vector<std::string>> nodes() override {
    return pool_.query<std::vector<std::string>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      std::vector<std::string> out;
      for (const auto& row : t.exec("SELECT node FROM cache_nodes ORDER BY node")) out.push_back(row[0].as<std::string>());
      return out;
    });
  }

  Status record_entry(const std::string& node, const std::string& image_id, uint64_t size,
                      const std::string& digest) override {
    if (Status s = check_id(image_id); !s) return s;
    return pool_.run([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      w.exec_params("INSERT INTO cache_entries (node, image_id, size, digest) VALUES ($1, $2::uuid, $3, $4) "
                    "ON CONFLICT (node, image_id) DO UPDATE SET size = excluded.size, digest = excluded.digest, "
                    "  hits = 0, last_access = now(), created_at = now()",
                    node, image_id, detail::to_bigint(size), digest);
      // Cached now: nothing left to fetch for this node.
      w.exec_params("DELETE FROM cache_queue WHERE node = $1 AND image_id = $2::uuid", node, image_id);
      w.commit();
    });
  }

  Status record_hit(const std::string& node, const std::string& image_id) override {
    return exec_on(image_id, "UPDATE cache_entries SET hits = hits + 1, last_access = now() "
                             "WHERE node = $1 AND image_id = $2::uuid", node);
  }

  Status remove_entry(const std::string& node, const std::string& image_id) override {
    return exec_on(image_id, "DELETE FROM cache_entries WHERE node = $1 AND image_id = $2::uuid", node);
  }

  Expected<std::vector<CacheEntryRow>> entries(const std::string& node) override {
    return pool_.query<std::vector<CacheEntryRow>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      std::vector<CacheEntryRow> out;
      for (const auto& row : t.exec_params(
               "SELECT node, image_id::text, size, digest, hits, (extract(epoch from last_access) * 1000000)::bigint, "
               "(extract(epoch from created_at) * 1000000)::bigint FROM cache_entries WHERE node = $1 "
               "ORDER BY last_access, image_id",
               node)) {
        CacheEntryRow r;
        r.node = row[0].as<std::string>();
        r.image_id = row[1].as<std::string>();
        r.size = detail::from_bigint(row[2]);
        r.digest = row[3].as<std::string>();
        r.hits = detail::from_bigint(row[4]);
        r.last_access = detail::from_micros(row[5].as<int64_t>());
        r.created_at = detail::from_micros(row[6].as<int64_t>());
        out.push_back(std::move(r));
      }
      return out;
    });
  }

  Expected<std::vector<std::string>> nodes_caching(const std::string& image_id) override {
    if (Status s = check_id(image_id); !s) return s.error();
    return pool_.query<std::vector<std::string>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      std::vector<std::string> out;
      for (const auto& row :
           t.exec_params("SELECT node FROM cache_entries WHERE image_id = $1::uuid ORDER BY node", image_id))
        out.push_back(row[0].as<std::string>());
      return out;
    });
  }

  Expected<size_t> enqueue_everywhere(const std::string& image_id) override {
    if (Status s = check_id(image_id); !s) return s.error();
    return rows_changed(
        "INSERT INTO cache_queue (node, image_id) SELECT n.node, $1::uuid FROM cache_nodes n "
        "WHERE NOT EXISTS (SELECT 1 FROM cache_entries e WHERE e.node = n.node AND e.image_id = $1::uuid) "
        "ON CONFLICT DO NOTHING",
        image_id);
  }

  Status enqueue(const std::string& node, const std::string& image_id) override {
    return exec_on(image_id, "INSERT INTO cache_queue (node, image_id) VALUES ($1, $2::uuid) ON CONFLICT DO NOTHING",
                   node);
  }

  Expected<size_t> enqueue_evictions(const std::string& node, const std::string& image_id) override {
    if (!image_id.empty())
      if (Status s = check_id(image_id); !s) return s.error();
    return rows_changed(
        "INSERT INTO cache_queue (node, image_id, work) SELECT e.node, e.image_id, 'evict' FROM cache_entries e "
        "WHERE ($1 = '' OR e.node = $1) AND ($2 = '' OR e.image_id::text = $2) "
        "ON CONFLICT (node, image_id) DO UPDATE SET work = 'evict', queued_at = now()",
        node, image_id);
  }

  Expected<std::vector<CacheQueueRow>> queued(const std::string& node) override {
    return pool_.query<std::vector<CacheQueueRow>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      std::vector<CacheQueueRow> out;
      for (const auto& row : t.exec_params(
               "SELECT node, image_id::text, (extract(epoch from queued_at) * 1000000)::bigint, work FROM cache_queue "
               "WHERE node = $1 ORDER BY queued_at, image_id",
               node))
        out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), detail::from_micros(row[2].as<int64_t>()),
                       row[3].as<std::string>() == "evict" ? CacheWork::evict : CacheWork::fetch});
      return out;
    });
  }

  Status dequeue(const std::string& node, const std::string& image_id) override {
    return exec_on(image_id, "DELETE FROM cache_queue WHERE node = $1 AND image_id = $2::uuid", node);
  }

  Expected<size_t> clear_queue(const std::string& node) override {
    return rows_changed("DELETE FROM cache_queue WHERE node = $1 AND work = 'fetch'", node);
  }

 private:
  // One statement in its own transaction, answered by how many rows it changed.
  template <typename... Params>
  Expected<size_t> rows_changed(const char* sql, const Params&... params) {
    return pool_.query<size_t>([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto r = w.exec_params(sql, params...);
      w.commit();
      return static_cast<size_t>(r.affected_rows());
    });
  }
  // One statement over (node $1, image $2).
  Status exec_on(const std::string& image_id, const char* sql, const std::string& node) {
    if (Status s = check_id(image_id); !s) return s;
    return pool_.run([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      w.exec_params(sql, node, image_id);
      w.commit();
    });
  }

  Pool& pool_;
};

}  // namespace

std::unique_ptr<CacheRepository> make_cache_repository(Pool& pool) { return std::make_unique<PgCacheRepository>(pool); }

}  // namespace glint::db
