// PostgreSQL connection pool (libpqxx). A lost connection is dropped and re-opened with backoff;
// when the database cannot be reached within the retry budget the call returns Errc::unavailable
// instead of throwing. Thread-safe.
#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "shared/core/result.hpp"

namespace pqxx { class connection_base; }

namespace glint::db {

struct PoolOptions {
  std::string url;                                    // postgresql://user@host:port/db or DSN
  size_t size = 4;                                    // max open connections
  std::chrono::milliseconds connect_timeout{5000};    // per attempt
  std::chrono::milliseconds retry_budget{10000};      // total time spent retrying one call
  std::chrono::milliseconds backoff_initial{100};     // doubled per attempt, capped at backoff_max
  std::chrono::milliseconds backoff_max{2000};
};

class Pool {
 public:
  explicit Pool(PoolOptions opts);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Runs fn with a connection. pqxx::broken_connection (and connect failures) are retried with
  // backoff on a fresh connection, serialization failures and deadlocks on the same one, within
  // the retry budget, then reported as unavailable; other
  // pqxx/SQL errors are reported as io_error (message = the server's) without retry.
  // fn must be idempotent (it may run more than once) and should do its work in one transaction.
  Status run(const std::function<void(pqxx::connection_base&)>& fn);

  template <class T>
  Expected<T> query(const std::function<T(pqxx::connection_base&)>& fn) {
    T out{};
    Status s = run([&](pqxx::connection_base& c) { out = fn(c); });
    if (!s) return s.error();
    return out;
  }

  const PoolOptions& options() const { return opts_; }

 private:
  std::unique_ptr<pqxx::connection_base> acquire(Status& err);
  void release(std::unique_ptr<pqxx::connection_base> c, bool healthy);

  PoolOptions opts_;
  std::string conninfo_;  // opts_.url plus connect_timeout
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pqxx::connection_base>> idle_;
  size_t open_ = 0;
};

}  // namespace glint::db
