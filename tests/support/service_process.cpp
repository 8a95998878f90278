#include "tests/support/service_process.hpp"

#include <filesystem>
#include <fstream>

namespace glint::testing {

ServiceProcess::ServiceProcess(std::string binary, std::string section, std::string base)
    : binary_(std::move(binary)), section_(std::move(section)), conf_(base), log_(base), port_file_(base) {
  // Appended in the body: g++ 12 reports a false -Wrestrict for `base + ".x"` in the init list.
  conf_.append(".conf");
  log_.append(".log");
  port_file_.append(".port");
}

ServiceProcess::~ServiceProcess() {
  if (proc_.running()) proc_.stop(SIGKILL, std::chrono::seconds(10));
}

bool ServiceProcess::start(const IniMap& ini_in, std::chrono::milliseconds deadline) {
  IniMap ini = ini_in;
  ini[section_]["port_file"] = port_file_;
  ini[section_].emplace("bind_port", "0");  // keeps a caller's port
  {
    std::ofstream f(conf_, std::ios::trunc);
    for (const auto& [section, kv] : ini) {
      f << "[" << section << "]\n";
      for (const auto& [k, v] : kv) f << k << " = " << v << "\n";
    }
  }
  std::filesystem::remove(port_file_);
  proc_ = Process({bin_path(binary_), "--config-file", conf_}, log_);
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

int ServiceProcess::stop(int sig) { return proc_.stop(sig, std::chrono::seconds(20)); }

http::Client ServiceProcess::client(std::chrono::milliseconds timeout) const {
  return http::Client("127.0.0.1", port_, timeout, tls_);
}

}  // namespace glint::testing
