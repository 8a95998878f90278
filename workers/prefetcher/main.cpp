// glint-prefetcher: keeps this API node's image cache on the [prefetcher] schedule (run one beside
// every glint-api that has a [cache] dir). See prefetcher.hpp.
#include "shared/cache/cache_config.hpp"
#include "shared/db/cache_repository.hpp"
#include "shared/peer/blob_peer.hpp"
#include "shared/worker/worker_main.hpp"
#include "workers/prefetcher/prefetcher.hpp"

namespace {

using namespace glint;

// Owns what the Prefetcher borrows for the life of the process.
class PrefetcherProcess final : public worker::Worker {
 public:
  PrefetcherProcess(worker::WorkerEnv& env, std::unique_ptr<db::CacheRepository> rows,
                    std::unique_ptr<cache::ImageCache> cache, peer::PeerOptions peer)
      : rows_(std::move(rows)),
        cache_(std::move(cache)),
        images_(db::make_image_repository(env.pool)),
        replicas_(db::make_replica_repository(env.pool)),
        nodes_(db::make_node_repository(env.pool)),
        peer_(peer::make_http_blob_peer(std::move(peer), env.clock)),
        prefetcher_(view(env), *cache_, *images_, *replicas_, *nodes_, *peer_, env.clock) {}
  std::string name() const override { return prefetcher_.name(); }
  Expected<worker::PassResult> run_once(const worker::PassContext& ctx) override { return prefetcher_.run_once(ctx); }

 private:
  static placement::ViewOptions view(worker::WorkerEnv& env) {
    placement::ViewOptions o;
    o.replicas = static_cast<size_t>(env.cfg.get_int("cluster", "replicas"));
    o.heartbeat_timeout = env.cfg.get_duration("cluster", "node_down_after");
    return o;
  }

  std::unique_ptr<db::CacheRepository> rows_;
  std::unique_ptr<cache::ImageCache> cache_;
  std::unique_ptr<db::ImageRepository> images_;
  std::unique_ptr<db::ReplicaRepository> replicas_;
  std::unique_ptr<db::NodeRepository> nodes_;
  std::unique_ptr<peer::BlobPeer> peer_;
  prefetcher::Prefetcher prefetcher_;
};

}  // namespace

int main(int argc, char** argv) {
  worker::WorkerMainSpec spec;
  spec.name = "prefetcher";
  spec.description = "glint-prefetcher: fill, clean and prune this API node's image cache (one per API node)";
  spec.make = [](worker::WorkerEnv& env) -> std::unique_ptr<worker::Worker> {
    auto copts = cache::cache_options(env.cfg);
    if (!copts) {
      env.logger.error("config.invalid", {{"error", "[cache] dir is empty: this node keeps no image cache"}});
      return nullptr;
    }
    auto peer = peer::peer_options(env.cfg, "api");
    if (!peer) {
      env.logger.error("config.invalid", {{"error", peer.error().message}});
      return nullptr;
    }
    auto rows = db::make_cache_repository(env.pool);
    auto cache = cache::ImageCache::open(*copts, *rows, env.metrics, env.logger.with({{"part", "cache"}}));
    if (!cache) {
      env.logger.error("config.invalid", {{"error", cache.error().message}});
      return nullptr;
    }
    return std::make_unique<PrefetcherProcess>(env, std::move(rows), std::move(*cache), std::move(*peer));
  };
  // One PUT /v2/cache/{id} rings every node (the queue in the database says what to fetch); a
  // delete makes every node drop its copy at once.
  spec.wake_on = {"cache.queue", "image.deleted"};
  return worker::worker_main(argc, argv, spec);
}
