// Internal to shared/db: the image column list, row decoding and the list query shared by the
// image repository. Free functions; thread-safe.
#pragma once
#include <vector>

#include <pqxx/pqxx>

#include "shared/db/pool.hpp"
#include "shared/db/repositories.hpp"

namespace glint::db::detail {

// Timestamps travel as integer microseconds since the epoch (exact; see pg_util.hpp).
inline constexpr const char* kImageColumns =
    "id::text, name, status, visibility, protected, os_hidden, owner, size, virtual_size, checksum, "
    "os_hash_algo, os_hash_value, disk_format, container_format, min_disk, min_ram, "
    "(extract(epoch from created_at) * 1000000)::bigint, "
    "(extract(epoch from updated_at) * 1000000)::bigint, "
    "(extract(epoch from deleted_at) * 1000000)::bigint, "
    // Properties and tags ride along as JSON so an image (or a page of them) is one statement.
    "(SELECT json_agg(json_build_array(p.name, p.value)) FROM image_properties p WHERE p.image_id = images.id), "
    "(SELECT json_agg(t.tag ORDER BY t.tag) FROM image_tags t WHERE t.image_id = images.id)";

ImageRow image_from(const pqxx::row& r);
Expected<std::vector<ImageRow>> list_images(Pool& pool, const ImageQuery& q);

}  // namespace glint::db::detail
