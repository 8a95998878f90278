// glint-test-worker: a worker process for the runtime's fault tests. Its pass handles --items
// items at --items-per-second (the token bucket paces it), through JobWorker and Daemon exactly as
// the real workers will; it is killed with -9 mid-job by the tests.
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "shared/bus/bus_client.hpp"
#include "shared/config/config.hpp"
#include "shared/core/random.hpp"
#include "shared/db/pool.hpp"
#include "shared/db/pool_options.hpp"
#include "shared/worker/daemon.hpp"
#include "shared/worker/job_worker.hpp"

namespace {

// Handles `items` items, one token each; stops early (returning what it did) when asked.
class CountingWorker final : public glint::worker::Worker {
 public:
  explicit CountingWorker(uint64_t items) : items_(items) {}
  std::string name() const override { return "testwork"; }
  glint::Expected<glint::worker::PassResult> run_once(const glint::worker::PassContext& ctx) override {
    glint::worker::PassResult r;
    for (uint64_t i = 0; i < items_ && ctx.take_item(); ++i) {
      ++r.items;
      ctx.report_progress(r.items, items_);
    }
    return r;
  }

 private:
  uint64_t items_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"glint-test-worker"};
  glint::config::CommandLine cl;
  glint::config::add_standard_flags(app, cl);
  uint64_t items = 20;
  double rate = 10;
  int lease_s = 2;
  int64_t interval_ms = 200;
  app.add_option("--interval-ms", interval_ms, "Time between passes");
  CLI11_PARSE(app, argc, argv);
  const auto cfg = glint::config::load_or_exit(cl);
  const std::string node = cfg.get_string("DEFAULT", "node_name");
  auto logger = glint::log::Logger::make("testwork", glint::log::Level::info, cfg.get_string("DEFAULT", "log_file"));
  glint::db::Pool pool(glint::db::pool_options(cfg));
  auto jobs = glint::db::make_job_repository(pool);
  glint::SystemClock clock;
  glint::SystemRandom random;
  glint::metrics::Metrics metrics;
  glint::worker::TokenBucket bucket(rate, 1, clock);
  CountingWorker inner(items);
  glint::worker::JobWorker worker(inner, *jobs, node + "/" + std::to_string(getpid()), std::chrono::seconds(lease_s),
                                  logger);
  glint::worker::StopSource stop;
  glint::worker::StopSignals signals(stop, logger);
  glint::worker::DaemonOptions opts;
  opts.next_run = [interval_ms](std::chrono::system_clock::time_point t) {
    return t + std::chrono::milliseconds(interval_ms);
  };
  // The doorbell: a queued job of this kind ends the sleep at once (the job row is the truth).
  auto bus_opts = glint::bus::client_options(cfg, "testwork", node);
  bus_opts.topics = {"job.queued"};
  glint::bus::BusClient bus(bus_opts, clock, logger, [&](const glint::bus::Envelope& e) {
    if (e.body.value("kind", std::string()) == "testwork") stop.wake();
  });
  opts.items = &bucket;
  glint::worker::Daemon daemon(worker, opts, clock, random, metrics, logger, stop.token());
  return daemon.run();
}
