// Versioned, idempotent schema migrations applied at start-up, recorded in schema_migrations.
// Concurrent starters serialise on an advisory lock; each migration runs in its own transaction.
#pragma once
#include <string>
#include <vector>

#include "shared/core/result.hpp"
#include "shared/db/pool.hpp"

namespace glint::db {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// All migrations of the data model, in version order.
const std::vector<Migration>& migrations();

// Applies every migration newer than the database's; returns how many were applied (0 when current).
Expected<int> migrate(Pool& pool);
// The highest applied version (0 on an empty database).
Expected<int> schema_version(Pool& pool);

}  // namespace glint::db
