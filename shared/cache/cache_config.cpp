#include "shared/cache/cache_config.hpp"

namespace glint::cache {

std::optional<CacheOptions> cache_options(const config::Config& cfg) {
  CacheOptions o;
  o.dir = cfg.get_string("cache", "dir");
  if (o.dir.empty()) return std::nullopt;
  o.node = config::node_name(cfg);
  o.max_size = cfg.get_size("cache", "max_size");
  o.stall_time = std::chrono::duration_cast<std::chrono::seconds>(cfg.get_duration("cache", "stall_time"));
  o.fsync = cfg.get_bool("cache", "fsync");
  o.fill_on_upload = cfg.get_bool("cache", "fill_on_upload");
  return o;
}

}  // namespace glint::cache
