// The image cache of one API node: whole images in a local blob store (the same crash-safe,
// block-verified files as a storage node's), recorded in PostgreSQL for the cluster. An entry is
// served only while it hashes to the digest the catalog's replicas have now, and every block is
// verified before it is sent. A miss fetches the image once, however many clients ask at the same
// time: the first starts a fetch into the cache's temp file, the others follow that file as it
// grows (single flight). Thread-safe.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "shared/blob/blob_store.hpp"
#include "shared/blob/verified_source.hpp"
#include "shared/db/cache_repository.hpp"
#include "shared/http/message.hpp"
#include "shared/log/log.hpp"
#include "shared/metrics/metrics.hpp"

namespace glint::cache {

// Bytes of an image from the storage nodes, for a miss or after a corrupt block of an entry.
using Upstream = blob::RangeFallback;

struct CacheOptions {
  std::string dir;                              // the blob store's directory
  std::string node;                             // this API node's name in cache_nodes
  std::string url;                              // how operators reach it (recorded, informative)
  bool fill_on_upload = true;                   // the API node taking an upload keeps its bytes
  uint64_t max_size = 10ull << 30;              // soft: the pruner brings the cache back under it
  std::chrono::seconds stall_time{24 * 3600};   // an incomplete file untouched this long is removed
  uint32_t block_size = 1u << 20;
  bool fsync = false;  // every block is verified when read, so a torn file is found, never served
  // A follower waits this long for the fetch to add bytes before it gives up (the fetch has its
  // own timeouts; this only bounds a hang).
  std::chrono::milliseconds follow_timeout{60000};
};

// An image as the catalog has it now: what an entry must hold to be served.
struct CacheKey {
  std::string image_id;
  uint64_t size = 0;
  std::string digest;  // XXH3-128 hex shared by the image's ok replicas
};

// Counters and gauges of one node's cache (glint_cache_*).
struct CacheMetrics {
  explicit CacheMetrics(metrics::Metrics& m);
  prometheus::Counter& hits;
  prometheus::Counter& misses;
  prometheus::Counter& joins;           // misses that followed a fetch already running
  prometheus::Counter& bytes_served;    // bytes sent from cache files
  prometheus::Counter& bytes_fetched;   // bytes read from the storage nodes into the cache
  prometheus::Counter& fills_ok;
  prometheus::Counter& fills_failed;
  prometheus::Counter& invalid;         // entries found corrupt or holding other bytes (removed)
  prometheus::Counter& pruned;
  prometheus::Gauge& entries;
  prometheus::Gauge& size_bytes;
};

class ImageCache {
 public:
  // Opens (creates) the directory, removes temp files a crash left and registers the node.
  static Expected<std::unique_ptr<ImageCache>> open(CacheOptions opts, db::CacheRepository& repo,
                                                    metrics::Metrics& metrics, log::Logger logger);
  ImageCache(CacheOptions opts, std::unique_ptr<blob::BlobStore> store, db::CacheRepository& repo,
             metrics::Metrics& metrics, log::Logger logger);
  ~ImageCache();  // stops fetches in progress (their followers fail) and waits for them
  ImageCache(const ImageCache&) = delete;
  ImageCache& operator=(const ImageCache&) = delete;

  // Bytes [first, last] of a cached copy of `key`, verified block by block; a block found corrupt
  // is quarantined and the rest comes from `upstream`. nullptr when there is no entry, or when the
  // entry holds other bytes than key.digest (it is removed: the image was re-made or re-verified).
  std::unique_ptr<http::BodySource> serve(const CacheKey& key, uint64_t first, uint64_t last, Upstream upstream);

  // A miss: the whole image, streamed as it arrives from a fetch into the cache that the first
  // caller starts (opening the nodes' read on its own thread) and later ones join. nullptr when the
  // cache does not take this image (larger than max_size, no space, the nodes cannot deliver).
  std::unique_ptr<http::BodySource> fetch(const CacheKey& key, Upstream upstream);

  // Fills the cache with `key` and waits for the fetch to end (the prefetcher). ok when cached
  // (also when it already was).
  Status fill(const CacheKey& key, Upstream upstream);

  // Warm on upload: a writer for the bytes of `image_id` as glint-api receives them (nullptr when
  // the cache does not take it: larger than max_size, no room, being written already). The entry
  // is published by finish_upload_fill only with the digest the replicas reported, after the
  // image became active; a writer dropped without it leaves nothing.
  std::unique_ptr<blob::BlobWriter> begin_upload_fill(const std::string& image_id, uint64_t size);
  void finish_upload_fill(std::unique_ptr<blob::BlobWriter> writer, const CacheKey& key);

  // Removes an entry (file and row); ok when there was none.
  Status evict(const std::string& image_id);
  // Removes least recently used entries (by the rows' last access; files without a row first)
  // until the cache holds at most `target` bytes (one walk of the entries for all three figures).
  struct Pruned {
    size_t files = 0;
    uint64_t bytes = 0;       // in the entries removed
    uint64_t size_after = 0;  // bytes in complete entries afterwards
  };
  Pruned prune(uint64_t target);
  // Removes temp and quarantined files untouched for stall_time; returns how many.
  size_t clean_stale();
  // The ids of complete entries on disk (the truth about this node's cache).
  std::vector<std::string> cached_ids();
  // Bytes in complete entries.
  uint64_t size_bytes();
  const CacheOptions& options() const { return opts_; }
  db::CacheRepository& repository() { return repo_; }
  blob::BlobStore& store() { return *store_; }

 private:
  struct Flight;
  class FollowSource;
  // The running fetch of `key`, started if none runs; nullptr when none can start.
  std::shared_ptr<Flight> join_or_start(const CacheKey& key, Upstream upstream, bool& joined);
  void run_flight(std::shared_ptr<Flight> f, std::unique_ptr<http::BodySource> src);
  // The fetch is over (state set, followers woken, no longer joinable).
  void end_flight(const std::shared_ptr<Flight>& f, const Status& st);
  // A cached file found bad (corrupt block, other digest): out of the cache and counted.
  void drop_invalid(const std::string& image_id, uint64_t file_id, const std::string& why);
  void refresh_gauges();
  // Complete entries on disk with their sizes (one walk and a sidecar read per entry).
  std::map<std::string, uint64_t> on_disk();

  const CacheOptions opts_;
  std::unique_ptr<blob::BlobStore> store_;
  db::CacheRepository& repo_;
  CacheMetrics m_;
  log::Logger log_;
  std::mutex mu_;
  std::condition_variable idle_;
  std::map<std::string, std::shared_ptr<Flight>> flights_;  // by image id, while running
  size_t running_ = 0;                                      // fetch threads alive
  bool stopping_ = false;
};

}  // namespace glint::cache
