// In-memory jobs table for unit tests: create/claim/renew/finish/cancel with the real semantics
// (leases on a caller-visible clock are not modelled: a claim takes queued jobs only, or running
// ones whose lease was expired by expire()). Thread-safe (one mutex).
#pragma once
#include <map>
#include <mutex>
#include <set>
#include <vector>
#include <string>

#include "shared/db/repositories.hpp"

namespace glint::testing {

class FakeJobRepository final : public db::JobRepository {
 public:
  Expected<db::JobRow> create(const std::string& kind, const std::optional<std::string>& target,
                              const std::string& requested_by) override {
    std::lock_guard lk(mu_);
    if (fail_) return Error{Errc::unavailable, "database down"};
    if (kind.empty()) return Error{Errc::invalid, "job kind is empty"};
    db::JobRow j;
    j.id = "00000000-0000-4000-8000-" + std::to_string(100000000000 + rows_.size());
    j.kind = kind;
    j.target = target;
    j.requested_by = requested_by;
    rows_[j.id] = j;
    order_.push_back(j.id);
    return j;
  }
  Expected<db::JobRow> ensure(const std::string& kind, const std::string& target,
                              const std::string& requested_by) override {
    {
      std::lock_guard lk(mu_);
      for (const auto& id : order_) {
        const auto& j = rows_[id];
        if (j.kind == kind && j.target == target && (j.state == "queued" || j.state == "running")) return j;
      }
    }
    return create(kind, target, requested_by);
  }
  Expected<std::optional<db::JobRow>> claim(const std::string& kind, const std::string& owner,
                                            std::chrono::seconds, const std::string& node) override {
    std::lock_guard lk(mu_);
    if (fail_) return Error{Errc::unavailable, "database down"};
    for (const auto& id : order_) {
      auto& j = rows_[id];
      const std::string t = j.target.value_or("");
      if (t.rfind("node:", 0) == 0 && t.substr(5, t.find(';') == std::string::npos ? std::string::npos : t.find(';') - 5) != node)
        continue;
      if (j.kind == kind && (j.state == "queued" || (j.state == "running" && expired_.count(id)))) {
        j.state = "running";
        j.lease_owner = owner;
        expired_.erase(id);
        return std::optional<db::JobRow>(j);
      }
    }
    return std::optional<db::JobRow>();
  }
  Status renew(const std::string& id, const std::string& owner, std::chrono::seconds, double progress) override {
    std::lock_guard lk(mu_);
    auto& j = rows_[id];
    if (j.state != "running" || j.lease_owner != owner) return Status(Errc::conflict, "lease lost");
    j.progress = progress;
    return {};
  }
  Status finish(const std::string& id, const std::string& owner, const std::string& state,
                const std::string& result) override {
    std::lock_guard lk(mu_);
    auto& j = rows_[id];
    if (j.state != "running" || j.lease_owner != owner) return Status(Errc::conflict, "lease lost");
    j.state = state;
    j.result = result;
    return {};
  }
  Status cancel(const std::string& id) override {
    std::lock_guard lk(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end()) return Status(Errc::not_found, "no job");
    if (it->second.state != "queued" && it->second.state != "running") return Status(Errc::conflict, "finished");
    it->second.state = "cancelled";
    return {};
  }
  Expected<std::optional<db::JobRow>> get(const std::string& id) override {
    std::lock_guard lk(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end()) return std::optional<db::JobRow>();
    return std::optional<db::JobRow>(it->second);
  }
  Expected<std::vector<db::JobRow>> list(const std::string& state, size_t limit) override {
    std::lock_guard lk(mu_);
    std::vector<db::JobRow> out;
    for (auto it = order_.rbegin(); it != order_.rend() && out.size() < limit; ++it) {
      const auto& j = rows_[*it];
      if (state.empty() || j.state == state) out.push_back(j);
    }
    return out;
  }
  void set_failing(bool f) {
    std::lock_guard lk(mu_);
    fail_ = f;
  }
  void expire(const std::string& id) {
    std::lock_guard lk(mu_);
    expired_.insert(id);
  }

 private:
  std::mutex mu_;
  std::map<std::string, db::JobRow> rows_;
  std::vector<std::string> order_;
  std::set<std::string> expired_;
  bool fail_ = false;
};

}  // namespace glint::testing
