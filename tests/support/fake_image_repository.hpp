// In-memory ImageRepository for handler unit tests: enough of the real semantics (conflicts, soft
// delete, tags, compare-and-set, simple listing) to exercise the API without a database.
// Thread-safe (one mutex).
#pragma once
#include <algorithm>
#include <map>
#include <mutex>

#include "shared/db/repositories.hpp"

namespace glint::testing {

class FakeImageRepository final : public db::ImageRepository {
 public:
  Status create(const db::ImageRow& img) override {
    std::lock_guard lk(mu_);
    if (unavailable) return Status(Errc::unavailable, "database unavailable: fake");
    if (rows_.count(img.id)) return Status(Errc::conflict, "exists");
    rows_[img.id] = img;
    order_.push_back(img.id);
    return {};
  }
  Expected<std::optional<db::ImageRow>> get(const std::string& id) override {
    std::lock_guard lk(mu_);
    if (unavailable) return Error{Errc::unavailable, "database unavailable: fake"};
    auto it = rows_.find(id);
    if (it == rows_.end()) return std::optional<db::ImageRow>();
    return std::optional<db::ImageRow>(it->second);
  }
  Status transition(const std::string& id, const std::string& from, const std::string& to) override {
    std::lock_guard lk(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end()) return Status(Errc::not_found, "unknown");
    if (it->second.status != from) return Status(Errc::conflict, "status");
    it->second.status = to;
    return {};
  }
  // Newest first (insertion order reversed), equality filters on name and status, marker, limit.
  Expected<std::vector<db::ImageRow>> list(const db::ImageQuery& q) override {
    std::lock_guard lk(mu_);
    std::vector<db::ImageRow> out;
    bool past_marker = !q.marker;
    if (q.marker && (!rows_.count(*q.marker) || rows_[*q.marker].status == "deleted"))
      return Error{Errc::not_found, "No image found with ID " + *q.marker};
    for (auto it = order_.rbegin(); it != order_.rend() && out.size() < q.limit; ++it) {
      const auto& img = rows_[*it];
      if (!past_marker) {
        past_marker = img.id == *q.marker;
        continue;
      }
      if (img.status == "deleted") continue;
      auto name = q.equals.find("name");
      if (name != q.equals.end() && img.name != name->second) continue;
      auto status = q.equals.find("status");
      if (status != q.equals.end() && img.status != status->second) continue;
      out.push_back(img);
    }
    return out;
  }
  Status mark_deleted(const std::string& id) override {
    std::lock_guard lk(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end() || it->second.status == "deleted") return Status(Errc::not_found, "unknown");
    it->second.status = "deleted";
    return {};
  }
  Status save(db::ImageRow& img) override {
    std::lock_guard lk(mu_);
    auto it = rows_.find(img.id);
    if (it == rows_.end() || it->second.status == "deleted") return Status(Errc::not_found, "unknown");
    if (it->second.updated_at != img.updated_at) return Status(Errc::conflict, "changed");
    img.updated_at += std::chrono::microseconds(1);
    const std::string status = it->second.status;
    it->second = img;
    it->second.status = status;  // save() never changes the status
    return {};
  }
  Status add_tag(const std::string& id, const std::string& tag) override {
    std::lock_guard lk(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end() || it->second.status == "deleted") return Status(Errc::not_found, "unknown");
    auto& t = it->second.tags;
    if (std::find(t.begin(), t.end(), tag) == t.end()) t.push_back(tag);
    std::sort(t.begin(), t.end());
    return {};
  }
  Status remove_tag(const std::string& id, const std::string& tag) override {
    std::lock_guard lk(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end() || it->second.status == "deleted") return Status(Errc::not_found, "unknown");
    auto& t = it->second.tags;
    auto pos = std::find(t.begin(), t.end(), tag);
    if (pos == t.end()) return Status(Errc::not_found, "no tag");
    t.erase(pos);
    return {};
  }

  bool unavailable = false;

 private:
  std::mutex mu_;
  std::map<std::string, db::ImageRow> rows_;
  std::vector<std::string> order_;
};

}  // namespace glint::testing
