#include <pqxx/pqxx>

#include "shared/db/pg_util.hpp"
#include "shared/db/repositories.hpp"

namespace glint::db {

namespace {

// Derived metadata back-fill in PostgreSQL. Thread-safe (holds only a Pool reference).
class PgBackfillRepository final : public BackfillRepository {
 public:
  explicit PgBackfillRepository(Pool& pool) : pool_(pool) {}

  Expected<std::vector<BackfillItem>> lacking(const std::string& node, const std::string& after_id,
                                              size_t limit) override {
    return pool_.query<std::vector<BackfillItem>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      std::vector<BackfillItem> out;
      for (const auto& r : t.exec_params(
               "SELECT i.id::text, coalesce(i.disk_format, ''), i.size, i.checksum, r.digest, "
               "  i.virtual_size IS NULL, i.os_hash_value IS NULL "
               "FROM images i JOIN replicas r ON r.image_id = i.id AND r.node = $1 AND r.state = 'ok' "
               "WHERE i.status = 'active' AND i.id > $2::uuid AND i.size > 0 AND r.digest IS NOT NULL "
               "  AND (i.os_hash_value IS NULL OR (i.virtual_size IS NULL AND i.disk_format IN "
               "       ('raw', 'qcow2', 'vmdk', 'vhd', 'vhdx', 'vdi', 'iso'))) "
               "  AND r.node = (SELECT min(o.node) FROM replicas o WHERE o.image_id = i.id AND o.state = 'ok') "
               "ORDER BY i.id LIMIT $3",
               node, after_id.empty() ? detail::kNoId : after_id, static_cast<int64_t>(limit))) {
        BackfillItem b;
        b.image_id = r[0].as<std::string>();
        b.disk_format = r[1].as<std::string>();
        b.size = r[2].as<int64_t>();
        if (!r[3].is_null()) b.checksum = r[3].as<std::string>();
        b.digest = r[4].as<std::string>();
        b.needs_virtual_size = r[5].as<bool>();
        b.needs_os_hash = r[6].as<bool>();
        out.push_back(std::move(b));
      }
      return out;
    });
  }

  Status backfill(const std::string& image_id, const std::optional<std::string>& checksum,
                  std::optional<int64_t> virtual_size, const std::optional<std::string>& os_hash_algo,
                  const std::optional<std::string>& os_hash_value) override {
    auto n = pool_.query<size_t>([&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto r = w.exec_params(
          "UPDATE images SET virtual_size = coalesce(virtual_size, $3), "
          "  os_hash_algo = CASE WHEN os_hash_value IS NULL AND $5::text IS NOT NULL THEN $4 ELSE os_hash_algo END, "
          "  os_hash_value = coalesce(os_hash_value, $5) "
          "WHERE id = $1::uuid AND status = 'active' AND checksum IS NOT DISTINCT FROM $2",
          image_id, checksum, virtual_size, os_hash_algo, os_hash_value);
      w.commit();
      return static_cast<size_t>(r.affected_rows());
    });
    if (!n) return n.error();
    return *n == 1 ? Status() : Status(Errc::not_found, "image " + image_id + " is no longer active with that checksum");
  }

 private:
  Pool& pool_;
};

}  // namespace

std::unique_ptr<BackfillRepository> make_backfill_repository(Pool& pool) {
  return std::make_unique<PgBackfillRepository>(pool);
}

}  // namespace glint::db
