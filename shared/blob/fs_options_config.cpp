#include "shared/blob/fs_options_config.hpp"

namespace glint::blob {

FsOptions fs_options(const config::Config& cfg, bool shared) {
  FsOptions fs;
  fs.data_dir = cfg.get_string("store", "data_dir");
  fs.block_size = static_cast<uint32_t>(cfg.get_size("store", "block_size"));
  fs.reserve_bytes = cfg.get_size("store", "reserve");
  fs.fsync = cfg.get_bool("store", "fsync");
  fs.direct_io = cfg.get_bool("store", "direct_io");
  // Beside the store (auditor, updater) every blob is read once: never through the page cache.
  fs.reads = (shared || cfg.get_bool("store", "direct_reads")) ? ReadMode::direct : ReadMode::buffered;
  fs.shared = shared;
  return fs;
}

}  // namespace glint::blob
