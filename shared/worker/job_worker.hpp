// Runs operator jobs through any worker: a pass first claims a queued job of the worker's kind
// (a lease in the jobs table), runs the inner pass for it while a helper thread renews the lease,
// and records done or failed; with no job it is a plain scheduled pass. If this process dies the
// lease lapses and another instance claims and finishes the job. job.started and job.finished are
// published for whoever follows. Called by one thread (the daemon).
#pragma once
#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include "shared/bus/publisher.hpp"
#include "shared/core/clock.hpp"
#include "shared/db/repositories.hpp"
#include "shared/worker/worker.hpp"

namespace glint::worker {

class JobWorker final : public Worker {
 public:
  // node: jobs targeted at another node ("node:N") are left for that node's worker.
  JobWorker(Worker& inner, db::JobRepository& jobs, bus::Publisher& events, std::string node, std::string owner,
            std::chrono::seconds lease, log::Logger logger);
  std::string name() const override { return inner_.name(); }
  Expected<PassResult> run_once(const PassContext& ctx) override;
  // The job of the pass in progress (the inner worker reads its target), if any.
  const std::optional<db::JobRow>& current_job() const { return job_; }

 private:
  Worker& inner_;
  db::JobRepository& jobs_;
  bus::Publisher& events_;
  const std::string node_;
  const std::string owner_;
  const std::chrono::seconds lease_;
  log::Logger log_;
  std::optional<db::JobRow> job_;
};

}  // namespace glint::worker
