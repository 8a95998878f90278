// PostgreSQL connection pool (libpqxx). A lost connection is dropped and re-opened with backoff;
// when the database cannot be reached within the retry budget the call returns Errc::unavailable
// instead of throwing. With `fail_fast` (request-serving processes: a blocked io thread is a
// frozen API) a circuit breaker replaces the retry budget: the first connection failure opens it,
// calls then fail at once with unavailable, and a background probe closes it as soon as the
// database answers again. Thread-safe.
#pragma once
#include <chrono>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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
  bool fail_fast = false;                             // breaker instead of retries (see above)
  std::chrono::milliseconds probe_interval{500};      // breaker: how often the probe tries to connect
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
  // False while the breaker is open (fail_fast pools): the database is known to be down.
  bool available() const { return !open_.load(); }

 private:
  std::unique_ptr<pqxx::connection_base> acquire(Status& err, bool& reused);
  void release(std::unique_ptr<pqxx::connection_base> c, bool healthy);
  // fail_fast: opens the breaker (once) and starts the probe that closes it again.
  void trip(const std::string& why);
  void probe();

  // An error text without the password of the connection string (libpq may quote parts of it).
  std::string redact(std::string msg) const;

  PoolOptions opts_;
  std::string conninfo_;  // opts_.url plus connect_timeout
  std::string password_;  // the connection string's password, scrubbed from every error
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pqxx::connection_base>> idle_;
  size_t opened_ = 0;  // connections open or being opened
  std::atomic<bool> open_{false};  // the breaker
  std::string trip_reason_;        // under mu_
  bool stopping_ = false;          // under mu_
  std::thread prober_;
};

}  // namespace glint::db
