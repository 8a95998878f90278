// A real glint-store process for integration tests: own data dir and config, a free port chosen
// by the process itself (port file), started and health-checked with a deadline, stopped by PID.
#pragma once
#include <csignal>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "shared/http/client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/service_process.hpp"

namespace glint::testing {

struct StoreNodeOptions {
  std::string name = "node1";
  std::string zone = "z1";
  std::string data_dir;        // required
  std::string database_url;    // empty: a closed port (database unavailable)
  std::string secret = "test-secret";
  std::map<std::string, std::string> overrides;  // "section.key" -> value
  std::optional<http::ClientTls> client_tls;     // how client() reaches a store serving HTTPS
};

class StoreNode {
 public:
  explicit StoreNode(StoreNodeOptions opts);
  // Starts the process and waits (deadline) until /healthcheck answers 200. False on failure
  // (the log is in log_path()).
  bool start(std::chrono::milliseconds deadline = std::chrono::seconds(20));
  // SIGTERM and wait; returns the wait status.
  int stop(int sig = SIGTERM) { return proc_.stop(sig); }
  bool running() { return proc_.running(); }
  uint16_t port() const { return proc_.port(); }
  pid_t pid() const { return proc_.pid(); }
  const std::string& log_path() const { return proc_.log_path(); }
  const StoreNodeOptions& options() const { return opts_; }

  http::Client client(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  // A request signed for this node (method, target, body length, conditions in `headers`, nonce).
  Expected<http::ClientResponse> signed_request(const std::string& method, const std::string& target,
                                                std::string body = {}, http::Headers headers = {}) const;
  static std::string blob_target(const std::string& id) { return "/v1/blobs/" + id; }
  // Signs `headers` for a request to this node (length: "", a byte count or "chunked"; the
  // conditions are read from `headers`), optionally with another secret or date.
  void sign(http::Headers& headers, const std::string& method, const std::string& target, const std::string& length,
            const std::string& secret = "",
            std::chrono::system_clock::time_point at = std::chrono::system_clock::now()) const;

 private:
  StoreNodeOptions opts_;
  ServiceProcess proc_;
};

// A loopback TCP port with nothing listening (bound then closed).
uint16_t closed_port();

}  // namespace glint::testing
