#include "shared/peer/blob_peer.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "shared/http/auth.hpp"
#include "shared/http/client.hpp"
#include "shared/http/server_options.hpp"
#include "shared/peer/pipe_read.hpp"

namespace glint::peer {

Expected<Endpoint> endpoint_of(const std::string& node, const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return Error{Errc::invalid, "bad node address '" + address + "'"};
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const char* b = address.data() + colon + 1;
  const char* e = address.data() + address.size();
  auto [p, ec] = std::from_chars(b, e, port);
  if (ec != std::errc() || p != e || port == 0 || port > 65535)
    return Error{Errc::invalid, "bad node address '" + address + "'"};
  return Endpoint{node, std::move(host), static_cast<uint16_t>(port)};
}

const char* outcome_name(ReadOutcome o) {
  switch (o) {
    case ReadOutcome::complete: return "complete";
    case ReadOutcome::missing: return "missing";
    case ReadOutcome::corrupt: return "corrupt";
    case ReadOutcome::unreachable: return "unreachable";
    case ReadOutcome::failed: return "failed";
    case ReadOutcome::cancelled: return "cancelled";
  }
  return "unknown";
}

namespace {

std::string blob_target(const std::string& id) { return "/v1/blobs/" + id; }

// glint-store over HTTP with signed requests; one short-lived connection per call. Thread-safe
// (immutable after construction; the clock is thread-safe).
class HttpBlobPeer final : public BlobPeer {
 public:
  HttpBlobPeer(PeerOptions opts, const Clock& clock)
      : secret_(std::move(opts.shared_secret)), timeout_(opts.timeout), tls_(std::move(opts.tls)), clock_(clock) {}

  Expected<StoredBlob> put(const Endpoint& node, const std::string& id, http::BodySource& body,
                           std::optional<uint64_t> length, const PutOptions& opts) override {
    http::Headers extra;
    if (opts.expect_digest) extra.set(std::string(http::kExpectDigestHeader), *opts.expect_digest);
    if (opts.replace_digest) extra.set("If-Match", quoted(*opts.replace_digest));
    http::ClientRequest req = signed_request("PUT", id, node, http::body_binding(length, !length), extra);
    req.upload = &body;
    req.upload_length = length;
    req.headers.set("Content-Type", "application/octet-stream");
    auto resp = client(node).send(req);
    if (!resp) return resp.error();
    if (resp->status == 201) {
      auto j = nlohmann::json::parse(resp->body, nullptr, false);
      if (j.is_object() && j.contains("size") && j["size"].is_number_unsigned() && j.contains("digest") &&
          j["digest"].is_string())
        return StoredBlob{j["size"].get<uint64_t>(), j["digest"].get<std::string>()};
      return Error{Errc::io_error, node.node + ": malformed PUT answer"};
    }
    const std::string why = node.node + ": PUT answered " + std::to_string(resp->status);
    if (resp->status == 409 || resp->status == 412) return Error{Errc::conflict, why};
    if (resp->status == 422) return Error{Errc::corrupt, why + " (digest mismatch: nothing kept)"};
    if (resp->status == 507) return Error{Errc::no_space, why};
    if (resp->status == 503) return Error{Errc::unavailable, why};
    return Error{Errc::io_error, why};
  }

  ReadResult read_into(const Endpoint& node, const std::string& id, uint64_t first, std::optional<uint64_t> last,
                       int out_fd) override {
    http::Headers range;
    set_range(range, first, last);
    http::ClientRequest req = signed_request("GET", id, node, "", range);
    const PipeRead r = tls_ ? tls_into_pipe(node, req, out_fd)
                            : get_into_pipe(node.host, node.port, req.target, req.headers, out_fd, timeout_);
    ReadResult out;
    out.delivered = r.delivered;
    return classify(node, id, out, r.status, r.error, r.detail);
  }

  Status remove(const Endpoint& node, const std::string& id, const std::string& if_match) override {
    http::Headers cond;
    cond.set("If-Match", if_match == "*" ? if_match : quoted(if_match));
    auto resp = client(node).send(signed_request("DELETE", id, node, "", cond));
    if (!resp) return resp.error();
    if (resp->status == 204 || resp->status == 404) return {};
    if (resp->status == 412) return Status(Errc::conflict, node.node + ": holds a different copy of " + id);
    return Status(Errc::io_error, node.node + ": DELETE answered " + std::to_string(resp->status));
  }

  Expected<std::optional<StoredBlob>> stat(const Endpoint& node, const std::string& id) override {
    auto resp = client(node).send(signed_request("HEAD", id, node, "", {}));
    if (!resp) return resp.error();
    if (resp->status == 404) return std::optional<StoredBlob>();
    if (resp->status != 200) return Error{Errc::io_error, node.node + ": HEAD answered " + std::to_string(resp->status)};
    const std::string size = resp->header("x-glint-size");
    const std::string digest = resp->header("x-glint-digest");
    uint64_t n = 0;
    if (size.empty() || digest.empty() || std::from_chars(size.data(), size.data() + size.size(), n).ec != std::errc())
      return Error{Errc::io_error, node.node + ": HEAD without size and digest"};
    return std::optional<StoredBlob>(StoredBlob{n, digest});
  }

 private:
  static void set_range(http::Headers& h, uint64_t first, std::optional<uint64_t> last) {
    if (first > 0 || last) h.set("Range", "bytes=" + std::to_string(first) + "-" + (last ? std::to_string(*last) : ""));
  }

  // How a read ended, from the HTTP status (0: none) or the transport error. A read refused or cut
  // mid-stream by a node that is still reachable but no longer holds the blob means it was
  // quarantined: corrupt.
  ReadResult classify(const Endpoint& node, const std::string& id, ReadResult out, int status, Errc err,
                      const std::string& detail) {
    if (err == Errc::ok && (status == 200 || status == 206)) {
      out.outcome = ReadOutcome::complete;
      return out;
    }
    if (err == Errc::ok && status == 404) {
      out.outcome = ReadOutcome::missing;
      out.detail = node.node + ": no such blob";
      return out;
    }
    if (err == Errc::cancelled) {
      out.outcome = ReadOutcome::cancelled;
      return out;
    }
    if (err == Errc::unavailable) {
      out.outcome = ReadOutcome::unreachable;
      out.detail = detail;
      return out;
    }
    out.detail = err == Errc::ok ? node.node + ": GET answered " + std::to_string(status) : detail;
    auto still = stat(node, id);
    if (!still) out.outcome = ReadOutcome::unreachable;
    else out.outcome = still->has_value() ? ReadOutcome::failed : ReadOutcome::corrupt;
    return out;
  }

  // TLS decrypts in user space, so there is no splicing from the socket: the body is written into
  // the pipe as it is decrypted, with the same outcomes as get_into_pipe.
  PipeRead tls_into_pipe(const Endpoint& node, http::ClientRequest& req, int out_fd) {
    PipeRead r;
    bool reader_gone = false;
    req.on_body = [&](std::span<const std::byte> chunk) {
      reader_gone = !write_all(out_fd, reinterpret_cast<const char*>(chunk.data()), chunk.size());
      if (!reader_gone) r.delivered += chunk.size();
      return !reader_gone;
    };
    auto resp = client(node).send(req);
    if (!resp) {
      r.error = reader_gone ? Errc::cancelled : resp.code() == Errc::unavailable ? Errc::unavailable : Errc::io_error;
      r.detail = resp.error().message;
      return r;
    }
    r.status = resp->status;
    return r;
  }

  static std::string quoted(const std::string& digest) { return "\"" + digest + "\""; }

  // A request signed for this node only, with its declared body length ("" when it has none,
  // "chunked") and its conditions, under a fresh nonce: a captured request cannot be replayed,
  // sent to another node or given another body.
  http::ClientRequest signed_request(const char* method, const std::string& id, const Endpoint& node,
                                     const std::string& length, const http::Headers& extra) const {
    http::ClientRequest req;
    req.method = method;
    req.target = blob_target(id);
    req.headers = extra;
    http::sign_headers(req.headers, secret_, http::fields_for(req.method, req.target, node.node, length, extra),
                       clock_.wall());
    return req;
  }
  http::Client client(const Endpoint& node) const {
    if (!tls_) return http::Client(node.host, node.port, timeout_);
    return http::Client(node.host, node.port, timeout_, http::ClientTls{tls_, node.node});
  }

  const std::string secret_;
  const std::chrono::milliseconds timeout_;
  const std::shared_ptr<const http::TlsClientContext> tls_;
  const Clock& clock_;
};

}  // namespace

std::unique_ptr<BlobPeer> make_http_blob_peer(PeerOptions opts, const Clock& clock) {
  return std::make_unique<HttpBlobPeer>(std::move(opts), clock);
}

Expected<PeerOptions> peer_options(const config::Config& cfg, const std::string& timeout_section) {
  PeerOptions o;
  o.shared_secret = cfg.get_string("auth", "shared_secret");
  if (o.shared_secret.empty()) return Error{Errc::invalid, "[auth] shared_secret is required to reach the storage nodes"};
  o.timeout = cfg.get_duration(timeout_section, "peer_timeout");
  auto files = http::node_tls_files(cfg);
  if (!files) return files.error();
  if (!files->enabled()) return o;
  auto ctx = http::client_tls(*files);
  if (!ctx) return Error{Errc::invalid, "[tls] " + ctx.error().message};
  o.tls = *ctx;
  return o;
}

}  // namespace glint::peer
