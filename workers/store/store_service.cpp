#include "workers/store/store_service.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "shared/blob/fs_options_config.hpp"
#include "shared/bus/bus_client.hpp"
#include "shared/core/clock.hpp"
#include "shared/db/pool.hpp"
#include "shared/db/pool_options.hpp"
#include "shared/http/server.hpp"
#include "shared/http/server_options.hpp"
#include "shared/util/memory.hpp"
#include "shared/util/port_file.hpp"
#include "workers/store/node_registrar.hpp"
#include "workers/store/store_handler.hpp"

namespace glint::store {
int run_store(const config::Config& cfg) {
  util::tune_malloc();
  log::Level level = log::Level::info;
  log::parse_level(cfg.get_string("DEFAULT", "log_level"), level);
  const std::string name = config::node_name(cfg);
  auto logger = log::Logger::make("store", level, cfg.get_string("DEFAULT", "log_file")).with({{"node", name}});

  const std::string secret = cfg.get_string("auth", "shared_secret");
  if (secret.empty()) {
    std::fprintf(stderr, "config: [auth] shared_secret must be set for glint-store\n");
    return 1;
  }
  const blob::FsOptions fs = blob::fs_options(cfg, false);
  auto blobs = blob::open_fs_store(fs);
  if (!blobs) {
    logger.error("store.open_failed", {{"data_dir", fs.data_dir}, {"error", blobs.error().message}});
    return 1;
  }
  if (size_t n = (*blobs)->cleanup_temp(); n > 0) logger.info("store.temp_cleaned", {{"files", n}});

  metrics::Metrics metrics;
  StoreMetrics store_metrics(metrics);
  SystemClock clock;
  HandlerOptions hopts;
  hopts.shared_secret = secret;
  hopts.max_clock_skew = std::chrono::duration_cast<std::chrono::seconds>(cfg.get_duration("auth", "max_clock_skew"));
  hopts.node = name;
  hopts.nonce_cache = static_cast<size_t>(cfg.get_int("auth", "nonce_cache"));
  // Two seconds of slack for clocks a little behind ours (NTP keeps them closer than that).
  hopts.not_before = std::chrono::duration_cast<std::chrono::seconds>(clock.wall().time_since_epoch()).count() - 2;
  auto bus_opts = bus::client_options(cfg, "store", name);
  if (!bus_opts.config_error.empty()) {
    logger.error("config.invalid", {{"error", bus_opts.config_error}});
    return 1;
  }
  bus::BusClient bus(bus_opts, clock, logger);
  StoreHandler handler(hopts, **blobs, metrics, store_metrics, clock, logger, &bus);

  http::ServerOptions sopts = http::server_options(cfg, "store");
  sopts.body_buffers = &handler.buffers();
  sopts.body_chunk_bytes = fs.block_size;
  auto tls = http::node_tls_files(cfg);
  if (!tls) {
    logger.error("config.invalid", {{"error", tls.error().message}});
    std::fprintf(stderr, "glint-store: %s\n", tls.error().message.c_str());
    return 1;
  }
  sopts.tls = *tls;
  http::Server server(sopts, handler, logger);
  if (Status s = server.listen(); !s) {
    logger.error("store.listen_failed", {{"error", s.message()}});
    std::fprintf(stderr, "glint-store: %s\n", s.message().c_str());
    return 1;
  }
  const uint16_t port = server.port();
  const std::string port_file = cfg.get_string("store", "port_file");
  if (!port_file.empty() && !util::write_port_file(port_file, port)) {
    logger.error("store.port_file_failed", {{"path", port_file}});
    return 1;
  }
  std::string address = cfg.get_string("store", "advertise_address");
  if (address.empty()) address = sopts.host + ":" + std::to_string(port);

  db::PoolOptions popts = db::pool_options(cfg);
  popts.size = 2;  // only the registrar uses it
  db::Pool pool(popts);
  db::NodeRow self;
  self.name = name;
  self.address = address;
  self.zone = cfg.get_string("store", "zone");
  self.weight = cfg.get_double("store", "weight");
  NodeRegistrar registrar(pool, self, **blobs, store_metrics, cfg.get_duration("store", "heartbeat_interval"),
                          cfg.get_duration("store", "stale_temp_after"), logger);
  registrar.start();

  logger.info("store.started", {{"address", address}, {"data_dir", fs.data_dir}, {"pid", static_cast<int64_t>(getpid())}});
  server.run();
  registrar.stop();
  logger.info("store.stopped");
  return 0;
}

}  // namespace glint::store
