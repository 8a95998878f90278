// Keeps this storage node's row in the nodes table: applies migrations, registers at start and
// refreshes capacity/free/heartbeat every interval on its own thread. A database outage is a
// warning and a metric; the node keeps serving and retries. Every kSweepEvery it also removes
// temp files no live upload has written for stale_temp_after. start()/stop() from one thread.
#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "shared/blob/blob_store.hpp"
#include "shared/db/pool.hpp"
#include "shared/db/repositories.hpp"
#include "shared/log/log.hpp"
#include "workers/store/store_metrics.hpp"

namespace glint::store {

class NodeRegistrar {
 public:
  NodeRegistrar(db::Pool& pool, db::NodeRow self, blob::BlobStore& blobs, StoreMetrics& metrics,
                std::chrono::milliseconds interval, std::chrono::milliseconds stale_temp_after, log::Logger logger);
  ~NodeRegistrar();
  void start();
  void stop();
  // One step (migrate if needed, register or heartbeat); exposed for tests.
  Status tick();

 private:
  void loop();

  db::Pool& pool_;
  std::unique_ptr<db::NodeRepository> repo_;
  db::NodeRow self_;
  blob::BlobStore& blobs_;
  StoreMetrics& metrics_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds stale_temp_after_;
  std::chrono::steady_clock::time_point last_sweep_ = std::chrono::steady_clock::now();
  log::Logger log_;
  bool migrated_ = false;
  bool registered_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace glint::store
