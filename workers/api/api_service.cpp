#include "workers/api/api_service.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "shared/bus/bus_client.hpp"
#include "shared/cache/cache_config.hpp"
#include "shared/db/cache_repository.hpp"
#include "shared/db/migrations.hpp"
#include "shared/db/pool.hpp"
#include "shared/db/pool_options.hpp"
#include "shared/http/server.hpp"
#include "shared/http/server_options.hpp"
#include "shared/util/memory.hpp"
#include "shared/util/port_file.hpp"
#include "workers/api/api_handler.hpp"
#include "workers/api/keystone/keystone_validator.hpp"
#include "workers/api/keystone/token_cache.hpp"

namespace glint::api {

int run_api(const config::Config& cfg) {
  util::tune_malloc();
  // Image data is spliced through pipes; a client or node that went away must be an EPIPE error,
  // not a signal that kills the process.
  std::signal(SIGPIPE, SIG_IGN);
  log::Level level = log::Level::info;
  log::parse_level(cfg.get_string("DEFAULT", "log_level"), level);
  auto logger = log::Logger::make("api", level, cfg.get_string("DEFAULT", "log_file"));

  // Configuration mistakes stop the process before it touches the database.
  const bool secure_rbac = cfg.get_bool("oslo_policy", "enforce_new_defaults");
  const std::string policy_file = cfg.get_string("oslo_policy", "policy_file");
  auto policy = policy_file.empty() ? Expected<Policy>(Policy::defaults(secure_rbac)) : Policy::load(policy_file, secure_rbac);
  if (!policy) {
    logger.error("config.invalid", {{"error", policy.error().message}});
    std::fprintf(stderr, "%s\n", policy.error().message.c_str());
    return 1;
  }
  const std::string local_store_node = cfg.get_string("api", "local_store_node");
  const std::string local_store_dir = cfg.get_string("api", "local_store_dir");
  if (local_store_node.empty() != local_store_dir.empty()) {
    logger.error("config.invalid", {{"error", "[api] local_store_node and local_store_dir go together"}});
    std::fprintf(stderr, "glint-api: [api] local_store_node and local_store_dir go together\n");
    return 1;
  }
  db::PoolOptions popts = db::pool_options(cfg);
  {
    // The catalog is the truth: without its schema the API cannot answer anything meaningful.
    // Start-up may wait out the retry budget; serving may not (below).
    db::Pool boot(popts);
    auto applied = db::migrate(boot);
    if (!applied) {
      logger.error("db.migrate_failed", {{"error", applied.error().message}});
      return 1;
    }
  }
  // Handlers run on the io threads: during an outage calls fail at once (503) behind a breaker
  // that probes and closes by itself, instead of holding a thread for the retry budget.
  popts.fail_fast = true;
  db::Pool pool(popts);
  DataOptions dopts;
  dopts.replicas = static_cast<size_t>(cfg.get_int("cluster", "replicas"));
  dopts.write_quorum = static_cast<size_t>(cfg.get_int("cluster", "write_quorum"));
  dopts.node_down_after = cfg.get_duration("cluster", "node_down_after");
  dopts.image_size_cap = cfg.get_size("api", "image_size_cap");
  dopts.upload_buffer = static_cast<size_t>(cfg.get_size("api", "upload_buffer"));
  dopts.delayed_delete = cfg.get_bool("api", "delayed_delete");
  dopts.local_store_node = local_store_node;
  dopts.local_store_dir = local_store_dir;
  if (dopts.write_quorum > dopts.replicas) {
    logger.error("config.invalid", {{"error", "[cluster] write_quorum must not exceed replicas"}});
    return 1;
  }
  auto peer_opts = peer::peer_options(cfg, "api");
  if (!peer_opts) {
    logger.error("config.invalid", {{"error", peer_opts.error().message}});
    std::fprintf(stderr, "glint-api: %s\n", peer_opts.error().message.c_str());
    return 1;
  }
  auto images = db::make_image_repository(pool);
  auto members = db::make_member_repository(pool);
  auto nodes = db::make_node_repository(pool);
  auto replicas = db::make_replica_repository(pool);
  SystemClock clock;
  auto peer = peer::make_http_blob_peer(std::move(*peer_opts), clock);
  metrics::Metrics metrics;
  auto bus_opts = bus::client_options(cfg, "api", cfg.get_string("DEFAULT", "node_name"));
  if (!bus_opts.config_error.empty()) {
    logger.error("config.invalid", {{"error", bus_opts.config_error}});
    return 1;
  }
  bus::BusClient bus(bus_opts, clock, logger);
  auto cache_rows = db::make_cache_repository(pool);
  std::unique_ptr<cache::ImageCache> cache;
  if (auto copts = cache::cache_options(cfg)) {
    auto opened = cache::ImageCache::open(*copts, *cache_rows, metrics, logger.with({{"part", "cache"}}));
    if (!opened) {
      logger.error("config.invalid", {{"error", opened.error().message}});
      std::fprintf(stderr, "glint-api: %s\n", opened.error().message.c_str());
      return 1;
    }
    cache = std::move(*opened);
  }
  ImageData data(dopts, *images, *nodes, *replicas, *peer, bus, metrics, clock, logger, cache.get());
  ApiOptions aopts;
  aopts.limit_default = static_cast<size_t>(cfg.get_int("api", "limit_param_default"));
  aopts.limit_max = static_cast<size_t>(cfg.get_int("api", "api_limit_max"));
  parse_auth_mode(cfg.get_string("api", "auth_mode"), aopts.auth_mode);  // validated by the catalog
  aopts.database_up = [&pool] { return pool.available(); };
  std::unique_ptr<TokenValidator> keystone;
  std::unique_ptr<TokenCache> token_cache;
  if (aopts.auth_mode == AuthMode::keystone) {
    auto kopts = keystone_options(cfg);
    if (!kopts) {
      logger.error("config.invalid", {{"error", kopts.error().message}});
      return 1;
    }
    aopts.www_authenticate_uri = cfg.get_string("keystone_authtoken", "www_authenticate_uri");
    if (aopts.www_authenticate_uri.empty()) aopts.www_authenticate_uri = kopts->auth_url;
    keystone = make_keystone_validator(*kopts, clock, logger);
    TokenCacheOptions copts;
    copts.ttl = cfg.get_duration("keystone_authtoken", "token_cache_time");
    copts.max_entries = static_cast<size_t>(cfg.get_int("keystone_authtoken", "token_cache_size"));
    token_cache = std::make_unique<TokenCache>(*keystone, clock, copts, metrics);
    aopts.tokens = token_cache.get();
  } else if (aopts.auth_mode == AuthMode::headers) {
    logger.warn("auth.headers_mode", {{"note", "X-Project-Id and X-Roles are trusted as sent: only behind a proxy that authenticates"}});
  }
  aopts.policy = &*policy;
  aopts.cache = cache.get();
  aopts.events = &bus;
  ApiHandler handler(aopts, *images, *members, data, metrics, logger);

  http::ServerOptions sopts = http::server_options(cfg, "api");
  sopts.tls.cert_file = cfg.get_string("api", "tls_cert_file");
  sopts.tls.key_file = cfg.get_string("api", "tls_key_file");
  if (sopts.tls.cert_file.empty() != sopts.tls.key_file.empty()) {
    logger.error("config.invalid", {{"error", "[api] tls_cert_file and tls_key_file go together"}});
    return 1;
  }
  http::Server server(sopts, handler, logger);
  if (Status s = server.listen(); !s) {
    logger.error("api.listen_failed", {{"error", s.message()}});
    std::fprintf(stderr, "glint-api: %s\n", s.message().c_str());
    return 1;
  }
  const std::string port_file = cfg.get_string("api", "port_file");
  if (!port_file.empty() && !util::write_port_file(port_file, server.port())) {
    logger.error("api.port_file_failed", {{"path", port_file}});
    return 1;
  }
  logger.info("api.started", {{"address", sopts.host + ":" + std::to_string(server.port())},
                              {"pid", static_cast<int64_t>(getpid())}});
  server.run();
  logger.info("api.stopped");
  return 0;
}

}  // namespace glint::api
