// Store-wide walks and moves: list(), cleanup_temp(), quarantine().
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <functional>

#include "shared/blob/fs_store.hpp"
#include "shared/core/uuid.hpp"

namespace glint::blob {

namespace {

bool is_shard_name(const std::string& s) {
  return s.size() == 2 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Calls fn(shard_dir, outer, inner) for every objects/<outer>/<inner> directory. Unreadable
// directories are skipped: a partial walk is more useful to callers than none.
void for_each_shard(const std::string& objects_dir,
                    const std::function<void(const std::string&, const std::string&, const std::string&)>& fn) {
  auto outers = fsutil::list_dir(objects_dir);
  if (!outers) return;
  for (const auto& outer : *outers) {
    if (!is_shard_name(outer)) continue;
    auto inners = fsutil::list_dir(objects_dir + "/" + outer);
    if (!inners) continue;
    for (const auto& inner : *inners) {
      if (is_shard_name(inner)) fn(objects_dir + "/" + outer + "/" + inner, outer, inner);
    }
  }
}

}  // namespace

std::vector<std::string> FsBlobStore::list() {
  std::vector<std::string> ids;
  for_each_shard(objects_dir_, [&](const std::string& dir, const std::string& outer, const std::string& inner) {
    auto names = fsutil::list_dir(dir);
    if (!names) return;
    for (const auto& name : *names) {
      // A misplaced file could not be opened by id, so it is not listed either.
      if (!is_canonical_uuid(name) || name.compare(0, 2, outer) != 0 || name.compare(2, 2, inner) != 0) continue;
      if (fsutil::is_regular_file(dir + "/" + name)) ids.push_back(name);
    }
  });
  std::sort(ids.begin(), ids.end());
  return ids;
}

size_t FsBlobStore::cleanup_temp() {
  if (opts_.shared) return 0;  // the owning store's uploads are none of our business
  // Under mu_ for the whole walk: temp files and placed sidecars of live uploads are skipped.
  std::lock_guard lk(mu_);
  size_t removed = 0;
  if (auto names = fsutil::list_dir(tmp_dir_)) {
    for (const auto& name : *names) {
      const bool live = name.size() > 37 && name[36] == '.' && live_locked(name.substr(0, 36));
      if (!live && ::unlink((tmp_dir_ + "/" + name).c_str()) == 0) ++removed;
    }
  }
  static constexpr std::string_view kMeta = ".meta";
  for_each_shard(objects_dir_, [&](const std::string& dir, const std::string&, const std::string&) {
    auto names = fsutil::list_dir(dir);
    if (!names) return;
    for (const auto& name : *names) {
      if (name.size() != 36 + kMeta.size() || !name.ends_with(kMeta)) continue;
      const std::string id = name.substr(0, 36);
      if (!is_canonical_uuid(id) || live_locked(id) || fsutil::exists(dir + "/" + id)) continue;
      if (::unlink((dir + "/" + name).c_str()) == 0) ++removed;  // sidecar whose commit never finished
    }
  });
  return removed;
}

size_t FsBlobStore::cleanup_stale_temp(std::chrono::seconds older_than) {
  if (opts_.shared) return 0;
  const auto names = fsutil::list_dir(tmp_dir_);
  if (!names) return 0;
  const auto cutoff = std::chrono::system_clock::now() - older_than;
  size_t removed = 0;
  for (const auto& name : *names) {
    const std::string path = tmp_dir_ + "/" + name;
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) continue;
    const auto mtime = std::chrono::system_clock::time_point(std::chrono::seconds(st.st_mtim.tv_sec));
    if (mtime > cutoff) continue;
    // Checked and removed under mu_: a live upload (registered there) is never touched.
    std::lock_guard lk(mu_);
    const bool live = name.size() > 37 && name[36] == '.' && live_locked(name.substr(0, 36));
    if (!live && ::unlink(path.c_str()) == 0) ++removed;
  }
  return removed;
}

Status FsBlobStore::quarantine(const std::string& id, const std::string& reason) {
  if (!is_canonical_uuid(id)) return invalid_id_error(id);
  std::string dest;
  {
    std::lock_guard lk(mu_);
    auto moved = move_to_quarantine_locked(id);
    if (!moved) return moved.error();
    dest = *moved;
  }
  return write_quarantine_reason(id, dest, reason);
}

Status FsBlobStore::quarantine_if(const std::string& id, uint64_t file_id, const std::string& reason) {
  if (!is_canonical_uuid(id)) return invalid_id_error(id);
  std::string dest;
  {
    std::lock_guard lk(mu_);
    struct stat st {};
    if (::stat(data_path(id).c_str(), &st) != 0) return Status(Errc::not_found, "blob " + id + " not found");
    if (static_cast<uint64_t>(st.st_ino) != file_id)
      return Status(Errc::conflict, "blob " + id + " was replaced since it was read: the new copy stays");
    auto moved = move_to_quarantine_locked(id);
    if (!moved) return moved.error();
    dest = *moved;
  }
  return write_quarantine_reason(id, dest, reason);
}

Expected<std::string> FsBlobStore::move_to_quarantine_locked(const std::string& id) {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string base = quarantine_dir_ + "/" + id + "." + std::to_string(secs);
  const std::string data = data_path(id);
  if (!fsutil::exists(data)) return Error{Errc::not_found, "blob " + id + " not found"};
  // Never overwrite an earlier quarantined copy (same id quarantined twice within a second).
  std::string dest = base;
  for (int n = 1; fsutil::exists(dest) || fsutil::exists(dest + ".meta"); ++n) dest = base + "-" + std::to_string(n);
  if (Status s = fsutil::rename_noreplace(data, dest); !s) return s.error();
  const std::string meta = meta_path(id);
  if (::rename(meta.c_str(), (dest + ".meta").c_str()) != 0 && errno != ENOENT) {
    return fsutil::sys_error(Errc::io_error, "move to quarantine", meta, errno);
  }
  return dest;
}

Status FsBlobStore::write_quarantine_reason(const std::string& id, const std::string& dest, const std::string& reason) {
  // The reason is informational: the blob is already out of service even if this fails.
  const std::string reason_path = dest + ".reason";
  fsutil::UniqueFd fd(::open(reason_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return fsutil::sys_error(Errc::io_error, "create", reason_path, errno);
  const std::string text = reason + "\n";
  if (Status s = fsutil::write_all(fd.get(), hash::as_bytes(text), reason_path); !s) return s;
  if (opts_.fsync && ::fsync(fd.get()) != 0) return fsutil::sys_error(Errc::io_error, "fsync", reason_path, errno);
  if (Status s = fd.close_checked(reason_path); !s) return s;
  if (opts_.fsync) {
    if (Status s = fsutil::fsync_dir(quarantine_dir_); !s) return s;
    return fsutil::fsync_dir(shard_dir(id));
  }
  return {};
}

}  // namespace glint::blob
