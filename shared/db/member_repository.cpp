// Image members in PostgreSQL; each call is one short transaction through the Pool. Thread-safe.
#include <pqxx/pqxx>

#include "shared/core/uuid.hpp"
#include "shared/db/pg_util.hpp"
#include "shared/db/repositories.hpp"

namespace glint::db {
namespace {

constexpr const char* kColumns =
    "image_id::text, member, status, (extract(epoch from created_at) * 1000000)::bigint, "
    "(extract(epoch from updated_at) * 1000000)::bigint";

MemberRow member_from(const pqxx::row& r) {
  MemberRow m;
  m.image_id = r[0].as<std::string>();
  m.member = r[1].as<std::string>();
  m.status = r[2].as<std::string>();
  m.created_at = detail::from_micros(r[3].as<int64_t>());
  m.updated_at = detail::from_micros(r[4].as<int64_t>());
  return m;
}

class PgMemberRepository final : public MemberRepository {
 public:
  explicit PgMemberRepository(Pool& pool) : pool_(pool) {}

  Expected<MemberRow> add(const std::string& image_id, const std::string& member) override {
    if (!is_canonical_uuid(image_id)) return Error{Errc::not_found, "unknown image " + image_id};
    std::optional<MemberRow> out;
    Status s = detail::run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      if (w.exec_params("SELECT 1 FROM images WHERE id = $1::uuid AND status NOT IN ('deleted', 'pending_delete')", image_id).empty())
        return Status(Errc::not_found, "unknown image " + image_id);
      auto r = w.exec_params(std::string("INSERT INTO image_members (image_id, member, status, created_at, updated_at) "
                                         "VALUES ($1::uuid, $2, 'pending', now(), now()) ON CONFLICT DO NOTHING RETURNING ") +
                                 kColumns,
                             image_id, member);
      if (r.empty()) return Status(Errc::conflict, "Member " + member + " is duplicated for image " + image_id);
      w.commit();
      out = member_from(r[0]);
      return Status();
    });
    if (!s) return s.error();
    return *out;
  }

  Expected<std::vector<MemberRow>> list(const std::string& image_id) override {
    if (!is_canonical_uuid(image_id)) return std::vector<MemberRow>();
    return pool_.query<std::vector<MemberRow>>([&](pqxx::connection_base& c) {
      pqxx::read_transaction t(c);
      std::vector<MemberRow> out;
      for (const auto& r : t.exec_params(std::string("SELECT ") + kColumns +
                                             " FROM image_members WHERE image_id = $1::uuid ORDER BY created_at, member",
                                         image_id))
        out.push_back(member_from(r));
      return out;
    });
  }

  Expected<std::optional<MemberRow>> get(const std::string& image_id, const std::string& member) override {
    if (!is_canonical_uuid(image_id)) return std::optional<MemberRow>();
    return pool_.query<std::optional<MemberRow>>([&](pqxx::connection_base& c) -> std::optional<MemberRow> {
      pqxx::read_transaction t(c);
      auto r = t.exec_params(std::string("SELECT ") + kColumns + " FROM image_members WHERE image_id = $1::uuid AND member = $2",
                             image_id, member);
      if (r.empty()) return std::nullopt;
      return member_from(r[0]);
    });
  }

  Expected<MemberRow> set_status(const std::string& image_id, const std::string& member,
                                 const std::string& status) override {
    if (!is_canonical_uuid(image_id)) return Error{Errc::not_found, "unknown member"};
    std::optional<MemberRow> out;
    Status s = detail::run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto r = w.exec_params(std::string("UPDATE image_members SET status = $3, updated_at = now() "
                                         "WHERE image_id = $1::uuid AND member = $2 RETURNING ") + kColumns,
                             image_id, member, status);
      if (r.empty()) return Status(Errc::not_found, "unknown member");
      w.commit();
      out = member_from(r[0]);
      return Status();
    });
    if (!s) return s.error();
    return *out;
  }

  Status remove(const std::string& image_id, const std::string& member) override {
    if (!is_canonical_uuid(image_id)) return Status(Errc::not_found, "unknown member");
    return detail::run_status(pool_, [&](pqxx::connection_base& c) {
      pqxx::work w(c);
      auto r = w.exec_params("DELETE FROM image_members WHERE image_id = $1::uuid AND member = $2", image_id, member);
      if (r.affected_rows() == 0) return Status(Errc::not_found, "unknown member");
      w.commit();
      return Status();
    });
  }

 private:
  Pool& pool_;
};

}  // namespace

std::unique_ptr<MemberRepository> make_member_repository(Pool& pool) { return std::make_unique<PgMemberRepository>(pool); }

}  // namespace glint::db
