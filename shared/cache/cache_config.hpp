// An API node's cache options from its [cache] section: the one reading of them for glint-api and
// glint-prefetcher, which share the directory. Pure; thread-safe.
#pragma once
#include <optional>

#include "shared/cache/image_cache.hpp"
#include "shared/config/config.hpp"

namespace glint::cache {

// nullopt when [cache] dir is empty (no cache on this node). The node is config::node_name().
std::optional<CacheOptions> cache_options(const config::Config& cfg);

}  // namespace glint::cache
