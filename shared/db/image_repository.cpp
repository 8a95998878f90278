#include <functional>

#include <pqxx/pqxx>

#include "shared/core/uuid.hpp"
#include "shared/db/image_rows.hpp"
#include "shared/db/pg_util.hpp"
#include "shared/db/repositories.hpp"

namespace glint::db {

namespace {

using detail::run_status;

bool valid_visibility(const std::string& s) {
  return s == "private" || s == "shared" || s == "community" || s == "public";
}

const std::string kSelectImage = std::string("SELECT ") + detail::kImageColumns + " FROM images WHERE id = $1::uuid";

// Image metadata (with properties and tags) in PostgreSQL; each call is one short transaction
// through the Pool. Thread-safe (holds only a Pool reference; the Pool must outlive it).
class PgImageRepository final : public ImageRepository {
 public:
  explicit PgImageRepository(Pool& pool) : pool_(pool) {}

  Status create(const ImageRow& img) override {
    if (!is_canonical_uuid(img.id)) return Status(Errc::invalid, "image id is not a canonical uuid");
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
          img.id, img.name, to_string(img.status), img.visibility, img.protected_, img.os_hidden, img.owner, img.size,
          img.virtual_size, img.checksum, img.os_hash_algo, img.os_hash_value, img.disk_format,
          img.container_format, img.min_disk, img.min_ram, stamp(img.created_at), stamp(img.updated_at),
          detail::to_pg_text(img.deleted_at));
      if (r.affected_rows() == 0) return Status(Errc::conflict, "image " + img.id + " already exists");
      // After the insert, not before: an insert racing a purge of the same id waits for it, and
      // this statement then sees its tombstone.
      if (!w.exec_params("SELECT 1 FROM purged_images WHERE id = $1::uuid", img.id).empty())
        return Status(Errc::conflict, "image " + img.id + " existed (purged): ids are never reused");
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
      pqxx::nontransaction t(c);  // one statement: no BEGIN/COMMIT round trips
      auto r = t.exec_params(kSelectImage, id);
      if (r.empty()) return std::nullopt;
      return detail::image_from(r[0]);
    });
  }

  Status transition(const std::string& id, ImageStatus from_state, ImageStatus to_state) override {
    if (!is_canonical_uuid(id)) return Status(Errc::not_found, "unknown image " + id);
    const std::string from = to_string(from_state), to = to_string(to_state);
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

  Expected<std::vector<ImageRow>> list(const ImageQuery& q) override { return detail::list_images(pool_, q); }

  Status touch_upload(const std::string& id) override {
    if (!is_canonical_uuid(id)) return Status(Errc::not_found, "unknown image " + id);
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      w.exec_params("UPDATE images SET upload_heartbeat_at = now() WHERE id = $1::uuid AND status = 'saving'", id);
      w.commit();
      return Status();
    });
  }

  Status mark_deleted(const std::string& id, bool pending) override {
    if (!is_canonical_uuid(id)) return Status(Errc::not_found, "unknown image " + id);
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto r = w.exec_params(
          "UPDATE images SET status = $2, deleted_at = now(), updated_at = now() "
          "WHERE id = $1::uuid AND status NOT IN ('deleted', 'pending_delete')",
          id, pending ? "pending_delete" : "deleted");
      if (r.affected_rows() == 0) return Status(Errc::not_found, "unknown image " + id);
      w.commit();
      return Status();
    });
  }

  Status save(ImageRow& img) override {
    if (!is_canonical_uuid(img.id)) return Status(Errc::not_found, "unknown image " + img.id);
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto r = w.exec_params(
          "UPDATE images SET name = $2, visibility = $3, protected = $4, os_hidden = $5, owner = $6, "
          "  disk_format = $7, container_format = $8, min_disk = $9, min_ram = $10, "
          "  updated_at = greatest(now(), updated_at + interval '1 microsecond') "
          "WHERE id = $1::uuid AND status NOT IN ('deleted', 'pending_delete') "
          "  AND (extract(epoch from updated_at) * 1000000)::bigint = $11 "
          "RETURNING (extract(epoch from updated_at) * 1000000)::bigint",
          img.id, img.name.empty() ? std::optional<std::string>() : std::optional<std::string>(img.name),
          img.visibility, img.protected_, img.os_hidden, img.owner, img.disk_format, img.container_format,
          img.min_disk, img.min_ram,
          std::chrono::duration_cast<std::chrono::microseconds>(img.updated_at.time_since_epoch()).count());
      if (r.empty()) {
        auto cur = w.exec_params("SELECT 1 FROM images WHERE id = $1::uuid AND status NOT IN ('deleted', 'pending_delete')", img.id);
        if (cur.empty()) return Status(Errc::not_found, "unknown image " + img.id);
        return Status(Errc::conflict, "image " + img.id + " was changed concurrently");
      }
      w.exec_params("DELETE FROM image_properties WHERE image_id = $1::uuid", img.id);
      for (const auto& [name, value] : img.properties)
        w.exec_params("INSERT INTO image_properties (image_id, name, value) VALUES ($1::uuid, $2, $3)", img.id, name, value);
      w.exec_params("DELETE FROM image_tags WHERE image_id = $1::uuid", img.id);
      for (const auto& tag : img.tags)
        w.exec_params("INSERT INTO image_tags (image_id, tag) VALUES ($1::uuid, $2) ON CONFLICT DO NOTHING", img.id, tag);
      w.commit();
      img.updated_at = detail::from_micros(r[0][0].as<int64_t>());
      return Status();
    });
  }

  Status activate(const UploadedData& d) override {
    if (!is_canonical_uuid(d.image_id)) return Status(Errc::not_found, "unknown image " + d.image_id);
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto r = w.exec_params(
          "UPDATE images SET status = 'active', size = $2, checksum = $3, os_hash_algo = $4, os_hash_value = $5, "
          "  virtual_size = $6, updated_at = now() "
          "WHERE id = $1::uuid AND status = 'saving'",
          d.image_id, d.size, d.checksum, d.os_hash_algo, d.os_hash_value, d.virtual_size);
      if (r.affected_rows() == 0) {
        auto cur = w.exec_params("SELECT status FROM images WHERE id = $1::uuid", d.image_id);
        if (cur.empty() || cur[0][0].as<std::string>() == "deleted" || cur[0][0].as<std::string>() == "pending_delete")
          return Status(Errc::not_found, "image " + d.image_id + " was deleted during the upload");
        return Status(Errc::conflict, "image " + d.image_id + " is " + cur[0][0].as<std::string>() + ", not saving");
      }
      for (const auto& rep : d.replicas) {
        w.exec_params(
            // The node's digest equals the one of the bytes the API hashed (md5, os_hash): the
            // copy's os_hash is verified as of now too.
            "INSERT INTO replicas (image_id, node, state, size, digest, verified_at, hash_verified_at, updated_at) "
            "VALUES ($1::uuid, $2, 'ok', $3, $4, now(), now(), now()) "
            "ON CONFLICT (image_id, node) DO UPDATE SET state = 'ok', size = excluded.size, "
            "  digest = excluded.digest, verified_at = now(), hash_verified_at = now(), updated_at = now(), "
            "  version = nextval('replica_version_seq')",
            d.image_id, rep.node, d.size, rep.digest);
      }
      w.commit();
      return Status();
    });
  }

  Status add_tag(const std::string& id, const std::string& tag) override {
    return change_tags(id, [&](pqxx::work& w) {
      w.exec_params("INSERT INTO image_tags (image_id, tag) VALUES ($1::uuid, $2) ON CONFLICT DO NOTHING", id, tag);
      return Status();
    });
  }

  Status remove_tag(const std::string& id, const std::string& tag) override {
    return change_tags(id, [&](pqxx::work& w) {
      auto r = w.exec_params("DELETE FROM image_tags WHERE image_id = $1::uuid AND tag = $2", id, tag);
      return r.affected_rows() == 0 ? Status(Errc::not_found, "tag " + tag + " not found") : Status();
    });
  }

 private:
  // One transaction: touching updated_at both locks the live image row and proves it exists; the
  // change commits only if it succeeds (a missing tag leaves updated_at as it was).
  Status change_tags(const std::string& id, const std::function<Status(pqxx::work&)>& change) {
    if (!is_canonical_uuid(id)) return Status(Errc::not_found, "unknown image " + id);
    return run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto img = w.exec_params(
          "UPDATE images SET updated_at = now() WHERE id = $1::uuid AND status NOT IN ('deleted', 'pending_delete') RETURNING 1", id);
      if (img.empty()) return Status(Errc::not_found, "unknown image " + id);
      Status s = change(w);
      if (s) w.commit();
      return s;
    });
  }

  Pool& pool_;
};

}  // namespace

std::unique_ptr<ImageRepository> make_image_repository(Pool& pool) {
  return std::make_unique<PgImageRepository>(pool);
}

}  // namespace glint::db
