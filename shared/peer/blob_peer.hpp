// The seam between processes that move image data (glint-api, the replicator) and the storage
// nodes: signed blob operations on one glint-store. Implementations are thread-safe.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "shared/core/clock.hpp"
#include "shared/core/result.hpp"
#include "shared/config/config.hpp"
#include "shared/http/message.hpp"
#include "shared/http/tls.hpp"

namespace glint::peer {

// Where a node's glint-store listens (from the nodes table).
struct Endpoint {
  std::string node;
  std::string host;
  uint16_t port = 0;
};
// Parses "host:port" (IPv6 as "[addr]:port"); invalid otherwise.
Expected<Endpoint> endpoint_of(const std::string& node, const std::string& address);

// What a node reports after storing a blob.
struct StoredBlob {
  uint64_t size = 0;
  std::string digest;  // XXH3-128 hex of the bytes
};

// How a read ended. corrupt: the node refused or cut the stream and no longer holds the blob
// (it quarantined it); failed: any other error while the node stays reachable.
enum class ReadOutcome { complete, missing, corrupt, unreachable, failed, cancelled };
const char* outcome_name(ReadOutcome o);

struct ReadResult {
  ReadOutcome outcome = ReadOutcome::failed;
  uint64_t delivered = 0;  // bytes written to the output
  std::string detail;
};

// Conditions on a PUT, checked by the node before anything becomes visible.
struct PutOptions {
  // The XXH3-128 hex the bytes must hash to: otherwise the node keeps nothing and answers corrupt.
  std::optional<std::string> expect_digest;
  // Replace the copy the node holds if (and only if) its digest is this one: the new copy is
  // written under a temporary name and swapped in only once its digest is proven; the old bytes
  // go to the node's quarantine, never deleted. Without it an existing copy is a conflict.
  std::optional<std::string> replace_digest;
};

class BlobPeer {
 public:
  virtual ~BlobPeer() = default;
  // Streams `body` (exactly *length bytes, or chunked when nullopt) into a new blob. conflict when
  // the node already holds one (or, with replace_digest, a different one), corrupt when the bytes
  // missed expect_digest, no_space, unavailable when the node cannot be reached (nothing was
  // stored), io_error when the transfer broke or the node refused otherwise (it may hold a copy).
  virtual Expected<StoredBlob> put(const Endpoint& node, const std::string& id, http::BodySource& body,
                                   std::optional<uint64_t> length, const PutOptions& opts = {}) = 0;
  // Reads bytes [first, last] (to the end when last is nullopt), every block verified by the node,
  // into out_fd (a pipe's write end); over HTTP they are spliced there from the socket without
  // passing through user space.
  virtual ReadResult read_into(const Endpoint& node, const std::string& id, uint64_t first,
                               std::optional<uint64_t> last, int out_fd) = 0;
  // Removes the node's copy only if it is the one meant: its digest equals `if_match` ("*": any
  // copy — for cleanups of data nobody counts, such as a failed upload). ok when the blob is gone
  // (also when it never existed); conflict when the node holds a different copy; unavailable
  // when unreachable.
  virtual Status remove(const Endpoint& node, const std::string& id, const std::string& if_match) = 0;
  // The node's copy (size and digest from its sidecar); nullopt when it holds none; unavailable
  // when unreachable.
  virtual Expected<std::optional<StoredBlob>> stat(const Endpoint& node, const std::string& id) = 0;
};

struct PeerOptions {
  std::string shared_secret;  // signs every request ([auth] shared_secret)
  std::chrono::milliseconds timeout{30000};
  // HTTPS to the stores: each verified against the cluster CA and by its node name (not its
  // address), this node's certificate presented. Null: plain HTTP, image bytes spliced zero-copy.
  std::shared_ptr<const http::TlsClientContext> tls;
};
std::unique_ptr<BlobPeer> make_http_blob_peer(PeerOptions opts, const Clock& clock);

// PeerOptions from a process's config: [auth] shared_secret, [timeout_section] peer_timeout and
// the [tls] files. invalid with the reason when the secret is missing or a TLS file does not load.
Expected<PeerOptions> peer_options(const config::Config& cfg, const std::string& timeout_section);

}  // namespace glint::peer
