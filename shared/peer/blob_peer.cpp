#include "shared/peer/blob_peer.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "shared/http/auth.hpp"
#include "shared/http/client.hpp"
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
  HttpBlobPeer(std::string secret, std::chrono::milliseconds timeout, const Clock& clock)
      : secret_(std::move(secret)), timeout_(timeout), clock_(clock) {}

  Expected<StoredBlob> put(const Endpoint& node, const std::string& id, http::BodySource& body,
                           std::optional<uint64_t> length) override {
    http::ClientRequest req = signed_request("PUT", id);
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
    if (resp->status == 409) return Error{Errc::conflict, why};
    if (resp->status == 507) return Error{Errc::no_space, why};
    if (resp->status == 503) return Error{Errc::unavailable, why};
    return Error{Errc::io_error, why};
  }

  ReadResult read_into(const Endpoint& node, const std::string& id, uint64_t first, std::optional<uint64_t> last,
                       int out_fd) override {
    http::ClientRequest req = signed_request("GET", id);
    set_range(req.headers, first, last);
    const PipeRead r = get_into_pipe(node.host, node.port, req.target, req.headers, out_fd, timeout_);
    ReadResult out;
    out.delivered = r.delivered;
    return classify(node, id, out, r.status, r.error, r.detail);
  }

  Status remove(const Endpoint& node, const std::string& id) override {
    auto resp = client(node).send(signed_request("DELETE", id));
    if (!resp) return resp.error();
    if (resp->status == 204 || resp->status == 404) return {};
    return Status(Errc::io_error, node.node + ": DELETE answered " + std::to_string(resp->status));
  }

  Expected<bool> exists(const Endpoint& node, const std::string& id) override {
    auto resp = client(node).send(signed_request("HEAD", id));
    if (!resp) return resp.error();
    if (resp->status == 200) return true;
    if (resp->status == 404) return false;
    return Error{Errc::io_error, node.node + ": HEAD answered " + std::to_string(resp->status)};
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
    auto still = exists(node, id);
    if (!still) out.outcome = ReadOutcome::unreachable;
    else out.outcome = *still ? ReadOutcome::failed : ReadOutcome::corrupt;
    return out;
  }

  http::ClientRequest signed_request(const char* method, const std::string& id) const {
    http::ClientRequest req;
    req.method = method;
    req.target = blob_target(id);
    http::sign_headers(req.headers, secret_, req.method, req.target, clock_.wall());
    return req;
  }
  http::Client client(const Endpoint& node) const { return http::Client(node.host, node.port, timeout_); }

  const std::string secret_;
  const std::chrono::milliseconds timeout_;
  const Clock& clock_;
};

}  // namespace

std::unique_ptr<BlobPeer> make_http_blob_peer(std::string shared_secret, std::chrono::milliseconds timeout,
                                              const Clock& clock) {
  return std::make_unique<HttpBlobPeer>(std::move(shared_secret), timeout, clock);
}

}  // namespace glint::peer
