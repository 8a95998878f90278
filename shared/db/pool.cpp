#include "shared/db/pool.hpp"

#include <algorithm>
#include <exception>
#include <thread>
#include <utility>

#include <pqxx/pqxx>

namespace glint::db {

namespace {

using Clock = std::chrono::steady_clock;

bool is_uri(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

// libpq only knows whole seconds; round up so a short timeout never becomes "wait forever" (0).
long timeout_seconds(std::chrono::milliseconds ms) {
  long s = static_cast<long>((ms.count() + 999) / 1000);
  return std::max(1L, s);
}

// pqxx 6.4's connection_base has no virtual destructor, so a connection must never be deleted
// through the unique_ptr<connection_base> slots of the header: every owner hands it here instead.
// Every connection in a Pool was created as a pqxx::connection by open_connection().
void destroy(std::unique_ptr<pqxx::connection_base>& c) noexcept {
  delete static_cast<pqxx::connection*>(c.release());
}

// Holds a checked-out connection for one attempt; gives it back to the pool exactly once.
class Lease {
 public:
  Lease(std::unique_ptr<pqxx::connection_base> c,
        std::function<void(std::unique_ptr<pqxx::connection_base>, bool)> give_back)
      : conn_(std::move(c)), give_back_(std::move(give_back)) {}
  ~Lease() { done(false); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  pqxx::connection_base& conn() { return *conn_; }
  void done(bool healthy) {
    if (!conn_) return;
    const bool reusable = healthy && conn_->is_open();
    give_back_(std::move(conn_), reusable);
  }

 private:
  std::unique_ptr<pqxx::connection_base> conn_;
  std::function<void(std::unique_ptr<pqxx::connection_base>, bool)> give_back_;
};

// SQLSTATE classes that mean the session is gone rather than the statement being wrong:
// 08 connection exception, 57P01..03 admin/crash shutdown, cannot connect now.
bool is_connection_state(const std::string& sqlstate) {
  return sqlstate.rfind("08", 0) == 0 || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The password in a URI (scheme://user:password@host) or a keyword DSN (password=...).
std::string password_of(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme != std::string::npos) {
    const size_t at = url.find('@', scheme + 3);
    const size_t colon = url.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at) return url.substr(colon + 1, at - colon - 1);
  }
  const size_t kw = url.find("password=");
  if (kw == std::string::npos) return "";
  const size_t start = kw + 9;
  const size_t end = url.find_first_of(" &", start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

std::string Pool::redact(std::string msg) const {
  if (password_.empty()) return msg;
  for (size_t at = msg.find(password_); at != std::string::npos; at = msg.find(password_, at + 3))
    msg.replace(at, password_.size(), "***");
  return msg;
}

Pool::Pool(PoolOptions opts) : opts_(std::move(opts)) {
  if (opts_.size == 0) opts_.size = 1;
  password_ = password_of(opts_.url);
  const std::string timeout = std::to_string(timeout_seconds(opts_.connect_timeout));
  conninfo_ = opts_.url;
  if (conninfo_.find("connect_timeout") != std::string::npos) return;  // the caller's wins
  if (is_uri(conninfo_)) {
    conninfo_ += (conninfo_.find('?') == std::string::npos ? "?" : "&");
    conninfo_ += "connect_timeout=" + timeout;
  } else {
    if (!conninfo_.empty()) conninfo_ += ' ';
    conninfo_ += "connect_timeout=" + timeout;
  }
}

Pool::~Pool() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (prober_.joinable()) prober_.join();
  std::lock_guard lk(mu_);
  for (auto& c : idle_) destroy(c);
  idle_.clear();
}

std::unique_ptr<pqxx::connection_base> Pool::acquire(Status& err, bool& reused) {
  std::unique_lock lk(mu_);
  // Bounded: a pool whose connections are all busy for this long is as good as unavailable.
  if (!cv_.wait_for(lk, opts_.connect_timeout, [&] { return !idle_.empty() || opened_ < opts_.size; })) {
    // Busy, not down: reported as conflict so the caller does not take it for an outage.
    err = Status(Errc::conflict, "all " + std::to_string(opts_.size) + " database connections are busy");
    return nullptr;
  }
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    reused = true;
    return c;
  }
  reused = false;
  ++opened_;  // reserve the slot before connecting without the lock held
  lk.unlock();
  try {
    return std::unique_ptr<pqxx::connection_base>(new pqxx::connection(conninfo_));
  } catch (const std::exception& e) {
    err = Status(Errc::unavailable, trimmed(e.what()));
  } catch (...) {
    err = Status(Errc::unavailable, "connection failed");
  }
  lk.lock();
  --opened_;
  cv_.notify_all();  // the probe thread waits on the same condition
  return nullptr;
}

void Pool::release(std::unique_ptr<pqxx::connection_base> c, bool healthy) {
  std::lock_guard lk(mu_);
  if (healthy) {
    idle_.push_back(std::move(c));
  } else {
    destroy(c);
    --opened_;
    // One dead connection usually means the server went away: the idle ones are dead too.
    for (auto& d : idle_) destroy(d);
    opened_ -= idle_.size();
    idle_.clear();
  }
  cv_.notify_all();
}

void Pool::trip(const std::string& why) {
  std::lock_guard lk(mu_);
  trip_reason_ = why;
  if (open_.exchange(true) || stopping_) return;
  if (prober_.joinable()) prober_.join();  // the last probe has finished (it closed the breaker)
  prober_ = std::thread([this] { probe(); });
}

void Pool::probe() {
  for (;;) {
    {
      std::unique_lock lk(mu_);
      if (cv_.wait_for(lk, opts_.probe_interval, [&] { return stopping_; })) return;
    }
    try {
      pqxx::connection c(conninfo_);
      if (c.is_open()) {
        open_ = false;  // the database answers: calls go through again
        return;
      }
    } catch (...) {
      // still down: try again after the interval
    }
  }
}

Status Pool::run(const std::function<void(pqxx::connection_base&)>& fn) {
  const auto deadline = Clock::now() + opts_.retry_budget;
  auto backoff = opts_.backoff_initial;
  std::string last_error;
  bool retried_reused = false;
  auto give_back = [this](std::unique_ptr<pqxx::connection_base> c, bool healthy) {
    release(std::move(c), healthy);
  };

  for (;;) {
    if (opts_.fail_fast && open_.load()) {
      std::lock_guard lk(mu_);
      return Status(Errc::unavailable, "database unavailable: " + redact(trip_reason_));
    }
    Status err;
    bool reused = false, connection_lost = true;
    auto conn = acquire(err, reused);
    if (conn) {
      Lease lease(std::move(conn), give_back);
      try {
        fn(lease.conn());
        lease.done(true);
        return {};
      } catch (const pqxx::in_doubt_error& e) {
        // The commit may or may not have happened: re-running fn could apply it twice.
        lease.done(false);
        return Status(Errc::unavailable, "database unavailable: " + redact(trimmed(e.what())));
      } catch (const pqxx::broken_connection& e) {
        lease.done(false);
        last_error = trimmed(e.what());
      } catch (const pqxx::transaction_rollback& e) {
        // Serialization failure or deadlock: the transaction was rolled back and is safe to rerun.
        lease.done(true);
        last_error = trimmed(e.what());
        connection_lost = false;
      } catch (const pqxx::unique_violation& e) {
        lease.done(true);
        return Status(Errc::conflict, trimmed(e.what()));
      } catch (const pqxx::sql_error& e) {
        if (!is_connection_state(e.sqlstate()) && lease.conn().is_open()) {
          lease.done(true);
          return Status(Errc::io_error, redact(trimmed(e.what())));
        }
        lease.done(false);  // the server ended the session: treat like a broken connection
        last_error = trimmed(e.what());
      } catch (const std::exception& e) {
        lease.done(true);  // Lease re-checks is_open()
        return Status(Errc::io_error, redact(trimmed(e.what())));
      } catch (...) {
        lease.done(true);
        return Status(Errc::io_error, "unknown error in database call");
      }
    } else {
      last_error = err.message();
      reused = false;
      // Every connection busy is load, not an outage: never a reason to open the breaker.
      if (err.code() == Errc::conflict) {
        if (opts_.fail_fast) return Status(Errc::unavailable, "database busy: " + last_error);
        connection_lost = false;
      }
    }

    if (opts_.fail_fast && connection_lost) {
      // A pooled connection may have died with an earlier server: one fresh try, at once.
      if (reused && !retried_reused) {
        retried_reused = true;
        continue;
      }
      trip(last_error);
      return Status(Errc::unavailable, "database unavailable: " + redact(last_error));
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      return Status(Errc::unavailable, "database unavailable: " + redact(last_error));
    }
    std::this_thread::sleep_for(
        std::min<Clock::duration>(backoff, deadline - now));
    backoff = std::min(backoff * 2, opts_.backoff_max);
  }
}

}  // namespace glint::db
