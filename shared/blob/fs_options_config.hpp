// A node's blob store options from its [store] section: the one reading of them for the store that
// owns the data directory and the workers that open it beside it (shared). Pure; thread-safe.
#pragma once
#include "shared/blob/blob_store.hpp"
#include "shared/config/config.hpp"

namespace glint::blob {

FsOptions fs_options(const config::Config& cfg, bool shared);

}  // namespace glint::blob
