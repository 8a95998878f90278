#include "shared/db/pool_options.hpp"

namespace glint::db {

PoolOptions pool_options(const config::Config& cfg) {
  PoolOptions o;
  o.url = cfg.get_string("database", "connection");
  o.size = static_cast<size_t>(cfg.get_int("database", "pool_size"));
  o.connect_timeout = cfg.get_duration("database", "connect_timeout");
  o.retry_budget = cfg.get_duration("database", "retry_budget");
  return o;
}

}  // namespace glint::db
