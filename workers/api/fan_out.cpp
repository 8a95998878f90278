#include "workers/api/fan_out.hpp"

#include <algorithm>

namespace glint::api {

FanOut::FanOut(size_t consumers, size_t depth) : lanes_(consumers), depth_(std::max<size_t>(depth, 1)) {}

FanOut::Chunk FanOut::recycled_locked() {
  // A buffer only the pool still references has been consumed by every lane.
  for (auto& c : pool_)
    if (c.use_count() == 1) return c;
  pool_.push_back(std::make_shared<std::vector<std::byte>>());
  return pool_.back();
}

Status FanOut::push(std::vector<std::byte>& buf, size_t n) {
  if (n == 0) return {};
  std::unique_lock lk(mu_);
  auto room = [&] {
    return std::all_of(lanes_.begin(), lanes_.end(), [&](const Lane& l) { return l.left || l.queue.size() < depth_; });
  };
  space_.wait(lk, [&] { return aborted_ || room(); });
  if (aborted_) return Status(Errc::cancelled, "upload aborted");
  if (std::all_of(lanes_.begin(), lanes_.end(), [](const Lane& l) { return l.left; }))
    return Status(Errc::cancelled, "no consumer left");
  Chunk c = recycled_locked();
  c->swap(buf);  // zero-copy: the chunk takes the caller's bytes, the caller gets a spare buffer
  c->resize(n);
  for (auto& l : lanes_)
    if (!l.left) l.queue.push_back(c);
  data_.notify_all();
  return {};
}

void FanOut::close() {
  std::lock_guard lk(mu_);
  closed_ = true;
  data_.notify_all();
}

void FanOut::abort() {
  std::lock_guard lk(mu_);
  aborted_ = true;
  for (auto& l : lanes_) l.queue.clear();
  data_.notify_all();
  space_.notify_all();
}

Expected<FanOut::Chunk> FanOut::pop(size_t lane) {
  std::unique_lock lk(mu_);
  Lane& l = lanes_.at(lane);
  data_.wait(lk, [&] { return aborted_ || l.left || !l.queue.empty() || closed_; });
  if (aborted_ || l.left) return Error{Errc::cancelled, "upload aborted"};
  if (l.queue.empty()) return Chunk();
  Chunk c = std::move(l.queue.front());
  l.queue.pop_front();
  space_.notify_all();
  return c;
}

void FanOut::leave(size_t lane) {
  std::lock_guard lk(mu_);
  Lane& l = lanes_.at(lane);
  l.left = true;
  l.queue.clear();
  space_.notify_all();
  data_.notify_all();
}

size_t FanOut::buffers() const {
  std::lock_guard lk(mu_);
  return pool_.size();
}

Expected<std::span<const std::byte>> LaneSource::next() {
  current_.reset();  // release the previous chunk before waiting for the next
  auto c = fan_.pop(lane_);
  if (!c) return c.error();
  current_ = std::move(*c);
  if (!current_) return std::span<const std::byte>();
  return std::span<const std::byte>(current_->data(), current_->size());
}

}  // namespace glint::api
