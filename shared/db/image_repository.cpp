#include <pqxx/pqxx>

#include "shared/core/uuid.hpp"
#include "shared/db/pg_util.hpp"
#include "shared/db/repositories.hpp"

namespace glint::db {

namespace {

using detail::opt;
using detail::run_status;

bool valid_status(const std::string& s) {
  for (const char* v : {"queued", "saving", "active", "killed", "deleted", "pending_delete", "deactivated",
                        "uploading", "importing"}) {
    if (s == v) return true;
  }
  return false;
}

bool valid_visibility(const std::string& s) {
  return s == "private" || s == "shared" || s == "community" || s == "public";
}

// Timestamps travel as integer microseconds since the epoch (exact; see pg_util.hpp).
constexpr const char* kSelectImage =
    "SELECT id::text, name, status, visibility, protected, os_hidden, owner, size, virtual_size, checksum, "
    "  os_hash_algo, os_hash_value, disk_format, container_format, min_disk, min_ram, "
    "  (extract(epoch from created_at) * 1000000)::bigint, "
    "  (extract(epoch from updated_at) * 1000000)::bigint, "
    "  (extract(epoch from deleted_at) * 1000000)::bigint "
    "FROM images WHERE id = $1::uuid";

ImageRow image_from(const pqxx::row& r) {
  ImageRow img;
  img.id = r[0].as<std::string>();
  img.name = r[1].is_null() ? std::string() : r[1].as<std::string>();
  img.status = r[2].as<std::string>();
  img.visibility = r[3].as<std::string>();
  img.protected_ = r[4].as<bool>();
  img.os_hidden = r[5].as<bool>();
  img.owner = opt<std::string>(r[6]);
  img.size = opt<int64_t>(r[7]);
  img.virtual_size = opt<int64_t>(r[8]);
  img.checksum = opt<std::string>(r[9]);
  img.os_hash_algo = opt<std::string>(r[10]);
  img.os_hash_value = opt<std::string>(r[11]);
  img.disk_format = opt<std::string>(r[12]);
  img.container_format = opt<std::string>(r[13]);
  img.min_disk = r[14].as<int>();
  img.min_ram = r[15].as<int>();
  img.created_at = detail::from_micros(r[16].as<int64_t>());
  img.updated_at = detail::from_micros(r[17].as<int64_t>());
  img.deleted_at = detail::opt_timestamp(r[18]);
  return img;
}

// Image metadata (with properties and tags) in PostgreSQL; each call is one short transaction
// through the Pool. Thread-safe (holds only a Pool reference; the Pool must outlive it).
class PgImageRepository final : public ImageRepository {
 public:
  explicit PgImageRepository(Pool& pool) : pool_(pool) {}

  Status create(const ImageRow& img) override {
    if (!is_canonical_uuid(img.id)) return Status(Errc::invalid, "image id is not a canonical uuid");
    if (!valid_status(img.status)) return Status(Errc::invalid, "bad image status '" + img.status + "'");
    if (!valid_visibility(img.visibility)) {
      return Status(Errc::invalid, "bad image visibility '" + img.visibility + "'");
    }
    // An unset (epoch) created_at/updated_at means "now" on the server.
    const auto stamp = [](Timestamp t) -> std::optional<std::string> {
      if (t == Timestamp{}) return std::nullopt;
      return detail::to_pg_text(t);
    };
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      // ON CONFLICT covers deleted rows too: ids are never reused.
      auto r = w.exec_params(
          "INSERT INTO images (id, name, status, visibility, protected, os_hidden, owner, size, virtual_size, "
          "  checksum, os_hash_algo, os_hash_value, disk_format, container_format, min_disk, min_ram, "
          "  created_at, updated_at, deleted_at) "
          "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
          "  coalesce($17::timestamptz, now()), coalesce($18::timestamptz, now()), $19::timestamptz) "
          "ON CONFLICT (id) DO NOTHING",
          img.id, img.name, img.status, img.visibility, img.protected_, img.os_hidden, img.owner, img.size,
          img.virtual_size, img.checksum, img.os_hash_algo, img.os_hash_value, img.disk_format,
          img.container_format, img.min_disk, img.min_ram, stamp(img.created_at), stamp(img.updated_at),
          detail::to_pg_text(img.deleted_at));
      if (r.affected_rows() == 0) return Status(Errc::conflict, "image " + img.id + " already exists");
      for (const auto& [name, value] : img.properties) {
        w.exec_params("INSERT INTO image_properties (image_id, name, value) VALUES ($1::uuid, $2, $3)", img.id,
                      name, value);
      }
      for (const auto& tag : img.tags) {
        w.exec_params("INSERT INTO image_tags (image_id, tag) VALUES ($1::uuid, $2) ON CONFLICT DO NOTHING",
                      img.id, tag);
      }
      w.commit();
      return Status();
    });
  }

  Expected<std::optional<ImageRow>> get(const std::string& id) override {
    if (!is_canonical_uuid(id)) return std::optional<ImageRow>();  // such an id cannot exist
    return pool_.query<std::optional<ImageRow>>([&](pqxx::connection_base& c) -> std::optional<ImageRow> {
      pqxx::read_transaction t(c);
      auto r = t.exec_params(kSelectImage, id);
      if (r.empty()) return std::nullopt;
      ImageRow img = image_from(r[0]);
      for (const auto& p :
           t.exec_params("SELECT name, value FROM image_properties WHERE image_id = $1::uuid", id)) {
        img.properties.emplace(p[0].as<std::string>(), p[1].as<std::string>());
      }
      for (const auto& tr : t.exec_params("SELECT tag FROM image_tags WHERE image_id = $1::uuid ORDER BY tag", id)) {
        img.tags.push_back(tr[0].as<std::string>());
      }
      return img;
    });
  }

  Status transition(const std::string& id, const std::string& from, const std::string& to) override {
    if (!is_canonical_uuid(id)) return Status(Errc::not_found, "unknown image " + id);
    if (!valid_status(to)) return Status(Errc::invalid, "bad image status '" + to + "'");
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto r = w.exec_params(
          "UPDATE images SET status = $3, updated_at = now(), "
          "  deleted_at = CASE WHEN $3::text = 'deleted' THEN coalesce(deleted_at, now()) ELSE deleted_at END "
          "WHERE id = $1::uuid AND status = $2",
          id, from, to);
      if (r.affected_rows() == 1) {
        w.commit();
        return Status();
      }
      auto cur = w.exec_params("SELECT status FROM images WHERE id = $1::uuid", id);
      if (cur.empty()) return Status(Errc::not_found, "unknown image " + id);
      return Status(Errc::conflict,
                    "image " + id + " is " + cur[0][0].as<std::string>() + ", not " + from);
    });
  }

 private:
  Pool& pool_;
};

}  // namespace

std::unique_ptr<ImageRepository> make_image_repository(Pool& pool) {
  return std::make_unique<PgImageRepository>(pool);
}

}  // namespace glint::db
