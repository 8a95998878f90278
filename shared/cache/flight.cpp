// Single flight: one fetch per image into the cache's temp file, however many downloads miss at
// once. The fetch runs on its own thread (a client that goes away does not stop it); every
// download that missed, the first included, follows the temp file as it grows.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "shared/cache/image_cache.hpp"
#include "shared/hash/hash.hpp"

namespace glint::cache {

// A fetch in progress. Followers hold it (shared) so its file stays readable after it ended.
struct ImageCache::Flight {
  enum class State { running, done, failed };
  CacheKey key;
  std::unique_ptr<blob::BlobWriter> writer;  // the fetch thread's only
  int read_fd = -1;
  std::mutex mu;
  std::condition_variable grew;
  uint64_t written = 0;  // bytes in the temp file
  State state = State::running;
  std::string error;
  ~Flight() {
    if (read_fd >= 0) ::close(read_fd);
  }
};

// One download following a fetch: reads the temp file up to what the fetch has written. When the
// fetch fails before this reader has everything, the rest comes straight from the nodes. A server
// sends what is written with sendfile from the temp file (FileBody): the bytes are the ones the
// nodes verified and sent, written once and never changed.
class ImageCache::FollowSource final : public http::BodySource, public http::FileBody {
 public:
  static constexpr size_t kChunk = 256 * 1024;  // small: a boot storm holds one per client
  FollowSource(std::shared_ptr<Flight> f, Upstream upstream, std::chrono::milliseconds timeout)
      : f_(std::move(f)), end_(f_->key.size), upstream_(std::move(upstream)), timeout_(timeout) {}

  Expected<std::span<const std::byte>> next() override {
    if (rest_) return rest_->next();
    auto avail = wait_for_bytes();
    if (!avail) return avail.error();
    if (rest_ || *avail == 0) return rest_span_;
    buf_.resize(kChunk);
    const size_t want = static_cast<size_t>(std::min<uint64_t>(*avail, kChunk));
    ssize_t n;
    do {
      n = ::pread(f_->read_fd, buf_.data(), want, static_cast<off_t>(pos_));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return Error{Errc::io_error, "cache: read of " + f_->key.image_id + ": " + (n < 0 ? std::strerror(errno) : "short file")};
    pos_ += static_cast<uint64_t>(n);
    return std::span<const std::byte>(buf_.data(), static_cast<size_t>(n));
  }

  Expected<http::FileRange> next_range() override {
    if (rest_) {
      auto c = rest_->next();
      if (!c) return c.error();
      return http::FileRange{-1, 0, c->size(), *c};
    }
    auto avail = wait_for_bytes();
    if (!avail) return avail.error();
    if (rest_ || *avail == 0) return http::FileRange{-1, 0, rest_span_.size(), rest_span_};
    const size_t n = static_cast<size_t>(std::min<uint64_t>(*avail, 4 * kChunk));
    http::FileRange r{f_->read_fd, pos_, n, {}};
    pos_ += n;
    return r;
  }

 private:
  // Bytes readable at pos_ (0 at the end); after a failed fetch, the nodes' first chunk of the
  // rest is in rest_span_ (and rest_ is set).
  Expected<uint64_t> wait_for_bytes() {
    rest_span_ = {};
    if (pos_ >= end_) return uint64_t{0};
    std::unique_lock lk(f_->mu);
    const bool moved = f_->grew.wait_for(lk, timeout_, [&] { return f_->written > pos_ || f_->state != Flight::State::running; });
    if (!moved) return Error{Errc::unavailable, "the cache fetch of " + f_->key.image_id + " stalled"};
    const uint64_t avail = f_->written - std::min(f_->written, pos_);
    if (avail > 0) return avail;
    const std::string why = f_->error;
    lk.unlock();
    auto up = upstream_ ? upstream_(pos_, end_ - 1) : Expected<std::unique_ptr<http::BodySource>>(Error{Errc::unavailable, why});
    if (!up) return up.error();
    rest_ = std::move(*up);
    auto c = rest_->next();
    if (!c) return c.error();
    rest_span_ = *c;
    return uint64_t{0};
  }

  std::shared_ptr<Flight> f_;
  uint64_t pos_ = 0;
  const uint64_t end_;
  Upstream upstream_;
  const std::chrono::milliseconds timeout_;
  std::vector<std::byte> buf_;
  std::unique_ptr<http::BodySource> rest_;  // the nodes, after a failed fetch
  std::span<const std::byte> rest_span_;
};

ImageCache::~ImageCache() {
  std::unique_lock lk(mu_);
  stopping_ = true;
  idle_.wait(lk, [&] { return running_ == 0; });
}

std::shared_ptr<ImageCache::Flight> ImageCache::join_or_start(const CacheKey& key, Upstream upstream, bool& joined) {
  joined = false;
  hash::Digest128 digest{};
  if (key.size == 0 || key.size > opts_.max_size || !hash::parse_digest_hex(key.digest, digest)) return nullptr;
  auto f = std::make_shared<Flight>();
  f->key = key;
  {
    std::lock_guard lk(mu_);
    if (stopping_) return nullptr;
    if (auto it = flights_.find(key.image_id); it != flights_.end()) {
      if (it->second->key.digest != key.digest) return nullptr;
      joined = true;
      return it->second;
    }
    flights_[key.image_id] = f;  // from here on, other misses join this fetch
    ++running_;
  }
  // The first read is opened here, on the caller's thread, so that nodes that cannot deliver
  // turn into the caller's 503 (before any byte) rather than a cut stream.
  auto up = upstream(0, key.size - 1);
  if (!up) {
    end_flight(f, up.status());
    return nullptr;
  }
  blob::WriteConditions cond;
  cond.expect_digest = digest;  // published only if it is the replicas' bytes
  auto w = store_->create(key.image_id, key.size, cond);
  if (!w) {
    if (w.code() != Errc::conflict)
      log_.warn("cache.fill_refused", {{"image", key.image_id}, {"error", w.error().message}});
    end_flight(f, w.status());
    return nullptr;
  }
  f->read_fd = ::open((*w)->temp_path().c_str(), O_RDONLY | O_CLOEXEC);
  if (f->read_fd < 0) {
    const std::string why = std::string("open temp: ") + std::strerror(errno);
    log_.warn("cache.fill_refused", {{"image", key.image_id}, {"error", why}});
    end_flight(f, Status(Errc::io_error, why));
    return nullptr;  // the writer goes with its temp file
  }
  f->writer = std::move(*w);
  std::thread([this, f, src = std::move(*up)]() mutable { run_flight(std::move(f), std::move(src)); }).detach();
  return f;
}

void ImageCache::run_flight(std::shared_ptr<Flight> f, std::unique_ptr<http::BodySource> src) {
  const CacheKey& key = f->key;
  Status st;
  for (;;) {
    auto chunk = src->next();
    if (!chunk) {
      st = chunk.status();
      break;
    }
    if (chunk->empty()) break;
    {
      std::lock_guard lk(mu_);
      if (stopping_) st = Status(Errc::unavailable, "the cache is shutting down");
    }
    if (st) st = f->writer->write(*chunk);
    if (!st) break;
    m_.bytes_fetched.Increment(static_cast<double>(chunk->size()));
    {
      std::lock_guard lk(f->mu);
      f->written += chunk->size();
    }
    f->grew.notify_all();
  }
  src.reset();  // the nodes' connections go before the cache may be destroyed
  if (st) {
    auto info = f->writer->commit();
    if (!info) st = info.status();
  } else {
    f->writer->abort();
  }
  f->writer.reset();  // it belongs to the store: gone before the cache may be destroyed
  if (st) {
    m_.fills_ok.Increment();
    if (Status r = repo_.record_entry(opts_.node, key.image_id, key.size, key.digest); !r)
      log_.warn("cache.entry_not_recorded", {{"image", key.image_id}, {"error", r.message()}});
    log_.info("cache.filled", {{"image", key.image_id}, {"bytes", key.size}});
    refresh_gauges();
  } else {
    m_.fills_failed.Increment();
    log_.warn("cache.fill_failed", {{"image", key.image_id}, {"error", st.message()}});
  }
  end_flight(f, st);
}

void ImageCache::end_flight(const std::shared_ptr<Flight>& f, const Status& st) {
  {
    // Not joinable first: a miss from now on starts a new fetch instead of following this one.
    std::lock_guard lk(mu_);
    flights_.erase(f->key.image_id);
  }
  {
    std::lock_guard lk(f->mu);
    f->state = st ? Flight::State::done : Flight::State::failed;
    f->error = st ? std::string() : st.message();
  }
  f->grew.notify_all();
  std::lock_guard lk(mu_);
  --running_;
  idle_.notify_all();  // under the lock: the destructor cannot finish before this thread lets go
}

std::unique_ptr<http::BodySource> ImageCache::fetch(const CacheKey& key, Upstream upstream) {
  bool joined = false;
  auto f = join_or_start(key, upstream, joined);
  if (!f) return nullptr;
  m_.misses.Increment();
  if (joined) m_.joins.Increment();
  return std::make_unique<FollowSource>(std::move(f), std::move(upstream), opts_.follow_timeout);
}

std::unique_ptr<blob::BlobWriter> ImageCache::begin_upload_fill(const std::string& image_id, uint64_t size) {
  if (!opts_.fill_on_upload || size == 0 || size > opts_.max_size) return nullptr;
  auto w = store_->create(image_id, size);
  if (!w) {
    if (w.code() != Errc::conflict)
      log_.info("cache.upload_fill_refused", {{"image", image_id}, {"error", w.error().message}});
    return nullptr;
  }
  return std::move(*w);
}

void ImageCache::finish_upload_fill(std::unique_ptr<blob::BlobWriter> writer, const CacheKey& key) {
  hash::Digest128 digest{};
  if (!writer) return;
  if (!hash::parse_digest_hex(key.digest, digest) || writer->bytes_written() != key.size) {
    writer->abort();
    return;
  }
  auto info = writer->commit_expecting(digest);
  writer.reset();
  if (!info) {
    m_.fills_failed.Increment();
    log_.warn("cache.fill_failed", {{"image", key.image_id}, {"error", info.error().message}});
    return;
  }
  m_.fills_ok.Increment();
  if (Status r = repo_.record_entry(opts_.node, key.image_id, key.size, key.digest); !r)
    log_.warn("cache.entry_not_recorded", {{"image", key.image_id}, {"error", r.message()}});
  log_.info("cache.filled", {{"image", key.image_id}, {"bytes", key.size}, {"by", "upload"}});
  refresh_gauges();
}

Status ImageCache::fill(const CacheKey& key, Upstream upstream) {
  if (auto info = store_->stat(key.image_id); info && hash::digest_hex(info->digest) == key.digest) return {};
  bool joined = false;
  auto f = join_or_start(key, std::move(upstream), joined);
  if (!f) return Status(Errc::unavailable, "the cache cannot take image " + key.image_id + " now");
  std::unique_lock lk(f->mu);
  f->grew.wait(lk, [&] { return f->state != Flight::State::running; });
  if (f->state == Flight::State::failed) return Status(Errc::unavailable, f->error);
  return {};
}

}  // namespace glint::cache
