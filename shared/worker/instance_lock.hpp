// One instance per node and worker: an exclusive flock on <dir>/<node>.<worker>.lock, held for the
// life of the InstanceLock (released by the kernel if the process dies). Move-only; not thread-safe.
#pragma once
#include <string>

#include "shared/core/result.hpp"

namespace glint::worker {

class InstanceLock {
 public:
  InstanceLock(InstanceLock&& other) noexcept;
  InstanceLock& operator=(InstanceLock&& other) noexcept;
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;
  ~InstanceLock();

  const std::string& path() const { return path_; }

 private:
  friend Expected<InstanceLock> acquire_instance_lock(const std::string&, const std::string&, const std::string&);
  InstanceLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  void release();

  int fd_ = -1;
  std::string path_;
};

// Takes the lock without waiting (creating `dir` if needed) and writes our pid into the file.
// Errors: conflict (held by another instance; the message names its pid), invalid (a name that is
// empty or not a plain file name component), io_error.
Expected<InstanceLock> acquire_instance_lock(const std::string& dir, const std::string& node,
                                             const std::string& worker);

}  // namespace glint::worker
