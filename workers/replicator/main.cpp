// glint-replicator: keeps every image at R verified replicas on the nodes placement assigns; one
// per storage node, pulling what that node should hold. See replicator.hpp.
#include "shared/peer/blob_peer.hpp"
#include "shared/journal/journaled.hpp"
#include "shared/worker/worker_main.hpp"
#include "workers/replicator/replicator.hpp"

namespace {

using namespace glint;

// Owns what the Replicator borrows for the life of the process.
class ReplicatorProcess final : public worker::Worker {
 public:
  ReplicatorProcess(worker::WorkerEnv& env, peer::PeerOptions peer)
      : nodes_(db::make_node_repository(env.pool)),
        replicas_(journal::journaled(db::make_replica_repository(env.pool), env.journal)),
        heal_(journal::journaled(db::make_healing_repository(env.pool), env.journal)),
        peer_(peer::make_http_blob_peer(std::move(peer), env.clock)),
        replicator_(options(env), replicator::Repositories{*nodes_, *replicas_, *heal_}, *peer_, env.events,
                    env.metrics, env.clock) {}
  std::string name() const override { return replicator_.name(); }
  Expected<worker::PassResult> run_once(const worker::PassContext& ctx) override { return replicator_.run_once(ctx); }

 private:
  static replicator::ReplicatorOptions options(worker::WorkerEnv& env) {
    replicator::ReplicatorOptions o;
    o.node = env.node;
    o.replicas = static_cast<size_t>(env.cfg.get_int("cluster", "replicas"));
    o.replicate_after_down = env.cfg.get_duration("replicator", "replicate_after_down");
    o.heartbeat_timeout = env.cfg.get_duration("cluster", "node_down_after");
    o.full_scan_interval = env.cfg.get_duration("replicator", "full_scan_interval");
    o.stall_polls = static_cast<int>(env.cfg.get_int("replicator", "stall_polls"));
    o.dry_run = env.cfg.get_bool("replicator", "dry_run");
    o.concurrency = env.concurrency;
    return o;
  }

  std::unique_ptr<db::NodeRepository> nodes_;
  std::unique_ptr<db::ReplicaRepository> replicas_;
  std::unique_ptr<db::HealingRepository> heal_;
  std::unique_ptr<peer::BlobPeer> peer_;
  replicator::Replicator replicator_;
};

}  // namespace

int main(int argc, char** argv) {
  worker::WorkerMainSpec spec;
  spec.name = "replicator";
  spec.description = "glint-replicator: keep every image at R verified replicas (run one per storage node)";
  spec.make = [](worker::WorkerEnv& env) -> std::unique_ptr<worker::Worker> {
    auto peer = peer::peer_options(env.cfg, "replicator");
    if (!peer) {
      env.logger.error("config.invalid", {{"error", peer.error().message}});
      return nullptr;
    }
    return std::make_unique<ReplicatorProcess>(env, std::move(*peer));
  };
  // Woken by what may need a copy or a removal; the change feed says which images.
  spec.wake_on = {"replica.", "node.", "image.uploaded"};
  return worker::worker_main(argc, argv, spec);
}
