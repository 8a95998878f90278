// The metadata database in memory, for the healing workers: nodes, replica rows (compare-and-set,
// versions), images, jobs, and a HealingRepository whose change feed models PostgreSQL's
// transactions as the real query sees them. Every replica or image change appends an entry with a
// transaction id and a sequence taken at once; `commit_delay` can make it commit ticks later
// (a writer that commits late), and readers get only committed entries older than every open
// transaction, advancing by (xid, seq) — the same rule as PgHealingRepository::changes.
// Thread-safe (lock order: catalog, then replicas).
#pragma once
#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "tests/support/fake_cluster.hpp"
#include "tests/support/fake_jobs.hpp"

namespace glint::testing {

class FakeCatalog {
 public:
  FakeCatalog() : heal_(*this) {
    replicas.keeps_data = [this](const std::string& id) {
      std::lock_guard lk(mu_);
      auto it = images_.find(id);
      return it != images_.end() && keeps_data(it->second.status);
    };
    replicas.on_change = [this](const std::string& id) { append(id); };
  }

  FakeNodeRepository nodes;
  FakeReplicaRepository replicas;
  FakeJobRepository jobs;
  db::HealingRepository& heal() { return heal_; }

  // Images (the replica rows are in `replicas`).
  void add_image(const db::ImageCopies& img) {
    {
      std::lock_guard lk(mu_);
      db::ImageCopies row = img;
      row.replicas.clear();
      images_[img.id] = row;
    }
    append(img.id);
  }
  void set_status(const std::string& id, ImageStatus s) {
    {
      std::lock_guard lk(mu_);
      images_[id].status = s;
    }
    append(id);
  }
  // The catalog's word about the bytes changes (a database restored from an older backup).
  void set_os_hash(const std::string& id, const std::string& value) {
    std::lock_guard lk(mu_);
    images_[id].os_hash_value = value;
  }
  std::vector<std::string> image_ids() {
    std::lock_guard lk(mu_);
    std::vector<std::string> out;
    for (const auto& [id, _] : images_) out.push_back(id);
    return out;
  }
  std::optional<db::ImageCopies> image(const std::string& id) {
    auto c = heal_.copies({id});
    if (!c || c->empty()) return std::nullopt;
    return c->front();
  }

  // Ticks until a new feed entry commits (0: at once). Default: at once.
  std::function<int()> commit_delay;
  // Advances the feed's clock: entries whose commit time has come commit.
  void tick() {
    std::lock_guard lk(mu_);
    ++tick_;
    for (auto& e : feed_)
      if (!e.committed && e.commit_at <= tick_) e.committed = true;
  }
  size_t uncommitted() {
    std::lock_guard lk(mu_);
    size_t n = 0;
    for (const auto& e : feed_) n += !e.committed;
    return n;
  }

 private:
  struct Entry {
    db::FeedPosition at;
    std::string image;
    int64_t commit_at = 0;
    bool committed = true;
  };

  void append(const std::string& id) {
    const int delay = commit_delay ? commit_delay() : 0;
    std::lock_guard lk(mu_);
    Entry e;
    e.at = {++xid_, ++seq_};
    e.image = id;
    e.commit_at = tick_ + delay;
    e.committed = delay <= 0;
    feed_.push_back(std::move(e));
  }
  // The oldest transaction still open (mu_ held): nothing at or after it is settled.
  int64_t xmin_locked() const {
    int64_t x = xid_ + 1;
    for (const auto& e : feed_)
      if (!e.committed) x = std::min(x, e.at.xid);
    return x;
  }

  class Heal final : public db::HealingRepository {
   public:
    explicit Heal(FakeCatalog& c) : c_(c) {}
    Expected<std::vector<db::FeedEntry>> changes(db::FeedPosition after, size_t limit) override {
      std::lock_guard lk(c_.mu_);
      const int64_t xmin = c_.xmin_locked();
      std::vector<db::FeedEntry> out;
      for (const auto& e : c_.feed_)
        if (e.committed && e.at > after && e.at.xid < xmin) out.push_back({e.at, e.image});
      std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
      if (out.size() > limit) out.resize(limit);
      return out;
    }
    Expected<db::FeedPosition> feed_head() override {
      std::lock_guard lk(c_.mu_);
      return db::FeedPosition{c_.xmin_locked(), 0};
    }
    Status prune_changes(std::chrono::seconds) override { return {}; }
    Expected<std::vector<std::string>> images_with_data(const std::string& after_id, size_t limit) override {
      std::lock_guard lk(c_.mu_);
      std::vector<std::string> out;
      for (auto it = c_.images_.upper_bound(after_id); it != c_.images_.end() && out.size() < limit; ++it)
        if (keeps_data(it->second.status)) out.push_back(it->first);
      return out;
    }
    Expected<std::vector<db::ImageCopies>> copies(const std::vector<std::string>& ids) override {
      std::lock_guard lk(c_.mu_);
      std::vector<db::ImageCopies> out;
      for (const auto& id : std::set<std::string>(ids.begin(), ids.end())) {
        auto it = c_.images_.find(id);
        if (it == c_.images_.end()) continue;
        db::ImageCopies img = it->second;
        img.replicas = *c_.replicas.for_image(id);
        out.push_back(std::move(img));
      }
      return out;
    }
    Expected<std::vector<db::ReplicaRow>> node_replicas(const std::string& node, const std::string& after_id,
                                                        size_t limit) override {
      std::vector<db::ReplicaRow> out;
      const auto rows = c_.replicas.for_node(node).value();
      for (auto& r : rows)
        if (r.image_id > after_id && out.size() < limit) out.push_back(r);
      return out;
    }
    Expected<std::vector<db::AuditItem>> due_for_audit(const std::string& node, db::Timestamp before,
                                                       size_t limit) override {
      std::vector<db::ReplicaRow> rows;
      const auto all = c_.replicas.for_node(node).value();
      for (auto& r : all)
        if (r.state == ReplicaState::ok && (!r.verified_at || *r.verified_at < before)) rows.push_back(r);
      std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
        if (a.verified_at.has_value() != b.verified_at.has_value()) return !a.verified_at.has_value();
        if (a.verified_at != b.verified_at) return *a.verified_at < *b.verified_at;
        return a.image_id < b.image_id;
      });
      std::vector<db::AuditItem> out;
      std::lock_guard lk(c_.mu_);
      for (const auto& r : rows) {
        if (out.size() >= limit) break;
        auto it = c_.images_.find(r.image_id);
        if (it == c_.images_.end()) continue;
        db::AuditItem a;
        a.image_id = r.image_id;
        a.size = r.size.value_or(it->second.size);
        a.digest = r.digest.value_or("");
        a.os_hash_algo = it->second.os_hash_algo;
        a.os_hash_value = it->second.os_hash_value;
        a.verified_at = r.verified_at;
        a.hash_verified_at = c_.replicas.hash_verified(r.image_id, node);
        a.version = r.version;
        out.push_back(std::move(a));
      }
      return out;
    }
    Status mark_verified(const std::vector<std::pair<std::string, int64_t>>& seen, const std::string& node,
                         bool hash_checked) override {
      for (const auto& [id, v] : seen) (void)c_.replicas.verify(id, node, v, now_(), hash_checked);
      return {};
    }
    Expected<std::optional<db::Timestamp>> oldest_verification(const std::string& node) override {
      std::optional<db::Timestamp> out;
      const auto rows = c_.replicas.for_node(node).value();
      for (auto& r : rows) {
        if (r.state != ReplicaState::ok) continue;
        const db::Timestamp t = r.verified_at.value_or(db::Timestamp{});
        if (!out || t < *out) out = t;
      }
      return out;
    }
    Status record_orphan(const std::string& node, const std::string& id, uint64_t) override {
      std::lock_guard lk(c_.mu_);
      c_.orphans_.insert({node, id});
      return {};
    }
    Status clear_orphan(const std::string& node, const std::string& id) override {
      std::lock_guard lk(c_.mu_);
      c_.orphans_.erase({node, id});
      return {};
    }
    Expected<std::optional<std::string>> checkpoint(const std::string& node, const std::string& worker) override {
      std::lock_guard lk(c_.mu_);
      auto it = c_.checkpoints_.find({node, worker});
      if (it == c_.checkpoints_.end()) return std::optional<std::string>();
      return std::optional<std::string>(it->second);
    }
    Status save_checkpoint(const std::string& node, const std::string& worker, const std::string& position) override {
      std::lock_guard lk(c_.mu_);
      c_.checkpoints_[{node, worker}] = position;
      return {};
    }
    Expected<std::string> placement_generation() override {
      std::lock_guard lk(c_.mu_);
      return c_.generation_;
    }
    Status set_placement_generation(const std::string& g) override {
      std::lock_guard lk(c_.mu_);
      c_.generation_ = g;
      return {};
    }
    Status flag_image(const std::string& id, const std::string& reason) override {
      std::lock_guard lk(c_.mu_);
      c_.flags_[id] = reason;
      return {};
    }
    Status clear_flag(const std::string& id) override {
      std::lock_guard lk(c_.mu_);
      c_.flags_.erase(id);
      return {};
    }
    Expected<bool> is_flagged(const std::string& id) override {
      std::lock_guard lk(c_.mu_);
      return c_.flags_.count(id) > 0;
    }
    Expected<std::vector<db::ImageFlag>> flagged(size_t limit) override {
      std::lock_guard lk(c_.mu_);
      std::vector<db::ImageFlag> out;
      for (const auto& [id, why] : c_.flags_)
        if (out.size() < limit) out.push_back({id, why, {}});
      return out;
    }
    std::function<db::Timestamp()> now_ = [] { return std::chrono::system_clock::now(); };

   private:
    FakeCatalog& c_;
  };

 public:
  // The clock mark_verified stamps with (a simulated one in simulations).
  void set_clock(std::function<db::Timestamp()> now) { heal_.now_ = std::move(now); }

 private:
  std::mutex mu_;
  std::map<std::string, db::ImageCopies> images_;
  std::vector<Entry> feed_;
  int64_t xid_ = 0, seq_ = 0, tick_ = 0;
  std::map<std::pair<std::string, std::string>, std::string> checkpoints_;
  std::set<std::pair<std::string, std::string>> orphans_;
  std::map<std::string, std::string> flags_;
  std::string generation_;
  Heal heal_;
};

}  // namespace glint::testing
