// CacheRepository in memory, with PostgreSQL's answers (entries by node, LRU order, queue per node)
// and a fault switch: `down` makes every call fail as a database that is unreachable. Thread-safe.
#pragma once
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "shared/db/cache_repository.hpp"

namespace glint::testing {

class FakeCacheRepository final : public db::CacheRepository {
 public:
  std::atomic<bool> down{false};

  Status register_node(const std::string& node, const std::string&) override {
    std::lock_guard lk(mu_);
    if (down) return unavailable();
    nodes_.insert(node);
    return {};
  }
  Expected<std::vector<std::string>> nodes() override {
    std::lock_guard lk(mu_);
    if (down) return unavailable().error();
    return std::vector<std::string>(nodes_.begin(), nodes_.end());
  }
  Status record_entry(const std::string& node, const std::string& id, uint64_t size, const std::string& digest) override {
    std::lock_guard lk(mu_);
    if (down) return unavailable();
    db::CacheEntryRow r;
    r.node = node;
    r.image_id = id;
    r.size = size;
    r.digest = digest;
    r.last_access = tick();
    entries_[{node, id}] = r;
    queue_.erase({node, id});
    evictions_.erase({node, id});
    return {};
  }
  Status record_hit(const std::string& node, const std::string& id) override {
    std::lock_guard lk(mu_);
    if (down) return unavailable();
    if (auto it = entries_.find({node, id}); it != entries_.end()) {
      ++it->second.hits;
      it->second.last_access = tick();
    }
    return {};
  }
  Status remove_entry(const std::string& node, const std::string& id) override {
    std::lock_guard lk(mu_);
    if (down) return unavailable();
    entries_.erase({node, id});
    return {};
  }
  Expected<std::vector<db::CacheEntryRow>> entries(const std::string& node) override {
    std::lock_guard lk(mu_);
    if (down) return unavailable().error();
    std::vector<db::CacheEntryRow> out;
    for (const auto& [k, r] : entries_)
      if (k.first == node) out.push_back(r);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.last_access < b.last_access; });
    return out;
  }
  Expected<std::vector<std::string>> nodes_caching(const std::string& id) override {
    std::lock_guard lk(mu_);
    if (down) return unavailable().error();
    std::vector<std::string> out;
    for (const auto& [k, r] : entries_)
      if (k.second == id) out.push_back(k.first);
    return out;
  }
  Expected<size_t> enqueue_everywhere(const std::string& id) override {
    std::lock_guard lk(mu_);
    if (down) return unavailable().error();
    size_t n = 0;
    for (const auto& node : nodes_)
      if (!entries_.count({node, id}) && queue_.emplace(std::make_pair(node, id), tick()).second) ++n;
    return n;
  }
  Status enqueue(const std::string& node, const std::string& id) override {
    std::lock_guard lk(mu_);
    if (down) return unavailable();
    queue_.emplace(std::make_pair(node, id), tick());
    return {};
  }
  Expected<size_t> enqueue_evictions(const std::string& node, const std::string& id) override {
    std::lock_guard lk(mu_);
    if (down) return unavailable().error();
    size_t n = 0;
    for (const auto& [k, r] : entries_) {
      if ((!node.empty() && k.first != node) || (!id.empty() && k.second != id)) continue;
      queue_[k] = tick();
      evictions_.insert(k);
      ++n;
    }
    return n;
  }
  Expected<std::vector<db::CacheQueueRow>> queued(const std::string& node) override {
    std::lock_guard lk(mu_);
    if (down) return unavailable().error();
    std::vector<db::CacheQueueRow> out;
    for (const auto& [k, t] : queue_)
      if (k.first == node)
        out.push_back({k.first, k.second, t, evictions_.count(k) ? db::CacheWork::evict : db::CacheWork::fetch});
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.queued_at < b.queued_at; });
    return out;
  }
  Status dequeue(const std::string& node, const std::string& id) override {
    std::lock_guard lk(mu_);
    if (down) return unavailable();
    queue_.erase({node, id});
    evictions_.erase({node, id});
    return {};
  }
  Expected<size_t> clear_queue(const std::string& node) override {
    std::lock_guard lk(mu_);
    if (down) return unavailable().error();
    size_t n = 0;
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->first.first == node && !evictions_.count(it->first)) {
        it = queue_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }

 private:
  static Status unavailable() { return Status(Errc::unavailable, "database unreachable"); }
  // A strictly increasing clock, so LRU order is the order of calls.
  db::Timestamp tick() { return db::Timestamp(std::chrono::seconds(++clock_)); }
  std::mutex mu_;
  int64_t clock_ = 0;
  std::set<std::string> nodes_;
  std::map<std::pair<std::string, std::string>, db::CacheEntryRow> entries_;
  std::map<std::pair<std::string, std::string>, db::Timestamp> queue_;
  std::set<std::pair<std::string, std::string>> evictions_;  // queue rows that are evictions
};

}  // namespace glint::testing
