// glint-updater: replays this node's journal into PostgreSQL on the [updater] schedule (run one
// on every node that runs glint workers). See updater.hpp.
#include "shared/journal/journaled.hpp"
#include "shared/worker/worker_main.hpp"
#include "workers/updater/updater.hpp"

namespace {

using namespace glint;

// Owns what the Updater borrows for the life of the process. Its own writes go straight to the
// database: the repositories here are not journaled.
class UpdaterProcess final : public worker::Worker {
 public:
  explicit UpdaterProcess(worker::WorkerEnv& env)
      : replicas_(db::make_replica_repository(env.pool)),
        heal_(db::make_healing_repository(env.pool)),
        passes_(db::make_worker_pass_repository(env.pool)),
        applier_(*replicas_, *heal_, *passes_),
        updater_(updater::UpdaterOptions{env.journal.dir(), static_cast<int>(env.cfg.get_int("updater", "max_attempts"))},
                 applier_, env.metrics, env.clock) {}
  std::string name() const override { return updater_.name(); }
  Expected<worker::PassResult> run_once(const worker::PassContext& ctx) override { return updater_.run_once(ctx); }

 private:
  std::unique_ptr<db::ReplicaRepository> replicas_;
  std::unique_ptr<db::HealingRepository> heal_;
  std::unique_ptr<db::WorkerPassRepository> passes_;
  journal::DbApplier applier_;
  updater::Updater updater_;
};

}  // namespace

int main(int argc, char** argv) {
  worker::WorkerMainSpec spec;
  spec.name = "updater";
  spec.description = "glint-updater: replay this node's journal of writes the database missed (one per node)";
  spec.make = [](worker::WorkerEnv& env) -> std::unique_ptr<worker::Worker> {
    return std::make_unique<UpdaterProcess>(env);
  };
  return worker::worker_main(argc, argv, spec);
}
