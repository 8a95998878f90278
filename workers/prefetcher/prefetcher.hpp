// glint-prefetcher: keeps one API node's image cache. Each pass fills it from the node's queue
// (active images only: "not active, not caching", as Glance), drops entries whose image is no
// longer active, records files the catalog does not know, removes stale temp and quarantined
// files, and prunes least recently used entries down to [cache] max_size. Runs beside glint-api
// on the same cache directory (blob store multi_process). Single-threaded (the daemon's).
#pragma once
#include <string>

#include "shared/cache/image_cache.hpp"
#include "shared/core/clock.hpp"
#include "shared/db/repositories.hpp"
#include "shared/peer/blob_peer.hpp"
#include "shared/placement/cluster_view.hpp"
#include "shared/worker/worker.hpp"

namespace glint::prefetcher {

class Prefetcher final : public worker::Worker {
 public:
  Prefetcher(placement::ViewOptions view, cache::ImageCache& cache, db::ImageRepository& images,
             db::ReplicaRepository& replicas, db::NodeRepository& nodes, peer::BlobPeer& peer, const Clock& clock);
  std::string name() const override { return "prefetcher"; }
  Expected<worker::PassResult> run_once(const worker::PassContext& ctx) override;

 private:
  // The node's queue, oldest first; a failed fetch stays queued for the next pass.
  Status fill_queue(const worker::PassContext& ctx, worker::PassResult& r);
  // Entries of images that are no longer active go; files without a row get one.
  size_t clean_entries(const worker::PassContext& ctx);

  const placement::ViewOptions view_;
  cache::ImageCache& cache_;
  db::CacheRepository& rows_;
  db::ImageRepository& images_;
  db::ReplicaRepository& replicas_;
  db::NodeRepository& nodes_;
  peer::BlobPeer& peer_;
  const Clock& clock_;
};

}  // namespace glint::prefetcher
