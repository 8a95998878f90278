// Reads the [database] section into PoolOptions (every process that uses the catalog does).
#pragma once
#include "shared/config/config.hpp"
#include "shared/db/pool.hpp"

namespace glint::db {

PoolOptions pool_options(const config::Config& cfg);

}  // namespace glint::db
