// Internal helpers shared by the Pg* repositories (not part of the module's public seam).
// Free functions over values; thread-safe.
#pragma once
#include <chrono>
#include <cstdint>
#include <ctime>
#include <cstdio>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "shared/core/result.hpp"
#include "shared/db/pool.hpp"
#include "shared/db/repositories.hpp"

namespace glint::db::detail {

// Lower bound for keyset paging by uuid ("after" an empty id means from the start).
inline constexpr const char* kNoId = "00000000-0000-0000-0000-000000000000";

// Runs fn (one transaction) through the pool; fn reports expected outcomes (not found, conflict)
// as a Status, the pool reports transport and SQL failures.
inline Status run_status(Pool& pool, const std::function<Status(pqxx::connection_base&)>& fn) {
  Status out;
  Status s = pool.run([&](pqxx::connection_base& c) { out = fn(c); });
  if (!s) return s;
  return out;
}

// Timestamps are read as integer microseconds since the epoch with
// "(extract(epoch from col) * 1000000)::bigint" (extract() is numeric in PostgreSQL 14+, so exact).
inline Timestamp from_micros(int64_t us) {
  return Timestamp(std::chrono::duration_cast<Timestamp::duration>(std::chrono::microseconds(us)));
}

inline std::optional<Timestamp> opt_timestamp(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return from_micros(f.as<int64_t>());
}

// A timestamp as PostgreSQL timestamptz input text in UTC with microseconds (exact, unlike a
// float epoch); bind it as a parameter and cast with ::timestamptz.
inline std::string to_pg_text(Timestamp t) {
  const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  int64_t secs = us / 1000000;
  int64_t frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  const std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(frac));
  return buf;
}

inline std::optional<std::string> to_pg_text(const std::optional<Timestamp>& t) {
  if (!t) return std::nullopt;
  return to_pg_text(*t);
}

// Byte counts are uint64 in C++ and bigint in SQL; nothing real exceeds int64, so clamp.
inline int64_t to_bigint(uint64_t v) {
  return v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                         : static_cast<int64_t>(v);
}

inline uint64_t from_bigint(const pqxx::field& f) {
  if (f.is_null()) return 0;
  const int64_t v = f.as<int64_t>();
  return v < 0 ? 0 : static_cast<uint64_t>(v);
}

template <class T>
std::optional<T> opt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<T>();
}

// Replica rows: the columns every replica query selects, and their parsing.
inline constexpr const char* kReplicaColumns =
    "image_id::text, node, state, size, digest, (extract(epoch from verified_at) * 1000000)::bigint, version";

// A state word from the database; the CHECK constraints make anything else impossible, so an
// unknown word is a schema mismatch (a newer glint wrote it): reported, not guessed.
template <class E>
E state_from(const pqxx::field& f) {
  const std::string text = f.as<std::string>();
  if (auto s = parse_state<E>(text)) return *s;
  throw std::runtime_error("unknown state '" + text + "' in the database");
}

inline ReplicaRow replica_from(const pqxx::row& r) {
  ReplicaRow out;
  out.image_id = r[0].as<std::string>();
  out.node = r[1].as<std::string>();
  out.state = state_from<ReplicaState>(r[2]);
  out.size = opt<int64_t>(r[3]);
  out.digest = opt<std::string>(r[4]);
  out.verified_at = opt_timestamp(r[5]);
  out.version = r[6].as<int64_t>();
  return out;
}

// PostgreSQL array literals for ANY($1::type[]) parameters (text elements quoted and escaped).
inline std::string text_array(const std::vector<std::string>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    out += i ? ",\"" : "\"";
    for (char c : v[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}
inline std::string bigint_array(const std::vector<int64_t>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + std::to_string(v[i]);
  return out + "}";
}

inline std::vector<ReplicaRow> replicas_from(const pqxx::result& r) {
  std::vector<ReplicaRow> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(replica_from(row));
  return out;
}

}  // namespace glint::db::detail
