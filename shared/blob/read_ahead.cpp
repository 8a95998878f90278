#include "shared/blob/read_ahead.hpp"

namespace glint::blob {

ReadAhead::ReadAhead(Fill fill, BufferPool* pool) : fill_(std::move(fill)), pool_(pool) {
  for (auto& s : slots_) {
    if (pool_) s.buf = pool_->take();
    free_.push_back(&s);
  }
  thread_ = std::thread([this] { run(); });
}

ReadAhead::~ReadAhead() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (pool_)
    for (auto& s : slots_) pool_->give(std::move(s.buf));
}

Expected<std::span<const std::byte>> ReadAhead::next() {
  std::unique_lock<std::mutex> lk(mu_);
  if (held_ && (!held_->result->ok() || held_->result->value().empty())) return *held_->result;  // ended
  if (held_) {
    free_.push_back(held_);
    held_ = nullptr;
    cv_.notify_all();
  }
  cv_.wait(lk, [this] { return !ready_.empty(); });
  held_ = ready_.front();
  ready_.pop_front();
  return *held_->result;
}

void ReadAhead::run() {
  for (;;) {
    Slot* slot = nullptr;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [this] { return stop_ || !free_.empty(); });
      if (stop_) return;
      slot = free_.front();
      free_.pop_front();
    }
    slot->result.emplace(fill_(slot->buf));
    const bool last = !slot->result->ok() || slot->result->value().empty();
    {
      std::lock_guard<std::mutex> lk(mu_);
      ready_.push_back(slot);
    }
    cv_.notify_all();
    if (last) return;  // end of range or an error: the caller gets it, nothing more is read
  }
}

}  // namespace glint::blob
