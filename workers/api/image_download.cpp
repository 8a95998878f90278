// GET /v2/images/{id}/file: streams from one replica (the node verifies every block before it
// sends it) and, when that node dies or refuses a bad block, continues at the same byte offset
// from the next replica. Bad replicas are recorded for the workers. The bytes are spliced from the
// node's socket through a pipe to the client's socket: glint-api never copies image data.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <thread>

#include "shared/http/range.hpp"
#include "workers/api/image_data.hpp"
#include "workers/api/image_json.hpp"

namespace glint::api {

// Bytes [first, last] of an image from its replicas. A helper thread writes them into a pipe,
// spliced there from the node's socket; the server splices them on to the client (PipeBody), or
// next() reads them (tests). One consumer thread calls start() then streams.
class FailoverSource final : public http::BodySource, public http::PipeBody {
 public:
  FailoverSource(db::ReplicaRepository& replicas, peer::BlobPeer& peer, bus::Publisher& events, DataMetrics& m,
                 log::Logger log,
                 std::string image_id, std::vector<peer::Endpoint> sources, uint64_t first, uint64_t last)
      : replicas_(replicas),
        peer_(peer),
        events_(events),
        m_(m),
        log_(std::move(log)),
        id_(std::move(image_id)),
        sources_(std::move(sources)),
        first_(first),
        last_(last) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;  // start() reports the failure
    read_fd_ = fds[0];
    write_fd_ = fds[1];
    ::fcntl(read_fd_, F_SETFL, O_NONBLOCK);
    ::fcntl(write_fd_, F_SETPIPE_SZ, kPipeBytes);  // best effort: fewer wake-ups per MiB
    thread_ = std::thread([this] { fetch(); });
  }

  ~FailoverSource() override {
    if (read_fd_ >= 0) ::close(read_fd_);  // a fetch blocked on a full pipe gets EPIPE and stops
    if (thread_.joinable()) thread_.join();
  }

  // Waits for the first bytes; false when no replica could deliver any (answer 503 then).
  bool start() {
    if (read_fd_ < 0) return false;
    pollfd p{read_fd_, POLLIN, 0};
    while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    int avail = 0;
    return ::ioctl(read_fd_, FIONREAD, &avail) == 0 && avail > 0;
  }

  int pipe_fd() override { return read_fd_; }

  Expected<std::span<const std::byte>> next() override {
    const uint64_t want = last_ - first_ + 1;
    if (consumed_ == want) return std::span<const std::byte>();
    buf_.resize(kPipeBytes);
    for (;;) {
      const ssize_t n = ::read(read_fd_, buf_.data(), static_cast<size_t>(std::min<uint64_t>(buf_.size(), want - consumed_)));
      if (n > 0) {
        consumed_ += static_cast<uint64_t>(n);
        return std::span<const std::byte>(buf_.data(), static_cast<size_t>(n));
      }
      if (n == 0) return Error{Errc::unavailable, "no replica of " + id_ + " could be read to the end"};
      if (errno == EAGAIN) {
        pollfd p{read_fd_, POLLIN, 0};
        ::poll(&p, 1, -1);
      } else if (errno != EINTR) {
        return Error{Errc::io_error, std::string("read pipe: ") + std::strerror(errno)};
      }
    }
  }

 private:
  static constexpr size_t kPipeBytes = 1 << 20;

  void fetch() {
    // A reader that went away makes writes to the pipe fail with EPIPE; the signal is kept
    // pending on this thread only, never delivered to the process.
    sigset_t pipe_sig;
    sigemptyset(&pipe_sig);
    sigaddset(&pipe_sig, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_sig, nullptr);
    uint64_t pos = first_;
    for (size_t k = 0; k < sources_.size() && pos <= last_; ++k) {
      const auto& node = sources_[k];
      if (k > 0) m_.failovers.Increment();
      log_.info("download.source", {{"image", id_}, {"node", node.node}, {"offset", pos}});
      const peer::ReadResult r = peer_.read_into(node, id_, pos, last_, write_fd_);
      pos += r.delivered;
      m_.download_bytes.Increment(static_cast<double>(r.delivered));
      if (r.outcome == peer::ReadOutcome::cancelled) break;
      if (r.outcome == peer::ReadOutcome::complete && pos == last_ + 1) break;
      record_bad(node, r);
    }
    if (pos != last_ + 1)
      log_.error("download.failed", {{"image", id_}, {"offset", pos}, {"replicas", sources_.size()}});
    ::close(write_fd_);  // EOF for the reader: complete, or short (the server then cuts the connection)
  }

  void record_bad(const peer::Endpoint& node, const peer::ReadResult& r) {
    const char* outcome = peer::outcome_name(r.outcome);
    log_.warn("download.replica_failed", {{"image", id_}, {"node", node.node}, {"outcome", outcome},
                                          {"detail", r.detail}});
    if (r.outcome != peer::ReadOutcome::corrupt && r.outcome != peer::ReadOutcome::missing) return;
    m_.bad_replicas.Add({{"state", outcome}}).Increment();
    events_.publish("replica.bad", {{"image", id_}, {"node", node.node}, {"state", outcome}});
    if (Status s = replicas_.set_state(id_, node.node, outcome); !s)
      log_.warn("replica.mark_failed", {{"image", id_}, {"node", node.node}, {"error", s.message()}});
  }

  db::ReplicaRepository& replicas_;
  peer::BlobPeer& peer_;
  bus::Publisher& events_;
  DataMetrics& m_;
  log::Logger log_;
  const std::string id_;
  const std::vector<peer::Endpoint> sources_;
  const uint64_t first_, last_;
  int read_fd_ = -1;
  int write_fd_ = -1;
  uint64_t consumed_ = 0;           // next() only
  std::vector<std::byte> buf_;      // next() only
  std::thread thread_;
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
  auto src = std::make_unique<FailoverSource>(replicas_, peer_, events_, m_, log_.with({{"req", req.request_id}}),
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
