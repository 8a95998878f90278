#include "shared/worker/worker_main.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "shared/bus/bus_client.hpp"
#include "shared/core/random.hpp"
#include "shared/db/migrations.hpp"
#include "shared/db/pool_options.hpp"
#include "shared/journal/journaled.hpp"
#include "shared/schedule/schedule.hpp"
#include "shared/worker/daemon.hpp"
#include "shared/worker/instance_lock.hpp"
#include "shared/worker/job_worker.hpp"

namespace glint::worker {

namespace {

// This worker's schedule from the defaults file and the overrides, or the errors (file:line).
std::optional<schedule::WorkerSchedule> load_schedule(const std::string& name, const std::vector<std::string>& files) {
  std::vector<std::string> known = schedule::worker_names();
  if (std::find(known.begin(), known.end(), name) == known.end()) known.push_back(name);
  auto loaded = schedule::load_schedules(files, known);
  if (auto* errors = std::get_if<std::vector<schedule::ScheduleError>>(&loaded)) {
    for (const auto& e : *errors) std::cerr << e.to_string() << "\n";
    return std::nullopt;
  }
  const auto& all = std::get<schedule::Schedules>(loaded);
  auto it = all.find(name);
  if (it == all.end()) {
    std::cerr << "schedule: no [" << name << "] section in";
    for (const auto& f : files) std::cerr << " " << f;
    std::cerr << "\n";
    return std::nullopt;
  }
  return it->second;
}

}  // namespace

int worker_main(int argc, char** argv, const WorkerMainSpec& spec) {
  CLI::App app{spec.description};
  config::CommandLine cl;
  config::add_standard_flags(app, cl);
  bool once = false;
  std::vector<std::string> schedule_files;
  app.add_flag("--once", once, "Run one pass now and exit (for cron); exit 1 if it failed");
  app.add_option("--schedule-file", schedule_files, "Schedule overrides, after [worker] schedule_defaults; repeatable")
      ->type_name("FILE")
      ->allow_extra_args(false);
  if (spec.add_options) spec.add_options(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  const config::Config cfg = config::load_or_exit(cl);
  log::Level level = log::Level::info;
  log::parse_level(cfg.get_string("DEFAULT", "log_level"), level);
  const std::string node = config::node_name(cfg);
  auto logger = log::Logger::make(spec.name, level, cfg.get_string("DEFAULT", "log_file")).with({{"node", node}});

  std::vector<std::string> files = {cfg.get_string("worker", "schedule_defaults")};
  files.insert(files.end(), schedule_files.begin(), schedule_files.end());
  auto sched = load_schedule(spec.name, files);
  if (!sched) return 1;
  if (!sched->enabled && !once) {
    logger.info("worker.disabled", {{"worker", spec.name}});
    return 0;
  }
  auto lock = acquire_instance_lock(cfg.get_string("worker", "lock_dir"), node, spec.name);
  if (!lock) {
    std::cerr << spec.name << ": " << lock.error().message << "\n";
    return 1;
  }

  db::Pool pool(db::pool_options(cfg));
  if (auto applied = db::migrate(pool); !applied) {
    logger.error("db.migrate_failed", {{"error", applied.error().message}});
    return 1;
  }
  SystemClock clock;
  SystemRandom random;
  metrics::Metrics metrics;
  if (const std::string addr = cfg.get_string("worker", "metrics_address"); !addr.empty()) {
    const uint16_t port = metrics.start_exposer(addr);
    logger.info("metrics.listening", {{"port", port}});
  }

  StopSource stop;
  StopSignals signals(stop, logger);
  // The doorbell: a queued job of this kind ends the sleep at once (the job row is the truth).
  auto bus_opts = bus::client_options(cfg, spec.name, node);
  if (!bus_opts.config_error.empty()) {
    logger.error("config.invalid", {{"error", bus_opts.config_error}});
    return 1;
  }
  bus_opts.topics = {"job.queued"};
  bus_opts.topics.insert(bus_opts.topics.end(), spec.wake_on.begin(), spec.wake_on.end());
  bus::BusClient bus(bus_opts, clock, logger, [&](const bus::Envelope& e) {
    if (e.topic == "job.queued") {
      if (e.body.value("kind", std::string()) == spec.name) stop.wake();
      return;
    }
    stop.wake();  // one of wake_on: the pass finds what changed in the database
  });
  journal::Journal journal(cfg.get_string("journal", "dir"), spec.name, clock);
  WorkerEnv env{cfg, pool, clock, metrics, logger, node, bus, std::max(1, sched->concurrency), journal};
  std::unique_ptr<Worker> inner = spec.make(env);
  if (!inner) return 1;  // make() reported why
  auto jobs = db::make_job_repository(pool);
  JobWorker worker(*inner, *jobs, bus, node, node + "/" + std::to_string(::getpid()),
                   std::chrono::duration_cast<std::chrono::seconds>(cfg.get_duration("worker", "job_lease")), logger);

  // Bursts of a tenth of a second: a limit holds over seconds, not only over minutes.
  TokenBucket bytes(sched->bytes_per_second, std::max(1.0, sched->bytes_per_second / 10), clock);
  TokenBucket items(sched->items_per_second, std::max(1.0, sched->items_per_second / 10), clock);
  DaemonOptions opts;
  const schedule::WorkerSchedule s = *sched;
  opts.next_run = [s](std::chrono::system_clock::time_point t) { return s.next_run(t); };
  opts.jitter = std::chrono::duration_cast<std::chrono::milliseconds>(s.jitter);
  opts.jitter_each_pass = s.cron.has_value();
  opts.once = once;
  opts.bytes = s.bytes_per_second > 0 ? &bytes : nullptr;
  opts.items = s.items_per_second > 0 ? &items : nullptr;
  auto passes = journal::journaled(db::make_worker_pass_repository(pool), journal);
  opts.on_pass = [&](db::WorkerPassRow row) {
    row.node = node;
    // Operators' view only: a database hiccup here must not fail the pass.
    if (Status st = passes->record(row); !st) logger.warn("pass.record_failed", {{"error", st.message()}});
  };
  Daemon daemon(worker, opts, clock, random, metrics, logger, stop.token());
  return daemon.run();
}

}  // namespace glint::worker
