// Bytes [first, last] of a blob from a list of nodes: a helper thread splices them from the first
// node into a pipe and, when that node dies or refuses a bad block mid-stream, continues at the
// same byte offset from the next node. A server splices the pipe on to its client (PipeBody);
// other consumers call next(). One consumer thread calls start() then streams.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "shared/http/message.hpp"
#include "shared/peer/blob_peer.hpp"

namespace glint::peer {

struct FailoverHooks {
  // Before each node is read (offset = where it starts); failover = not the first node.
  std::function<void(const Endpoint&, uint64_t offset, bool failover)> on_source = {};
  // A node that did not deliver its part (corrupt, missing, unreachable, …); on the fetch thread.
  std::function<void(const Endpoint&, const ReadResult&)> on_failed = {};
  // Bytes delivered by one node.
  std::function<void(uint64_t)> on_bytes = {};
  // Every node was tried and the range is still short.
  std::function<void(uint64_t offset)> on_exhausted = {};
};

class FailoverSource final : public http::BodySource, public http::PipeBody {
 public:
  FailoverSource(BlobPeer& peer, std::string blob_id, std::vector<Endpoint> sources, uint64_t first, uint64_t last,
                 FailoverHooks hooks);
  ~FailoverSource() override;  // a fetch blocked on a full pipe gets EPIPE and stops

  // Waits for the first bytes; false when no node could deliver any.
  bool start();
  int pipe_fd() override { return read_fd_; }
  // Reads the pipe (for consumers that do not splice); unavailable when the range ended short.
  Expected<std::span<const std::byte>> next() override;

 private:
  static constexpr size_t kPipeBytes = 1 << 20;
  void fetch();

  BlobPeer& peer_;
  const std::string id_;
  const std::vector<Endpoint> sources_;
  const uint64_t first_, last_;
  FailoverHooks hooks_;
  int read_fd_ = -1;
  int write_fd_ = -1;
  uint64_t consumed_ = 0;       // next() only
  std::vector<std::byte> buf_;  // next() only
  std::thread thread_;
};

}  // namespace glint::peer
