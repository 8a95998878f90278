// glint-auditor: verifies this storage node's blobs on the [auditor] (quick) or, with --deep, the
// [auditor-deep] schedule. Runs beside glint-store on the same data directory. See auditor.hpp.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <iostream>

#include "shared/blob/fs_options_config.hpp"
#include "shared/journal/journaled.hpp"
#include "shared/worker/worker_main.hpp"
#include "workers/auditor/auditor.hpp"

namespace {

using namespace glint;

// Owns what the Auditor borrows for the life of the process.
class AuditorProcess final : public worker::Worker {
 public:
  AuditorProcess(worker::WorkerEnv& env, std::unique_ptr<blob::BlobStore> blobs, bool deep)
      : blobs_(std::move(blobs)),
        heal_(journal::journaled(db::make_healing_repository(env.pool), env.journal)),
        replicas_(journal::journaled(db::make_replica_repository(env.pool), env.journal)),
        jobs_(db::make_job_repository(env.pool)),
        auditor_(auditor::AuditorOptions{env.node, deep, env.cfg.get_duration("auditor", "os_hash_interval")},
                 *blobs_, *heal_, *replicas_, *jobs_, env.events, env.metrics, env.clock) {}
  std::string name() const override { return auditor_.name(); }
  Expected<worker::PassResult> run_once(const worker::PassContext& ctx) override { return auditor_.run_once(ctx); }

 private:
  std::unique_ptr<blob::BlobStore> blobs_;
  std::unique_ptr<db::HealingRepository> heal_;
  std::unique_ptr<db::ReplicaRepository> replicas_;
  std::unique_ptr<db::JobRepository> jobs_;
  auditor::Auditor auditor_;
};

// Audits yield to client traffic: lower CPU priority, optionally the idle I/O class.
void be_nice(const config::Config& cfg, log::Logger& log) {
  const int nice = static_cast<int>(cfg.get_int("auditor", "nice"));
  if (nice != 0 && ::setpriority(PRIO_PROCESS, 0, nice) != 0) log.warn("auditor.nice_failed", {{"error", std::strerror(errno)}});
  if (cfg.get_bool("auditor", "ionice_idle")) {
    constexpr int kWhoProcess = 1, kClassIdle = 3, kClassShift = 13;
    if (::syscall(SYS_ioprio_set, kWhoProcess, 0, kClassIdle << kClassShift) != 0)
      log.warn("auditor.ionice_failed", {{"error", std::strerror(errno)}});
  }
}

}  // namespace

int main(int argc, char** argv) {
  // --deep picks the worker (and so its schedule section, lock and metrics label) before parsing.
  bool deep = false;
  for (int i = 1; i < argc; ++i) deep = deep || std::strcmp(argv[i], "--deep") == 0;
  worker::WorkerMainSpec spec;
  spec.name = deep ? "auditor-deep" : "auditor";
  spec.description = "glint-auditor: verify this storage node's blobs (quick; --deep re-reads every block)";
  spec.add_options = [&](CLI::App& app) {
    app.add_flag("--deep", deep, "Deep pass: re-read every block (schedule [auditor-deep])");
  };
  spec.make = [&](worker::WorkerEnv& env) -> std::unique_ptr<worker::Worker> {
    auto blobs = blob::open_fs_store(blob::fs_options(env.cfg, true));
    if (!blobs) {
      std::cerr << "glint-auditor: " << blobs.error().message << "\n";
      return nullptr;
    }
    be_nice(env.cfg, env.logger);
    return std::make_unique<AuditorProcess>(env, std::move(*blobs), deep);
  };
  return worker::worker_main(argc, argv, spec);
}
