// The one entry point of every worker executable: flags (--config-file, --set, --once,
// --schedule-file), configuration, this worker's schedule (defaults file, then overrides), the
// per-node instance lock, database, bus (a queued job of this kind wakes the worker), JobWorker
// over the worker, token buckets from the schedule's limits, and the Daemon loop. main() of a
// worker is then a few lines.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "shared/bus/publisher.hpp"
#include "shared/config/config.hpp"
#include "shared/core/clock.hpp"
#include "shared/db/pool.hpp"
#include "shared/journal/journal.hpp"
#include "shared/log/log.hpp"
#include "shared/metrics/metrics.hpp"
#include "shared/worker/worker.hpp"

namespace CLI { class App; }

namespace glint::worker {

// What a worker's constructor may use; valid for the whole run.
struct WorkerEnv {
  const config::Config& cfg;
  db::Pool& pool;
  const Clock& clock;
  metrics::Metrics& metrics;
  log::Logger logger;
  std::string node;
  bus::Publisher& events;  // the bus (a no-op when it is turned off)
  int concurrency = 1;     // the schedule's concurrency limit
  // The node's journal ([journal] dir): wrap repositories whose writes must survive a database
  // outage with journal::journaled().
  journal::Journal& journal;
};

struct WorkerMainSpec {
  std::string name;  // the worker (schedule section, metrics label, lock file, job kind)
  std::string description;
  std::function<void(CLI::App&)> add_options = {};  // worker-specific flags (tests)
  std::function<std::unique_ptr<Worker>(WorkerEnv&)> make;
  // Event topic prefixes that end the sleep early (besides job.queued for this worker), e.g.
  // replica.bad and node. for the replicator.
  std::vector<std::string> wake_on = {};
};

// Runs the worker process; returns its exit code (0 ok; 1 config/schedule/lock error or, with
// --once, a failed pass; 2 bad usage).
int worker_main(int argc, char** argv, const WorkerMainSpec& spec);

}  // namespace glint::worker
