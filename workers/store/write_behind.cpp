#include "workers/store/write_behind.hpp"

#include <cstring>

namespace glint::store {

WriteBehind::WriteBehind(blob::BlobWriter& writer, BufferPool* pool) : writer_(writer), pool_(pool) {
  if (pool_) {
    pending_ = pool_->take();
    working_ = pool_->take();
  }
  thread_ = std::thread([this] { run(); });
}

WriteBehind::~WriteBehind() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (pool_) {
    pool_->give(std::move(pending_));
    pool_->give(std::move(working_));
  }
}

Status WriteBehind::submit(std::span<const std::byte> data) {
  std::vector<std::byte> copy(data.begin(), data.end());
  return submit_owned(copy, copy.size());
}

Status WriteBehind::submit_owned(std::vector<std::byte>& buf, size_t n) {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [this] { return !has_pending_ || !error_.ok(); });
  if (!error_.ok()) return error_;
  std::swap(pending_, buf);
  pending_len_ = n;
  has_pending_ = true;
  lk.unlock();
  cv_.notify_all();
  return {};
}

Status WriteBehind::drain() {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [this] { return (!has_pending_ && !busy_) || !error_.ok(); });
  return error_;
}

void WriteBehind::run() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    cv_.wait(lk, [this] { return has_pending_ || stop_; });
    if (stop_) return;  // an abandoned upload: what is still queued is not written
    if (!error_.ok()) {  // after a failed write nothing more reaches the writer
      has_pending_ = false;
      cv_.notify_all();
      continue;
    }
    std::swap(pending_, working_);
    working_len_ = pending_len_;
    has_pending_ = false;
    busy_ = true;
    lk.unlock();
    cv_.notify_all();  // the caller may queue the next chunk while this one is written
    Status s = writer_.write({working_.data(), working_len_});
    lk.lock();
    busy_ = false;
    if (!s && error_.ok()) error_ = s;
    cv_.notify_all();
  }
}

}  // namespace glint::store
