#include "shared/db/image_rows.hpp"

#include <map>

#include <nlohmann/json.hpp>

#include "shared/core/uuid.hpp"
#include "shared/db/pg_util.hpp"

namespace glint::db {

namespace {

// Sortable keys and the SQL expression each sorts by. NULLs are folded to a value below every real
// one so keyset comparisons against the marker stay total.
const std::map<std::string, std::string>& sort_columns() {
  static const std::map<std::string, std::string> cols = {
      {"name", "coalesce(name, '')"},
      {"status", "status"},
      {"visibility", "visibility"},
      {"owner", "coalesce(owner, '')"},
      {"disk_format", "coalesce(disk_format, '')"},
      {"container_format", "coalesce(container_format, '')"},
      {"size", "coalesce(size, -1)"},
      {"virtual_size", "coalesce(virtual_size, -1)"},
      {"min_disk", "min_disk"},
      {"min_ram", "min_ram"},
      {"created_at", "created_at"},
      {"updated_at", "updated_at"},
      {"id", "id"},
  };
  return cols;
}

}  // namespace

bool sortable_image_key(const std::string& key) { return sort_columns().count(key) > 0; }

namespace detail {

ImageRow image_from(const pqxx::row& r) {
  ImageRow img;
  img.id = r[0].as<std::string>();
  img.name = r[1].is_null() ? std::string() : r[1].as<std::string>();
  img.status = state_from<ImageStatus>(r[2]);
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
  img.created_at = from_micros(r[16].as<int64_t>());
  img.updated_at = from_micros(r[17].as<int64_t>());
  img.deleted_at = opt_timestamp(r[18]);
  if (!r[19].is_null()) {
    for (const auto& kv : nlohmann::json::parse(r[19].c_str()))
      img.properties.emplace(kv.at(0).get<std::string>(), kv.at(1).get<std::string>());
  }
  if (!r[20].is_null()) {
    for (const auto& t : nlohmann::json::parse(r[20].c_str())) img.tags.push_back(t.get<std::string>());
  }
  return img;
}

Expected<std::vector<ImageRow>> list_images(Pool& pool, const ImageQuery& q) {
  auto sort = q.sort;
  if (sort.empty()) sort.emplace_back("created_at", false);
  for (const auto& [key, asc] : sort)
    if (!sortable_image_key(key)) return Error{Errc::invalid, "Invalid sort key: " + key};
  if (sort.back().first != "id") sort.emplace_back("id", sort.back().second);
  if (q.marker && !is_canonical_uuid(*q.marker)) return Error{Errc::not_found, "No image found with ID " + *q.marker};

  // Parameters are numbered as they are added; values are never spliced into the SQL text.
  std::vector<std::string> params;
  auto param = [&](std::string v) {
    params.push_back(std::move(v));
    return "$" + std::to_string(params.size());
  };
  std::string where = "status NOT IN ('deleted', 'pending_delete')";
  for (const auto& [col, value] : q.equals) {
    if (col != "name" && col != "status" && col != "visibility" && col != "owner" && col != "disk_format" &&
        col != "container_format")
      return Error{Errc::invalid, "Invalid filter: " + col};
    where += " AND " + col + " = " + param(value);
  }
  if (q.protected_) where += std::string(" AND protected = ") + (*q.protected_ ? "true" : "false");
  if (q.os_hidden) where += std::string(" AND os_hidden = ") + (*q.os_hidden ? "true" : "false");
  if (q.size_min) where += " AND size >= " + param(std::to_string(*q.size_min)) + "::bigint";
  if (q.size_max) where += " AND size <= " + param(std::to_string(*q.size_max)) + "::bigint";
  if (q.tag) where += " AND EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = images.id AND t.tag = " + param(*q.tag) + ")";
  if (q.visible_to) {
    const std::string p = param(*q.visible_to);
    auto vis = q.equals.find("visibility");
    where += " AND (owner = " + p + " OR visibility = 'public'" +
             " OR (visibility = 'shared' AND EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = images.id"
             " AND m.member = " + p +
             (q.member_status == "all" ? std::string() : " AND m.status = " + param(q.member_status)) + "))" +
             (vis != q.equals.end() && vis->second == "community" ? " OR visibility = 'community'" : "") + ")";
  }
  for (const auto& [name, value] : q.properties)
    where += " AND EXISTS (SELECT 1 FROM image_properties p WHERE p.image_id = images.id AND p.name = " + param(name) +
             " AND p.value = " + param(value) + ")";
  static const std::map<std::string, std::string> ops = {{"eq", "="},  {"neq", "<>"}, {"gt", ">"},
                                                         {"gte", ">="}, {"lt", "<"},  {"lte", "<="}};
  for (const auto& t : q.times) {
    auto op = ops.find(t.op);
    if ((t.column != "created_at" && t.column != "updated_at") || op == ops.end())
      return Error{Errc::invalid, "Invalid time filter: " + t.column + " " + t.op};
    where += " AND " + t.column + " " + op->second + " " + param(to_pg_text(t.value)) + "::timestamptz";
  }
  if (q.marker) {
    // Keyset: rows strictly after the marker row in the sort order.
    const std::string m = param(*q.marker);
    std::string after, equal_prefix;
    for (const auto& [key, asc] : sort) {
      const std::string& expr = sort_columns().at(key);
      const std::string marker_expr = "(SELECT " + expr + " FROM images WHERE id = " + m + "::uuid)";
      if (!after.empty()) after += " OR ";
      after += "(" + equal_prefix + expr + (asc ? " > " : " < ") + marker_expr + ")";
      equal_prefix += expr + " = " + marker_expr + " AND ";
    }
    where += " AND (" + after + ")";
  }
  std::string order;
  for (const auto& [key, asc] : sort) order += (order.empty() ? "" : ", ") + sort_columns().at(key) + (asc ? " ASC" : " DESC");
  const std::string sql = std::string("SELECT ") + kImageColumns + " FROM images WHERE " + where + " ORDER BY " + order +
                          " LIMIT " + std::to_string(q.limit);

  std::vector<ImageRow> out;
  bool marker_missing = false;
  Status s = pool.run([&](pqxx::connection_base& c) {
    out.clear();
    // One statement (plus the marker check): no BEGIN/COMMIT round trips for a read.
    pqxx::nontransaction t(c);
    if (q.marker) {
      auto m = t.exec_params("SELECT 1 FROM images WHERE id = $1::uuid AND status NOT IN ('deleted', 'pending_delete')", *q.marker);
      if (m.empty()) {
        marker_missing = true;
        return;
      }
    }
    // pqxx 6.4 binds a runtime-sized parameter list through dynamic_params.
    pqxx::result r = t.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
    for (const auto& row : r) out.push_back(image_from(row));
  });
  if (!s) return s.error();
  if (marker_missing) return Error{Errc::not_found, "No image found with ID " + *q.marker};
  return out;
}

}  // namespace detail
}  // namespace glint::db
