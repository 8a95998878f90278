// A real glint process for integration tests: writes its INI config, starts the binary, learns
// its port from the port file the process writes (it binds port 0 itself), waits for
// /healthcheck with a deadline, and stops it by PID.
#pragma once
#include <chrono>
#include <csignal>
#include <map>
#include <string>

#include "shared/http/client.hpp"
#include "tests/support/process.hpp"

namespace glint::testing {

using IniMap = std::map<std::string, std::map<std::string, std::string>>;  // section -> key -> value

class ServiceProcess {
 public:
  // binary: name in build/bin; section: the config section holding port_file; base: path prefix
  // for the .conf, .log and .port files.
  ServiceProcess(std::string binary, std::string section, std::string base);
  ~ServiceProcess();
  bool start(const IniMap& ini, std::chrono::milliseconds deadline = std::chrono::seconds(20));
  int stop(int sig = SIGTERM);
  bool running() { return proc_.running(); }
  uint16_t port() const { return port_; }
  pid_t pid() const { return proc_.pid(); }
  const std::string& log_path() const { return log_; }
  http::Client client(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  // HTTPS for client() and the health check (the process serves TLS).
  void set_client_tls(std::optional<http::ClientTls> tls) { tls_ = std::move(tls); }

 private:
  std::string binary_, section_, conf_, log_, port_file_;
  std::optional<http::ClientTls> tls_;
  Process proc_;
  uint16_t port_ = 0;
};

}  // namespace glint::testing
