#include "tests/support/store_node.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "shared/http/auth.hpp"

namespace glint::testing {

uint16_t closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

StoreNode::StoreNode(StoreNodeOptions opts) : opts_(std::move(opts)) {
  std::filesystem::create_directories(opts_.data_dir);
  const std::string base = opts_.data_dir + "/../" + opts_.name;
  conf_ = base + ".conf";
  log_ = base + ".log";
  port_file_ = base + ".port";
}

StoreNode::~StoreNode() {
  if (proc_.running()) proc_.stop(SIGKILL, std::chrono::seconds(10));
}

bool StoreNode::start(std::chrono::milliseconds deadline) {
  std::string db = opts_.database_url;
  if (db.empty()) db = "postgresql://postgres@127.0.0.1:" + std::to_string(closed_port()) + "/none";
  std::map<std::string, std::map<std::string, std::string>> ini;
  ini["DEFAULT"]["node_name"] = opts_.name;
  ini["DEFAULT"]["log_level"] = "debug";
  ini["database"]["connection"] = db;
  ini["database"]["retry_budget"] = "500ms";
  ini["database"]["connect_timeout"] = "2s";
  ini["auth"]["shared_secret"] = opts_.secret;
  ini["store"]["data_dir"] = opts_.data_dir;
  ini["store"]["zone"] = opts_.zone;
  ini["store"]["port_file"] = port_file_;
  ini["store"]["reserve"] = "0";
  ini["store"]["heartbeat_interval"] = "500ms";
  ini["store"]["fsync"] = "false";  // tests run on tmpfs-like speed; durability is unit-tested
  for (const auto& [k, v] : opts_.overrides) {
    const auto dot = k.find('.');
    ini[k.substr(0, dot)][k.substr(dot + 1)] = v;
  }
  {
    std::ofstream f(conf_, std::ios::trunc);
    for (const auto& [section, kv] : ini) {
      f << "[" << section << "]\n";
      for (const auto& [k, v] : kv) f << k << " = " << v << "\n";
    }
  }
  std::filesystem::remove(port_file_);
  proc_ = Process({bin_path("glint-store"), "--config-file", conf_}, log_);
  const bool up = wait_for(
      [this] {
        if (!proc_.running()) return true;  // died: stop waiting
        const std::string p = read_file(port_file_);
        if (p.empty()) return false;
        port_ = static_cast<uint16_t>(std::stoi(p));
        auto r = client(std::chrono::seconds(2)).request("GET", "/healthcheck");
        return r.ok() && r->status == 200;
      },
      deadline);
  return up && proc_.running();
}

int StoreNode::stop(int sig) { return proc_.stop(sig, std::chrono::seconds(20)); }

http::Client StoreNode::client(std::chrono::milliseconds timeout) const {
  return http::Client("127.0.0.1", port_, timeout);
}

Expected<http::ClientResponse> StoreNode::signed_request(const std::string& method, const std::string& target,
                                                         std::string body, http::Headers headers) const {
  http::sign_headers(headers, opts_.secret, method, target, std::chrono::system_clock::now());
  return client().request(method, target, std::move(headers), std::move(body));
}

}  // namespace glint::testing
