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
  Status transition(const std::string& id, ImageStatus from, ImageStatus to) override {
    std::lock_guard lk(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end()) return Status(Errc::not_found, "unknown");
    if (it->second.status != from) return Status(Errc::conflict, "status");
    it->second.status = to;
    return {};
  }
  Status touch_upload(const std::string& id) override {
    std::lock_guard lk(mu_);
    ++upload_touches;
    (void)id;
    return {};
  }
  int upload_touches = 0;
  // Newest first (insertion order reversed), equality filters on name and status, marker, limit.
  Expected<std::vector<db::ImageRow>> list(const db::ImageQuery& q) override {
    std::lock_guard lk(mu_);
    std::vector<db::ImageRow> out;
    bool past_marker = !q.marker;
    if (q.marker && (!rows_.count(*q.marker) || gone(rows_[*q.marker])))
      return Error{Errc::not_found, "No image found with ID " + *q.marker};
    for (auto it = order_.rbegin(); it != order_.rend() && out.size() < q.limit; ++it) {
      const auto& img = rows_[*it];
      if (!past_marker) {
        past_marker = img.id == *q.marker;
        continue;
      }
      if (gone(img)) continue;
      auto name = q.equals.find("name");
      if (name != q.equals.end() && img.name != name->second) continue;
      auto status = q.equals.find("status");
      if (status != q.equals.end() && to_string(img.status) != status->second) continue;
      out.push_back(img);
    }
    return out;
  }
  Status mark_deleted(const std::string& id, bool pending) override {
    std::lock_guard lk(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end() || gone(it->second)) return Status(Errc::not_found, "unknown");
    it->second.status = pending ? ImageStatus::pending_delete : ImageStatus::deleted;
    return {};
  }
  Status activate(const db::UploadedData& d) override {
    std::lock_guard lk(mu_);
    auto it = rows_.find(d.image_id);
    if (it == rows_.end() || gone(it->second)) return Status(Errc::not_found, "deleted during upload");
    if (it->second.status != ImageStatus::saving) return Status(Errc::conflict, "not saving");
    auto& img = it->second;
    img.status = ImageStatus::active;
    img.size = d.size;
    img.checksum = d.checksum;
    img.os_hash_algo = d.os_hash_algo;
    img.os_hash_value = d.os_hash_value;
    img.virtual_size = d.virtual_size;
    activated.push_back(d);
    // Fault switch: the commit happened but its answer was lost (connection broke at COMMIT).
    if (unavailable_after_activate) unavailable = true;
    if (activate_answer_lost) return Status(Errc::unavailable, "database unavailable: connection lost during COMMIT");
    return {};
  }
  Status save(db::ImageRow& img) override {
    std::lock_guard lk(mu_);
    auto it = rows_.find(img.id);
    if (it == rows_.end() || gone(it->second)) return Status(Errc::not_found, "unknown");
    if (it->second.updated_at != img.updated_at) return Status(Errc::conflict, "changed");
    img.updated_at += std::chrono::microseconds(1);
    const ImageStatus status = it->second.status;
    it->second = img;
    it->second.status = status;  // save() never changes the status
    return {};
  }
  Status add_tag(const std::string& id, const std::string& tag) override {
    std::lock_guard lk(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end() || gone(it->second)) return Status(Errc::not_found, "unknown");
    auto& t = it->second.tags;
    if (std::find(t.begin(), t.end(), tag) == t.end()) t.push_back(tag);
    std::sort(t.begin(), t.end());
    return {};
  }
  Status remove_tag(const std::string& id, const std::string& tag) override {
    std::lock_guard lk(mu_);
    auto it = rows_.find(id);
    if (it == rows_.end() || gone(it->second)) return Status(Errc::not_found, "unknown");
    auto& t = it->second.tags;
    auto pos = std::find(t.begin(), t.end(), tag);
    if (pos == t.end()) return Status(Errc::not_found, "no tag");
    t.erase(pos);
    return {};
  }

  bool unavailable = false;
  bool activate_answer_lost = false;
  bool unavailable_after_activate = false;
  std::vector<db::UploadedData> activated;  // every successful activate(), in order

 private:
  static bool gone(const db::ImageRow& img) {
    return img.status == ImageStatus::deleted || img.status == ImageStatus::pending_delete;
  }
  std::mutex mu_;
  std::map<std::string, db::ImageRow> rows_;
  std::vector<std::string> order_;
};

}  // namespace glint::testing

namespace glint::testing {

// In-memory MemberRepository (does not check that the image exists). Thread-safe.
class FakeMemberRepository final : public db::MemberRepository {
 public:
  Expected<db::MemberRow> add(const std::string& image_id, const std::string& member) override {
    std::lock_guard lk(mu_);
    auto key = std::make_pair(image_id, member);
    if (rows_.count(key)) return Error{Errc::conflict, "Member " + member + " is duplicated for image " + image_id};
    db::MemberRow m{image_id, member, "pending", std::chrono::system_clock::now(), std::chrono::system_clock::now()};
    rows_[key] = m;
    return m;
  }
  Expected<std::vector<db::MemberRow>> list(const std::string& image_id) override {
    std::lock_guard lk(mu_);
    std::vector<db::MemberRow> out;
    for (const auto& [k, v] : rows_)
      if (k.first == image_id) out.push_back(v);
    return out;
  }
  Expected<std::optional<db::MemberRow>> get(const std::string& image_id, const std::string& member) override {
    std::lock_guard lk(mu_);
    auto it = rows_.find({image_id, member});
    if (it == rows_.end()) return std::optional<db::MemberRow>();
    return std::optional<db::MemberRow>(it->second);
  }
  Expected<db::MemberRow> set_status(const std::string& image_id, const std::string& member,
                                     const std::string& status) override {
    std::lock_guard lk(mu_);
    auto it = rows_.find({image_id, member});
    if (it == rows_.end()) return Error{Errc::not_found, "unknown member"};
    it->second.status = status;
    return it->second;
  }
  Status remove(const std::string& image_id, const std::string& member) override {
    std::lock_guard lk(mu_);
    return rows_.erase({image_id, member}) ? Status() : Status(Errc::not_found, "unknown member");
  }

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, db::MemberRow> rows_;
};

}  // namespace glint::testing
