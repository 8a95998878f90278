#include "shared/worker/job_worker.hpp"

#include <thread>

#include <nlohmann/json.hpp>

namespace glint::worker {

JobWorker::JobWorker(Worker& inner, db::JobRepository& jobs, bus::Publisher& events, std::string node,
                     std::string owner, std::chrono::seconds lease, log::Logger logger)
    : inner_(inner), jobs_(jobs), events_(events), node_(std::move(node)), owner_(std::move(owner)), lease_(lease), log_(std::move(logger)) {}

Expected<PassResult> JobWorker::run_once(const PassContext& ctx) {
  auto claimed = jobs_.claim(inner_.name(), owner_, lease_, node_);
  if (!claimed) return claimed.error();  // database trouble: the daemon retries next time
  job_ = std::move(*claimed);
  if (!job_) return inner_.run_once(ctx);  // a plain scheduled pass
  const std::string id = job_->id;
  log_.info("job.claimed", {{"job", id}, {"kind", job_->kind}, {"target", job_->target.value_or("")}});
  events_.publish("job.started", {{"job", id}, {"kind", job_->kind}, {"owner", owner_}});

  // The pass stops when the daemon stops or the lease is lost (cancelled, or taken after expiry).
  StopSource pass_stop;
  std::atomic<double> progress{0};
  std::atomic<bool> lost{false};
  StopSource keeper_stop;
  std::thread keeper([&] {
    while (keeper_stop.token().wait_for(lease_ / 3) == WaitResult::deadline) {
      if (ctx.stop.stop_requested()) pass_stop.stop();
      if (Status s = jobs_.renew(id, owner_, lease_, progress.load()); s.code() == Errc::conflict) {
        lost = true;
        pass_stop.stop();
        return;
      }
    }
  });
  PassContext inner_ctx = ctx;
  inner_ctx.stop = pass_stop.token();
  inner_ctx.progress = [&](uint64_t done, uint64_t total) {
    if (total > 0) progress = static_cast<double>(done) / static_cast<double>(total);
    ctx.report_progress(done, total);
  };
  // A target nobody can act on fails the job instead of running some other pass.
  auto target = JobTarget::parse(job_->target.value_or(""));
  Expected<PassResult> result = target ? Expected<PassResult>(PassResult{}) : Expected<PassResult>(target.error());
  if (target) {
    inner_ctx.job_target = *target;
    result = inner_.run_once(inner_ctx);
  }
  keeper_stop.stop();
  keeper.join();
  job_.reset();
  if (lost) {
    log_.warn("job.lease_lost", {{"job", id}});
    return Error{Errc::cancelled, "lease on job " + id + " lost"};
  }
  if (ctx.stop.stop_requested()) return result;  // stopping: the lease lapses and another instance resumes
  nlohmann::json out = {{"owner", owner_}};
  if (result) {
    out["items"] = result->items;
    out["failed"] = result->failed;
    out["bytes"] = result->bytes;
    if (!result->summary.empty()) out["summary"] = result->summary;
  } else {
    out["error"] = result.error().message;
  }
  const std::string state = result && result->failed == 0 ? "done" : "failed";
  Status s = jobs_.finish(id, owner_, state, out.dump());
  if (!s) {
    log_.warn("job.finish_failed", {{"job", id}, {"error", s.message()}});
  } else {
    log_.info("job.finished", {{"job", id}, {"state", state}});
    events_.publish("job.finished", {{"job", id}, {"kind", inner_.name()}, {"state", state}});
  }
  return result;
}

}  // namespace glint::worker
