// glint-replicator's pass on one storage node: converge every image with data to R ok replicas on
// the nodes placement assigns (placement::ClusterView holds the rules). Each node only pulls what
// it should hold and removes only its own excess copies (so nodes never duplicate work), fewest
// good copies first, with `concurrency` copies in flight paced by the bytes/s bucket. An idle pass
// reads the change feed since its checkpoint (O(changes)); a changed cluster view (node down past
// the grace period, up, added, draining, weights, a rebalance) and the safety interval make a
// pass a full scan. Operator jobs: image:ID (verify every replica of one image and repair it),
// rebalance, node:N;drain (on N: until N holds nothing); a job that stops making progress makes
// every replicator scan everything. Called by one thread at a time (the daemon's).
#pragma once
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "shared/bus/publisher.hpp"
#include "shared/core/clock.hpp"
#include "shared/db/repositories.hpp"
#include "shared/metrics/metrics.hpp"
#include "shared/peer/blob_peer.hpp"
#include "shared/placement/cluster_view.hpp"
#include "shared/worker/worker.hpp"
#include "workers/replicator/plan.hpp"

namespace glint::replicator {

struct ReplicatorOptions {
  std::string node;
  size_t replicas = 3;
  std::chrono::milliseconds replicate_after_down{std::chrono::minutes(10)};
  std::chrono::milliseconds heartbeat_timeout{std::chrono::seconds(30)};  // [cluster] node_down_after
  std::chrono::milliseconds full_scan_interval{std::chrono::hours(24)};
  int stall_polls = 3;  // job polls without progress before every replicator is made to scan
  // At most one such cluster-wide scan per this interval from this replicator (a job waiting out
  // a grace period must not make every node scan every few seconds).
  std::chrono::milliseconds stall_scan_interval{std::chrono::minutes(10)};
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
  // Where the feed reader stands, when it last scanned everything, and what to retry.
  struct Checkpoint {
    db::FeedPosition at;
    std::string epoch;
    std::vector<std::string> retry;
    db::Timestamp full_at{};
  };
  enum class Outcome { done, failed, raced, stopped };
  using View = placement::ClusterView;

  Expected<View> cluster();
  Expected<std::optional<Checkpoint>> load_checkpoint();
  Expected<worker::PassResult> converge(const worker::PassContext& ctx, bool force_full);
  // The ids to plan: every image (full) or the feed since the checkpoint plus its retries.
  Expected<std::vector<std::string>> changed_ids(const Checkpoint& cp, db::FeedPosition& at);
  Status plan_full(const worker::PassContext& ctx, const View& v, std::vector<Work>& work, size_t& scanned);
  // Decisions for a batch of image ids, appended to `work`.
  Status plan_batch(const std::vector<std::string>& ids, const View& v, std::vector<Work>& work);
  // Runs the work with `concurrency` threads; returns the ids that failed.
  std::vector<std::string> execute(std::vector<Work>& work, const View& v, const worker::PassContext& ctx,
                                   worker::PassResult& out);
  Outcome pull(const Work& w, const View& v, const worker::PassContext& ctx, uint64_t& bytes);
  // The local store already holds bytes for the image (a PUT met 409).
  Outcome resolve_existing(const Work& w, const peer::Endpoint& self, const std::string& digest,
                           const std::function<Expected<peer::StoredBlob>(const peer::PutOptions&)>& put,
                           const worker::PassContext& ctx);
  Outcome record(const Work& w, const peer::Endpoint& self, const std::string& digest, const worker::PassContext& ctx);
  // Whether `node`'s copy reads in full (every block verified by the node) as `digest`.
  bool reads_as(const peer::Endpoint& node, const db::ImageCopies& img, const std::string& digest,
                const worker::PassContext& ctx);
  Outcome remove_excess(const Work& w, const worker::PassContext& ctx);
  std::optional<peer::Endpoint> endpoint(const View& v, const std::string& node) const;
  void mark_bad(const db::ReplicaRow& seen, ReplicaState state, const worker::PassContext& ctx);
  void lost_race(const std::string& image_id, const std::string& what, const Status& s, const worker::PassContext& ctx);

  // Operator jobs (replicator_jobs.cpp).
  // What one full read of a copy found.
  struct CopyCheck {
    db::ReplicaRow row;
    std::string digest;   // XXH3-128 hex of the bytes read
    std::string os_hash;  // empty when not computed
  };
  Expected<worker::PassResult> repair(const std::string& image_id, const worker::PassContext& ctx);
  // Reads one copy in full (blocks verified by its node); nullopt when it could not be read to the
  // end (a corrupt or missing copy is marked so).
  std::optional<CopyCheck> check_copy(const db::ImageCopies& img, const db::ReplicaRow& r, const View& v,
                                      bool with_os_hash, const worker::PassContext& ctx, worker::PassResult& out,
                                      size_t& bad);
  // Marks the copies that disagree with the catalog when another copy agrees; flags the image
  // (and changes nothing) when none does. false when flagged.
  bool judge(const db::ImageCopies& img, const std::vector<CopyCheck>& checks, bool with_os_hash,
             const worker::PassContext& ctx, worker::PassResult& out, size_t& good, size_t& bad);
  // Converges one image and waits until it is in place (repair_deadline); false if it is not.
  bool wait_in_place(const std::string& image_id, const worker::PassContext& ctx);
  Expected<worker::PassResult> rebalance(const worker::PassContext& ctx);
  Expected<worker::PassResult> drain(const worker::PassContext& ctx);
  // Passes until left() reports nothing left, with progress; for rebalance and drain.
  Expected<worker::PassResult> converge_until_none(const worker::PassContext& ctx,
                                                   const std::function<Expected<size_t>()>& left);
  // A job saw no progress for stall_polls polls: a new generation makes every replicator scan.
  void force_cluster_scan(const std::string& why, const worker::PassContext& ctx);
  Expected<size_t> misplaced(const View& v);
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
  prometheus::Counter& races_lost_;
  prometheus::Counter& stalls_;
  prometheus::Counter& flagged_;
  std::optional<std::chrono::steady_clock::time_point> last_forced_;  // force_cluster_scan
};

}  // namespace glint::replicator
