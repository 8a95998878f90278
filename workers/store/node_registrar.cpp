#include "workers/store/node_registrar.hpp"

#include "shared/db/migrations.hpp"

namespace glint::store {

NodeRegistrar::NodeRegistrar(db::Pool& pool, db::NodeRow self, blob::BlobStore& blobs, StoreMetrics& metrics,
                             std::chrono::milliseconds interval, std::chrono::milliseconds stale_temp_after,
                             log::Logger logger)
    : pool_(pool),
      repo_(db::make_node_repository(pool)),
      self_(std::move(self)),
      blobs_(blobs),
      metrics_(metrics),
      interval_(interval),
      stale_temp_after_(stale_temp_after),
      log_(std::move(logger)) {}

NodeRegistrar::~NodeRegistrar() { stop(); }

Status NodeRegistrar::tick() {
  if (!migrated_) {
    auto applied = db::migrate(pool_);
    if (!applied) return applied.error();
    if (*applied > 0) log_.info("db.migrated", {{"applied", *applied}});
    migrated_ = true;
  }
  const auto space = blobs_.space();
  metrics_.free_bytes.Set(static_cast<double>(space.free));
  metrics_.capacity_bytes.Set(static_cast<double>(space.capacity));
  if (!registered_) {
    db::NodeRow row = self_;
    row.capacity = space.capacity;
    row.free = space.free;
    if (Status s = repo_->register_node(row); !s) return s;
    registered_ = true;
    log_.info("node.registered", {{"address", self_.address}, {"zone", self_.zone}});
    return {};
  }
  Status s = repo_->heartbeat(self_.name, space.capacity, space.free);
  if (!s) {
    // The database may have been replaced or the row removed: redo migration and registration
    // (both idempotent) on the next tick.
    migrated_ = false;
    registered_ = false;
  }
  return s;
}

void NodeRegistrar::start() {
  thread_ = std::thread([this] { loop(); });
}

void NodeRegistrar::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NodeRegistrar::loop() {
  constexpr auto kSweepEvery = std::chrono::minutes(10);
  for (;;) {
    if (const auto now = std::chrono::steady_clock::now(); now - last_sweep_ >= kSweepEvery) {
      last_sweep_ = now;
      const auto age = std::chrono::duration_cast<std::chrono::seconds>(stale_temp_after_);
      if (size_t n = blobs_.cleanup_stale_temp(age); n > 0) log_.info("store.stale_temp_removed", {{"files", n}});
    }
    Status s = tick();
    auto wait = interval_;
    if (!s) {
      metrics_.db_errors.Increment();
      log_.warn("node.heartbeat_failed", {{"error", s.message()}});
      wait = std::min(interval_, std::chrono::milliseconds(2000));  // retry sooner while unregistered
    }
    std::unique_lock<std::mutex> lk(mu_);
    if (cv_.wait_for(lk, wait, [this] { return stopping_; })) return;
  }
}

}  // namespace glint::store
