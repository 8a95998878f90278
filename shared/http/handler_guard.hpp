// What every request gets around its handler, apart from the Beast session (cheap to compile and
// unit-test): the in-flight count the SIGTERM drain waits for, malformed-text refusal, and
// exceptions turned into answers (a handler bug costs a 500, never a dropped connection or a
// leaked count). Stateless functions; InFlight is single-owner.
#pragma once
#include <atomic>
#include <functional>

#include "shared/http/message.hpp"
#include "shared/log/log.hpp"

namespace glint::http {

// Counts a request in flight; never leaks, whatever way the session ends.
class InFlight {
 public:
  explicit InFlight(std::atomic<int>& n) : n_(&n) { ++*n_; }
  ~InFlight() { release(); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  void release() {
    if (n_) --*n_;
    n_ = nullptr;
  }

 private:
  std::atomic<int>* n_;
};

// Runs a handler callback; an exception is logged and swallowed (the request is answered anyway).
void guarded(const log::Logger& logger, const Request& req, const char* what, const std::function<void()>& fn);
// The handler's reply after the checks every request gets: malformed text is 400, an exception 500.
Reply answer(Handler& handler, const Request& req, const log::Logger& logger);
// A sink's response (finish/failed), or a 500 that closes the connection if the sink threw.
Response sink_response(const log::Logger& logger, const Request& req, const std::function<Response()>& fn);

}  // namespace glint::http
