// The image cache's bookkeeping in PostgreSQL: which API nodes keep a cache, which images each
// holds (complete, verified files only) and each node's queue of images to fetch. Files on an API
// node's disk are the cache; these rows are what the cluster knows of them ("which nodes cache
// image X" is one query). Pg implementation: one short transaction per call. Thread-safe.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shared/core/result.hpp"
#include "shared/db/pool.hpp"
#include "shared/db/rows.hpp"

namespace glint::db {

struct CacheEntryRow {
  std::string node;
  std::string image_id;
  uint64_t size = 0;
  std::string digest;  // XXH3-128 hex of the cached bytes (equal to the replicas' when recorded)
  uint64_t hits = 0;
  Timestamp last_access{};
  Timestamp created_at{};
};

// What a node's prefetcher is asked to do with an image: fetch it (PUT /v2/cache/{id}, glintctl
// cache queue) or drop its entry (glintctl cache clear: the files are on that node's disk).
enum class CacheWork { fetch, evict };

struct CacheQueueRow {
  std::string node;
  std::string image_id;
  Timestamp queued_at{};
  CacheWork work = CacheWork::fetch;
};

class CacheRepository {
 public:
  virtual ~CacheRepository() = default;
  // Inserts or refreshes an API node that keeps a cache (last_seen = now()).
  virtual Status register_node(const std::string& node, const std::string& url) = 0;
  virtual Expected<std::vector<std::string>> nodes() = 0;
  // A complete entry (replaces an older record of the same image on that node: hits restart).
  virtual Status record_entry(const std::string& node, const std::string& image_id, uint64_t size,
                              const std::string& digest) = 0;
  // One more download served from the entry (hits + 1, last_access = now()).
  virtual Status record_hit(const std::string& node, const std::string& image_id) = 0;
  // ok also when there was no row.
  virtual Status remove_entry(const std::string& node, const std::string& image_id) = 0;
  // A node's entries, least recently used first (the pruner's order).
  virtual Expected<std::vector<CacheEntryRow>> entries(const std::string& node) = 0;
  // The nodes holding a complete entry of the image, by name.
  virtual Expected<std::vector<std::string>> nodes_caching(const std::string& image_id) = 0;
  // Queues the image on every registered node that does not cache it yet; returns how many.
  virtual Expected<size_t> enqueue_everywhere(const std::string& image_id) = 0;
  virtual Status enqueue(const std::string& node, const std::string& image_id) = 0;
  // Asks for the entries of `image_id` (empty: every image) on `node` (empty: every node) to be
  // dropped by their nodes' prefetchers (a pending fetch of the same image becomes the eviction);
  // returns how many entries are asked for.
  virtual Expected<size_t> enqueue_evictions(const std::string& node, const std::string& image_id) = 0;
  // A node's queue (fetches and evictions), oldest first.
  virtual Expected<std::vector<CacheQueueRow>> queued(const std::string& node) = 0;
  virtual Status dequeue(const std::string& node, const std::string& image_id) = 0;
  // Empties a node's queue of fetches (asked-for evictions stay); returns how many rows went.
  virtual Expected<size_t> clear_queue(const std::string& node) = 0;
};

std::unique_ptr<CacheRepository> make_cache_repository(Pool& pool);

}  // namespace glint::db
