// glint-replicator's pass on one storage node: converge every image with data to R ok replicas on
// the nodes placement assigns among the nodes that count. Each node only pulls what it should
// hold and removes only its own excess copies (so nodes never duplicate work), fewest good copies
// first, with `concurrency` copies in flight paced by the bytes/s bucket. An idle pass reads the
// change feed since its checkpoint (O(changes)); a changed cluster view (node down past the
// grace period, up, added, draining, weights, a rebalance) makes the next pass a full scan.
// Operator jobs: "image:ID" (verify every replica of one image and repair it), "rebalance",
// "node:N;drain" (on N: until N holds nothing). Called by one thread at a time (the daemon's).
#pragma once
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "shared/bus/publisher.hpp"
#include "shared/core/clock.hpp"
#include "shared/db/repositories.hpp"
#include "shared/metrics/metrics.hpp"
#include "shared/peer/blob_peer.hpp"
#include "shared/worker/worker.hpp"
#include "workers/replicator/plan.hpp"

namespace glint::replicator {

struct ReplicatorOptions {
  std::string node;
  size_t replicas = 3;
  std::chrono::milliseconds replicate_after_down{std::chrono::minutes(10)};
  bool dry_run = false;
  int concurrency = 1;
  size_t page = 500;
  std::chrono::milliseconds job_poll{1000};                  // operator jobs re-check this often
  std::chrono::milliseconds repair_deadline{std::chrono::minutes(10)};
};

struct Repositories {
  db::NodeRepository& nodes;
  db::ReplicaRepository& replicas;
  db::HealingRepository& heal;
};

class Replicator final : public worker::Worker {
 public:
  Replicator(ReplicatorOptions opts, Repositories db, peer::BlobPeer& peer, bus::Publisher& events,
             metrics::Metrics& metrics, const Clock& clock);
  std::string name() const override { return "replicator"; }
  Expected<worker::PassResult> run_once(const worker::PassContext& ctx) override;

 private:
  struct Work {
    db::ImageCopies image;
    Decision decision;
  };
  struct Cluster {
    ClusterView view;
    std::vector<db::NodeRow> rows;
  };
  enum class Outcome { done, failed, stopped };

  Expected<Cluster> cluster();
  Expected<worker::PassResult> converge(const worker::PassContext& ctx, bool force_full);
  // Decisions for a batch of image ids, appended to `work`.
  Status plan_batch(const std::vector<std::string>& ids, const Cluster& c, std::vector<Work>& work);
  // Runs the work with `concurrency` threads; returns the ids that failed.
  std::vector<std::string> execute(std::vector<Work>& work, const Cluster& c, const worker::PassContext& ctx,
                                   worker::PassResult& out);
  Outcome pull(const Work& w, const Cluster& c, const worker::PassContext& ctx, uint64_t& bytes);
  Outcome remove_excess(const Work& w, const Cluster& c, const worker::PassContext& ctx);
  std::optional<peer::Endpoint> endpoint(const Cluster& c, const std::string& node) const;
  void mark_bad(const std::string& image_id, const std::string& node, const std::string& state,
                const worker::PassContext& ctx);

  // Operator jobs (replicator_jobs.cpp).
  Expected<worker::PassResult> repair(const std::string& image_id, const worker::PassContext& ctx);
  Expected<worker::PassResult> rebalance(const worker::PassContext& ctx);
  Expected<worker::PassResult> drain(const worker::PassContext& ctx);
  // Passes until left() reports nothing left, with progress; for rebalance and drain.
  Expected<worker::PassResult> converge_until_none(const worker::PassContext& ctx,
                                                   const std::function<Expected<size_t>()>& left);
  Expected<size_t> misplaced(const Cluster& c);
  Expected<size_t> held_here();

  ReplicatorOptions opts_;
  Repositories db_;
  peer::BlobPeer& peer_;
  bus::Publisher& events_;
  const Clock& clock_;
  prometheus::Counter& copied_;
  prometheus::Counter& copied_bytes_;
  prometheus::Counter& removed_;
  prometheus::Counter& failed_;
  prometheus::Gauge& pending_;
  prometheus::Counter& full_scans_;
};

}  // namespace glint::replicator
