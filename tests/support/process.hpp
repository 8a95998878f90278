// Test harness helpers: temp dirs, child processes stopped by PID, polling a condition with a
// deadline (never a bare sleep), and raw loopback sockets for malformed-request tests.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace glint::testing {

// A fresh directory under /tmp, removed with its contents on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "glint-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Polls `cond` every few milliseconds until it holds or the deadline passes.
bool wait_for(const std::function<bool()>& cond, std::chrono::milliseconds deadline);

// A child process; killed (SIGKILL) on destruction if still running.
class Process {
 public:
  Process() = default;
  Process(std::vector<std::string> argv, const std::string& log_file);
  ~Process();
  Process(Process&& o) noexcept;
  Process& operator=(Process&& o) noexcept;
  pid_t pid() const { return pid_; }
  bool running();
  // Sends sig and waits up to `deadline` for exit; returns the wait status (-1 if it did not exit).
  int stop(int sig, std::chrono::milliseconds deadline);

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// Path of an executable built into build/bin (from GLINT_BIN_DIR).
std::string bin_path(const std::string& name);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);

// Sends raw bytes to 127.0.0.1:port and reads until the peer closes or `timeout` passes.
// If close_after_send, the socket is closed right after sending (a client vanishing mid-request).
std::string raw_exchange(uint16_t port, const std::string& bytes, std::chrono::milliseconds timeout,
                         bool close_after_send = false);

}  // namespace glint::testing
