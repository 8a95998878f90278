#include "shared/http/handler_guard.hpp"

namespace glint::http {

namespace {

Response internal_error() { return json_error(500, "Internal Server Error", "the request could not be handled"); }

}  // namespace

void guarded(const log::Logger& logger, const Request& req, const char* what, const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    logger.error("http.handler_threw", {{"req", req.request_id}, {"in", what}, {"error", e.what()}});
  } catch (...) {
    logger.error("http.handler_threw", {{"req", req.request_id}, {"in", what}});
  }
}

Reply answer(Handler& handler, const Request& req, const log::Logger& logger) {
  if (auto bad = refuse_malformed(req)) {
    logger.warn("http.bad_request", {{"req", req.request_id}, {"remote", req.remote}, {"error", "not UTF-8 text"}});
    return Reply::of(std::move(*bad));
  }
  Reply out = Reply::of(internal_error());
  guarded(logger, req, "handle_request", [&] { out = handler.handle_request(req); });
  return out;
}

Response sink_response(const log::Logger& logger, const Request& req, const std::function<Response()>& fn) {
  Response out = internal_error();
  out.close = true;
  guarded(logger, req, "sink", [&] { out = fn(); });
  return out;
}

}  // namespace glint::http
