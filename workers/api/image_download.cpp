// GET /v2/images/{id}/file: streams from one replica (the node verifies every block before it
// sends it) and, when that node dies or refuses a bad block, continues at the same byte offset
// from the next replica. Bad replicas are recorded for the workers.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "shared/http/range.hpp"
#include "workers/api/image_data.hpp"
#include "workers/api/image_json.hpp"

namespace glint::api {

namespace {

constexpr size_t kHandOver = 512 * 1024;  // bytes gathered before a buffer goes to the client
constexpr size_t kDepth = 8;              // buffers queued ahead of the client (~4 MiB)

}  // namespace

// Bytes [first, last] of an image from its replicas; a helper thread fetches ahead into a bounded
// queue. One consumer thread (the server) calls start() then next().
class FailoverSource final : public http::BodySource {
 public:
  FailoverSource(db::ReplicaRepository& replicas, peer::BlobPeer& peer, DataMetrics& m,
                 log::Logger log, std::string image_id, std::vector<peer::Endpoint> sources, uint64_t first,
                 uint64_t last)
      : replicas_(replicas),
        peer_(peer),
        m_(m),
        log_(std::move(log)),
        id_(std::move(image_id)),
        sources_(std::move(sources)),
        first_(first),
        last_(last) {
    thread_ = std::thread([this] { fetch(); });
  }

  ~FailoverSource() override {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // Waits for the first bytes; false when no replica could deliver any (answer 503 then).
  bool start() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return !ready_.empty() || finished_ || error_; });
    return !ready_.empty() || !error_;
  }

  Expected<std::span<const std::byte>> next() override {
    std::unique_lock lk(mu_);
    if (!current_.empty()) {
      current_.clear();
      spare_.push_back(std::move(current_));
      current_ = {};
      cv_.notify_all();
    }
    cv_.wait(lk, [&] { return !ready_.empty() || finished_ || error_; });
    if (!ready_.empty()) {
      current_ = std::move(ready_.front());
      ready_.pop_front();
      cv_.notify_all();
      m_.download_bytes.Increment(static_cast<double>(current_.size()));
      return std::span<const std::byte>(current_.data(), current_.size());
    }
    if (error_) return *error_;
    return std::span<const std::byte>();
  }

 private:
  // Moves the gathered bytes to the queue; false when the client went away.
  bool hand_over(std::vector<std::byte>& fill) {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return stop_ || ready_.size() < kDepth; });
    if (stop_) return false;
    ready_.push_back(std::move(fill));
    if (!spare_.empty()) {
      fill = std::move(spare_.back());
      spare_.pop_back();
    } else {
      fill = {};
    }
    fill.clear();
    cv_.notify_all();
    return true;
  }

  void fetch() {
    uint64_t pos = first_;
    std::vector<std::byte> fill;
    bool client_gone = false;
    auto on_body = [&](std::span<const std::byte> chunk) {
      if (fill.capacity() < kHandOver + chunk.size()) fill.reserve(kHandOver + 256 * 1024);
      fill.insert(fill.end(), chunk.begin(), chunk.end());
      pos += chunk.size();
      if (fill.size() >= kHandOver && !hand_over(fill)) {
        client_gone = true;
        return false;
      }
      return true;
    };
    for (size_t k = 0; k < sources_.size() && pos <= last_; ++k) {
      const auto& node = sources_[k];
      if (k > 0) m_.failovers.Increment();
      log_.info("download.source", {{"image", id_}, {"node", node.node}, {"offset", pos}});
      const peer::ReadResult r = peer_.read(node, id_, pos, last_, on_body);
      if (client_gone || r.outcome == peer::ReadOutcome::cancelled) return;
      if (r.outcome == peer::ReadOutcome::complete && pos == last_ + 1) break;
      record_bad(node, r);
    }
    if (!fill.empty() && !hand_over(fill)) return;
    std::lock_guard lk(mu_);
    if (pos == last_ + 1) {
      finished_ = true;
    } else {
      error_ = Error{Errc::unavailable, "no replica of " + id_ + " could be read from offset " + std::to_string(pos)};
      log_.error("download.failed", {{"image", id_}, {"offset", pos}, {"replicas", sources_.size()}});
    }
    cv_.notify_all();
  }

  void record_bad(const peer::Endpoint& node, const peer::ReadResult& r) {
    const char* outcome = peer::outcome_name(r.outcome);
    log_.warn("download.replica_failed", {{"image", id_}, {"node", node.node}, {"outcome", outcome},
                                          {"detail", r.detail}});
    if (r.outcome != peer::ReadOutcome::corrupt && r.outcome != peer::ReadOutcome::missing) return;
    m_.bad_replicas.Add({{"state", outcome}}).Increment();
    if (Status s = replicas_.set_state(id_, node.node, outcome); !s)
      log_.warn("replica.mark_failed", {{"image", id_}, {"node", node.node}, {"error", s.message()}});
  }

  db::ReplicaRepository& replicas_;
  peer::BlobPeer& peer_;
  DataMetrics& m_;
  log::Logger log_;
  const std::string id_;
  const std::vector<peer::Endpoint> sources_;
  const uint64_t first_, last_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<std::byte>> ready_;
  std::vector<std::vector<std::byte>> spare_;
  std::vector<std::byte> current_;
  bool stop_ = false;
  bool finished_ = false;
  std::optional<Error> error_;
  std::thread thread_;  // last: starts after every member above exists
};

http::Response ImageData::download(const http::Request& req, const db::ImageRow& img) {
  const uint64_t size = static_cast<uint64_t>(img.size.value_or(0));
  http::Response resp;
  resp.headers.set("Content-Type", "application/octet-stream");
  uint64_t first = 0, last = size == 0 ? 0 : size - 1;
  bool partial = false;
  if (auto h = req.headers.get("Range")) {
    const auto range = http::parse_range(*h, size);
    if (range.kind == http::ByteRange::Kind::unsatisfiable) {
      return glance_error(req, 416, "The Range requested is not available.",
                          "Invalid start position in Range header. Start position MUST be in the inclusive range [0, " +
                              std::to_string(size == 0 ? 0 : size - 1) + "].");
    }
    if (range.kind == http::ByteRange::Kind::satisfiable) {
      first = range.first;
      last = range.last;
      partial = true;
    }
  }
  if (size == 0) {
    resp.content_length = 0;
    return resp;
  }
  auto sources = read_sources(img.id);
  if (!sources) {
    log_.error("db.failed", {{"req", req.request_id}, {"error", sources.error().message}});
    return glance_error(req, 503, "The image catalog is unavailable; try again later.");
  }
  if (sources->empty()) {
    log_.error("download.no_replica", {{"req", req.request_id}, {"image", img.id}});
    return glance_error(req, 503, "No storage node holds a readable copy of image " + img.id + " right now.");
  }
  auto src = std::make_unique<FailoverSource>(replicas_, peer_, m_, log_.with({{"req", req.request_id}}),
                                              img.id, std::move(*sources), first, last);
  if (!src->start())
    return glance_error(req, 503, "No storage node could deliver image " + img.id + " right now; try again later.");
  if (partial) {
    resp.status = 206;
    resp.headers.set("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                                          std::to_string(size));
  } else if (img.checksum) {
    resp.headers.set("Content-MD5", *img.checksum);
  }
  resp.content_length = last - first + 1;
  resp.stream = std::move(src);
  return resp;
}

}  // namespace glint::api
