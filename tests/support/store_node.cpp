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

StoreNode::StoreNode(StoreNodeOptions opts)
    : opts_(std::move(opts)), proc_("glint-store", "store", opts_.data_dir + "/../" + opts_.name) {
  std::filesystem::create_directories(opts_.data_dir);
}

bool StoreNode::start(std::chrono::milliseconds deadline) {
  std::string db = opts_.database_url;
  if (db.empty()) db = "postgresql://postgres@127.0.0.1:" + std::to_string(closed_port()) + "/none";
  IniMap ini;
  ini["DEFAULT"]["node_name"] = opts_.name;
  ini["DEFAULT"]["log_level"] = "debug";
  ini["database"]["connection"] = db;
  ini["database"]["retry_budget"] = "500ms";
  ini["database"]["connect_timeout"] = "2s";
  ini["auth"]["shared_secret"] = opts_.secret;
  ini["store"]["data_dir"] = opts_.data_dir;
  ini["store"]["zone"] = opts_.zone;
  ini["store"]["reserve"] = "0";
  ini["store"]["heartbeat_interval"] = "500ms";
  ini["store"]["fsync"] = "false";  // durability is unit-tested; integration tests want speed
  for (const auto& [k, v] : opts_.overrides) {
    const auto dot = k.find('.');
    ini[k.substr(0, dot)][k.substr(dot + 1)] = v;
  }
  proc_.set_client_tls(opts_.client_tls);
  return proc_.start(ini, deadline);
}

http::Client StoreNode::client(std::chrono::milliseconds timeout) const { return proc_.client(timeout); }

Expected<http::ClientResponse> StoreNode::signed_request(const std::string& method, const std::string& target,
                                                         std::string body, http::Headers headers) const {
  sign(headers, method, target, http::body_binding(body.size(), false));
  return client().request(method, target, std::move(headers), std::move(body));
}

void StoreNode::sign(http::Headers& headers, const std::string& method, const std::string& target,
                     const std::string& length, const std::string& secret, std::chrono::system_clock::time_point at) const {
  http::sign_headers(headers, secret.empty() ? opts_.secret : secret,
                     http::fields_for(method, target, opts_.name, length, headers), at);
}

}  // namespace glint::testing
