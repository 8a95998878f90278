// glint-reaper's pass over one storage node: the deletions that are due. Delayed deletes
// (pending_delete older than scrub_time) are first claimed in the database — from then on a
// restore is refused — and then lose this node's copies; an image whose copies are all gone
// becomes deleted. Copies of deleted and killed images go too, and orphans (files no row names)
// older than orphan_grace, each re-checked against the database just before it goes; rows of
// images deleted longer than purge_after are purged (their ids stay taken); saving images whose
// upload stopped saying it is alive (its API died) go back to queued. Which
// copies may go is one rule, reapable() in shared/core/states.hpp: never a copy of an image that
// keeps data, never one of an image being uploaded. Every deletion takes an item of the
// schedule's rate; with dry_run the pass only says what would go and why. Called by one thread
// at a time (the daemon's).
#pragma once
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "shared/core/clock.hpp"
#include "shared/db/repositories.hpp"
#include "shared/metrics/metrics.hpp"
#include "shared/peer/blob_peer.hpp"
#include "shared/worker/worker.hpp"

namespace glint::reaper {

struct ReaperOptions {
  std::string node;
  std::chrono::milliseconds scrub_time{0};  // Glance's default: a delayed delete is due at once
  std::chrono::milliseconds orphan_grace{std::chrono::hours(24 * 7)};
  std::chrono::milliseconds purge_after{std::chrono::hours(24 * 30)};  // 0: rows are never purged
  std::chrono::milliseconds stale_upload_after{std::chrono::minutes(15)};
  bool dry_run = false;
  size_t page = 500;    // rows per database round trip
  int concurrency = 1;  // copies deleted at once (the schedule's concurrency)
};

struct ReaperRepositories {
  db::ReaperRepository& reaper;
  db::NodeRepository& nodes;
};

class Reaper final : public worker::Worker {
 public:
  Reaper(ReaperOptions opts, ReaperRepositories repos, peer::BlobPeer& peer, metrics::Metrics& metrics,
         const Clock& clock);
  std::string name() const override { return "reaper"; }
  Expected<worker::PassResult> run_once(const worker::PassContext& ctx) override;

 private:
  // Tallies of one pass.
  struct Tally {  // updated by the deleting threads
    std::atomic<uint64_t> deleted = 0, failed = 0, bytes = 0, would = 0, purged = 0;
  };
  // Rows of copies whose files went, collected by the deleting threads.
  struct Rows {
    std::mutex mu;
    std::vector<db::ReplicaRow> rows;  // under mu
  };
  Status reap_leftovers(const peer::Endpoint& self, const worker::PassContext& ctx, Tally& t);
  Status reap_orphans(const peer::Endpoint& self, const worker::PassContext& ctx, Tally& t);
  bool remove_copy(const peer::Endpoint& self, const db::Leftover& l, const worker::PassContext& ctx, Tally& t,
                   Rows& gone);
  void count_deleted(const std::string& id, const char* kind, uint64_t bytes, const worker::PassContext& ctx, Tally& t);
  Status purge_rows(const worker::PassContext& ctx, Tally& t);
  void update_backlog(const worker::PassContext& ctx);

  ReaperOptions opts_;
  ReaperRepositories repos_;
  peer::BlobPeer& peer_;
  const Clock& clock_;
  prometheus::Family<prometheus::Counter>& deleted_;
  prometheus::Counter& bytes_;
  prometheus::Gauge& backlog_;
  prometheus::Gauge& oldest_overdue_;
};

}  // namespace glint::reaper
