// glint-reaper: deletes what is due on this storage node (delayed deletes past scrub_time,
// copies of deleted images, old orphans) on the [reaper] schedule. See reaper.hpp.
#include "shared/peer/blob_peer.hpp"
#include "shared/worker/worker_main.hpp"
#include "workers/reaper/reaper.hpp"

namespace {

using namespace glint;

// Owns what the Reaper borrows for the life of the process.
class ReaperProcess final : public worker::Worker {
 public:
  ReaperProcess(worker::WorkerEnv& env, peer::PeerOptions peer)
      : reaper_repo_(db::make_reaper_repository(env.pool)),
        nodes_(db::make_node_repository(env.pool)),
        peer_(peer::make_http_blob_peer(std::move(peer), env.clock)),
        reaper_(options(env), reaper::ReaperRepositories{*reaper_repo_, *nodes_}, *peer_, env.metrics,
                env.clock) {}
  std::string name() const override { return reaper_.name(); }
  Expected<worker::PassResult> run_once(const worker::PassContext& ctx) override { return reaper_.run_once(ctx); }

 private:
  static reaper::ReaperOptions options(worker::WorkerEnv& env) {
    reaper::ReaperOptions o;
    o.node = env.node;
    o.scrub_time = env.cfg.get_duration("reaper", "scrub_time");
    o.orphan_grace = env.cfg.get_duration("reaper", "orphan_grace");
    o.purge_after = env.cfg.get_duration("reaper", "purge_after");
    o.stale_upload_after = env.cfg.get_duration("reaper", "stale_upload_after");
    o.dry_run = env.cfg.get_bool("reaper", "dry_run");
    o.concurrency = env.concurrency;
    return o;
  }

  std::unique_ptr<db::ReaperRepository> reaper_repo_;
  std::unique_ptr<db::NodeRepository> nodes_;
  std::unique_ptr<peer::BlobPeer> peer_;
  reaper::Reaper reaper_;
};

}  // namespace

int main(int argc, char** argv) {
  worker::WorkerMainSpec spec;
  spec.name = "reaper";
  spec.description = "glint-reaper: delete what is due on this storage node (run one per storage node)";
  spec.make = [](worker::WorkerEnv& env) -> std::unique_ptr<worker::Worker> {
    auto peer = peer::peer_options(env.cfg, "reaper");
    if (!peer) {
      env.logger.error("config.invalid", {{"error", peer.error().message}});
      return nullptr;
    }
    return std::make_unique<ReaperProcess>(env, std::move(*peer));
  };
  // Woken by deletes; the database says what is due.
  spec.wake_on = {"image.deleted"};
  return worker::worker_main(argc, argv, spec);
}
