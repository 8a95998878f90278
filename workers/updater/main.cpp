// glint-updater: replays this node's journal into PostgreSQL on the [updater] schedule (run one
// on every node that runs glint workers). See updater.hpp.
#include <filesystem>

#include "shared/blob/fs_options_config.hpp"
#include "shared/journal/journaled.hpp"
#include "shared/worker/worker_main.hpp"
#include "workers/updater/updater.hpp"

namespace {

using namespace glint;

// Owns what the Updater borrows for the life of the process. Its own writes go straight to the
// database: the repositories here are not journaled.
class UpdaterProcess final : public worker::Worker {
 public:
  UpdaterProcess(worker::WorkerEnv& env, std::unique_ptr<blob::BlobStore> blobs)
      : replicas_(db::make_replica_repository(env.pool)),
        heal_(db::make_healing_repository(env.pool)),
        passes_(db::make_worker_pass_repository(env.pool)),
        backfill_repo_(db::make_backfill_repository(env.pool)),
        blobs_(std::move(blobs)),
        applier_(*replicas_, *heal_, *passes_),
        backfill_(blobs_ ? std::make_unique<updater::Backfill>(updater::BackfillOptions{env.node}, *backfill_repo_,
                                                               *heal_, *blobs_)
                         : nullptr),
        updater_(updater::UpdaterOptions{env.journal.dir(), static_cast<int>(env.cfg.get_int("updater", "max_attempts"))},
                 applier_, backfill_.get(), env.metrics, env.clock) {}
  std::string name() const override { return updater_.name(); }
  Expected<worker::PassResult> run_once(const worker::PassContext& ctx) override { return updater_.run_once(ctx); }

 private:
  std::unique_ptr<db::ReplicaRepository> replicas_;
  std::unique_ptr<db::HealingRepository> heal_;
  std::unique_ptr<db::WorkerPassRepository> passes_;
  std::unique_ptr<db::BackfillRepository> backfill_repo_;
  std::unique_ptr<blob::BlobStore> blobs_;
  journal::DbApplier applier_;
  std::unique_ptr<updater::Backfill> backfill_;
  updater::Updater updater_;
};

}  // namespace

int main(int argc, char** argv) {
  worker::WorkerMainSpec spec;
  spec.name = "updater";
  spec.description = "glint-updater: replay this node's journal of writes the database missed (one per node)";
  spec.make = [](worker::WorkerEnv& env) -> std::unique_ptr<worker::Worker> {
    // The back-fill reads this node's copies: only where a store's data directory is.
    std::unique_ptr<blob::BlobStore> blobs;
    const blob::FsOptions fs = blob::fs_options(env.cfg, true);
    if (std::error_code ec; std::filesystem::is_directory(fs.data_dir + "/objects", ec)) {
      auto opened = blob::open_fs_store(fs);
      if (opened) blobs = std::move(*opened);
      else env.logger.warn("backfill.disabled", {{"error", opened.error().message}});
    }
    return std::make_unique<UpdaterProcess>(env, std::move(blobs));
  };
  return worker::worker_main(argc, argv, spec);
}
