// glint-test-worker: a worker process for the runtime's fault tests, run through worker_main exactly
// as the real workers are. Its pass handles --items items, paced by the schedule's
// items_per_second; the tests kill it with -9 mid-job, wake it through the bus, lock it out.
#include <CLI/CLI.hpp>

#include "shared/worker/worker_main.hpp"

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
  uint64_t items = 20;
  glint::worker::WorkerMainSpec spec;
  spec.name = "testwork";
  spec.description = "glint-test-worker: counts items (runtime tests)";
  spec.add_options = [&](CLI::App& app) { app.add_option("--items", items, "Items per pass"); };
  spec.make = [&](glint::worker::WorkerEnv&) { return std::make_unique<CountingWorker>(items); };
  return glint::worker::worker_main(argc, argv, spec);
}
