#include "workers/coordinator/coordinator_service.hpp"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>
#include <zmq.hpp>

#include <cstdio>
#include <map>
#include <optional>

#include "shared/bus/curve_socket.hpp"

#include "shared/db/migrations.hpp"
#include "shared/db/pool.hpp"
#include "shared/db/pool_options.hpp"
#include "shared/http/server.hpp"
#include "shared/http/server_options.hpp"
#include "shared/util/memory.hpp"
#include "shared/util/port_file.hpp"
#include "workers/coordinator/coordinator.hpp"

namespace glint::coordinator {
namespace {

// /healthcheck and /metrics; everything else is 404. Thread-safe (metrics are).
class HealthHandler final : public http::Handler {
 public:
  explicit HealthHandler(metrics::Metrics& m) : metrics_(m) {}
  http::Reply handle_request(const http::Request& req) override {
    if (req.path == "/healthcheck") return http::Reply::of(http::text_response(200, "OK"));
    if (req.path == "/metrics") return http::Reply::of(http::text_response(200, metrics_.render(), "text/plain; version=0.0.4"));
    return http::Reply::of(http::json_error(404, "Not Found", "no such resource"));
  }

 private:
  metrics::Metrics& metrics_;
};

// What the bus admits when CURVE is on: the authorized keys, and the ZAP socket libzmq asks.
struct BusAuth {
  std::map<std::string, bus::AuthorizedKey> keys;  // by Z85 public key
  zmq::socket_t* zap = nullptr;
  prometheus::Family<prometheus::Counter>* refused = nullptr;
  log::Logger* log = nullptr;
  // Refusals are counted exactly; their log lines are thinned (a stranger can knock in a loop).
  log::Throttle refusal_log{20, std::chrono::minutes(1)};
  bool log_refusal(uint64_t& left_out) { return refusal_log.allow(std::chrono::steady_clock::now(), &left_out); }
};

// One ZAP request (RFC 27): a known CURVE key is admitted with "ROLE NAME" as its User-Id;
// anything else gets 400, counted.
void answer_zap(BusAuth& auth) {
  std::vector<zmq::message_t> req;
  for (;;) {
    zmq::message_t part;
    if (!auth.zap->recv(part, zmq::recv_flags::dontwait)) return;
    const bool more = part.more();
    req.push_back(std::move(part));
    if (!more) break;
  }
  std::string status = "400", text = "unknown key", user;
  if (req.size() >= 7 && req[5].to_string_view() == "CURVE" && req[6].size() == 32) {
    char z85[41] = {};
    zmq_z85_encode(z85, static_cast<const uint8_t*>(req[6].data()), 32);
    auto it = auth.keys.find(z85);
    if (it != auth.keys.end()) {
      status = "200";
      text = "OK";
      user = bus::user_id_of(it->second);
    } else {
      auth.refused->Add({{"reason", "unknown_key"}}).Increment();
      if (uint64_t left_out = 0; auth.log_refusal(left_out))
        auth.log->warn("bus.key_refused", {{"key", std::string(z85)}, {"address", req[3].to_string()},
                                           {"not_logged_before", left_out}});
    }
  } else {
    auth.refused->Add({{"reason", "not_curve"}}).Increment();
  }
  const std::string version = "1.0", request_id = req.size() > 1 ? req[1].to_string() : "";
  auth.zap->send(zmq::buffer(version), zmq::send_flags::sndmore);
  auth.zap->send(zmq::buffer(request_id), zmq::send_flags::sndmore);
  auth.zap->send(zmq::buffer(status), zmq::send_flags::sndmore);
  auth.zap->send(zmq::buffer(text), zmq::send_flags::sndmore);
  auth.zap->send(zmq::buffer(user), zmq::send_flags::sndmore);
  auth.zap->send(zmq::str_buffer(""), zmq::send_flags::none);
}

// With CURVE: whether the key behind `frame` may send `e` (refusals are counted and logged).
bool admitted(BusAuth* auth, zmq::message_t& frame, const bus::Envelope& e) {
  if (!auth) return true;
  std::optional<bus::AuthorizedKey> key;
  try {
    key = bus::key_of_user_id(frame.gets("User-Id"));
  } catch (const zmq::error_t&) {
  }
  const auto why = key ? bus::refuse_sender(*key, e) : std::optional<std::string>("no authenticated key");
  if (!why) return true;
  auth->refused->Add({{"reason", "role"}}).Increment();
  if (uint64_t left_out = 0; auth->log_refusal(left_out))
    auth->log->warn("bus.sender_refused", {{"key", key ? bus::user_id_of(*key) : std::string("?")}, {"type", e.type},
                                            {"from", e.from.node + "/" + e.from.role}, {"why", *why},
                                            {"not_logged_before", left_out}});
  return false;
}

void publish(zmq::socket_t& pub, const bus::Envelope& e) {
  const std::string frame = bus::encode(e);
  pub.send(zmq::buffer(e.topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  pub.send(zmq::buffer(frame), zmq::send_flags::dontwait);
}

// The loop: messages in, events out, a liveness sweep every sweep_interval. Runs until stop.
void serve(Coordinator& c, zmq::socket_t& router, zmq::socket_t& pub, std::chrono::milliseconds sweep_every,
           const std::atomic<bool>& stop, const Clock& clock, BusAuth* auth) {
  auto last_sweep = clock.now() - sweep_every;
  while (!stop) {
    zmq::pollitem_t items[] = {{router.handle(), 0, ZMQ_POLLIN, 0}, {auth ? auth->zap->handle() : nullptr, 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, auth ? 2 : 1, std::chrono::milliseconds(100));
    if (auth) answer_zap(*auth);
    for (;;) {
      std::vector<zmq::message_t> parts;
      zmq::message_t part;
      if (!router.recv(part, zmq::recv_flags::dontwait)) break;
      parts.push_back(std::move(part));
      while (parts.back().more()) {
        zmq::message_t next;
        if (!router.recv(next, zmq::recv_flags::dontwait)) break;
        parts.push_back(std::move(next));
      }
      if (parts.size() != 2) {  // [identity, envelope]
        c.on_bad_message("expected one frame after the identity, got " + std::to_string(parts.size() - 1));
        continue;
      }
      auto e = bus::decode(parts[1].to_string_view());
      if (!e) {
        c.on_bad_message(e.error().message);
        continue;
      }
      if (!admitted(auth, parts[1], *e)) {
        if (e->type == bus::type::kCommand) {  // an answer, so glintctl says why instead of timing out
          nlohmann::json body = {{"ok", false}, {"error", "this key may not send commands"}};
          if (e->body.contains("request_id")) body["request_id"] = e->body["request_id"];
          const std::string frame = bus::encode(bus::make_envelope(bus::type::kReply, {}, clock.wall(), body));
          router.send(parts[0], zmq::send_flags::sndmore | zmq::send_flags::dontwait);
          router.send(zmq::buffer(frame), zmq::send_flags::dontwait);
        }
        continue;
      }
      Actions act = c.on_message(*e);
      for (const auto& out : act.publish) publish(pub, out);
      if (act.reply) {
        const std::string frame = bus::encode(*act.reply);
        router.send(parts[0], zmq::send_flags::sndmore | zmq::send_flags::dontwait);
        router.send(zmq::buffer(frame), zmq::send_flags::dontwait);
      }
    }
    if (clock.now() - last_sweep >= sweep_every) {
      for (const auto& out : c.sweep()) publish(pub, out);
      last_sweep = clock.now();
    }
  }
}

bool write_endpoints(const std::string& path, const std::string& router, const std::string& pub) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << "router=" << router << "\npub=" << pub << "\n";
    if (!f) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

int run_coordinator(const config::Config& cfg) {
  util::tune_malloc();
  log::Level level = log::Level::info;
  log::parse_level(cfg.get_string("DEFAULT", "log_level"), level);
  auto logger = log::Logger::make("coordinator", level, cfg.get_string("DEFAULT", "log_file"));

  db::Pool pool(db::pool_options(cfg));
  if (auto applied = db::migrate(pool); !applied) {
    logger.error("db.migrate_failed", {{"error", applied.error().message}});
    return 1;
  }
  auto nodes = db::make_node_repository(pool);
  auto jobs = db::make_job_repository(pool);
  metrics::Metrics metrics;
  SystemClock clock;
  CoordinatorOptions copts;
  copts.node_down_after = cfg.get_duration("cluster", "node_down_after");
  copts.max_members = static_cast<size_t>(cfg.get_int("coordinator", "max_members"));
  // CURVE: the coordinator's key pair and the keys it admits; both or neither.
  const std::string key_file = cfg.get_string("bus", "curve_key_file");
  const std::string authorized_file = cfg.get_string("coordinator", "curve_authorized_keys");
  std::optional<bus::CurveKeys> server_keys;
  std::map<std::string, bus::AuthorizedKey> authorized;
  if (!key_file.empty() || !authorized_file.empty()) {
    if (key_file.empty() || authorized_file.empty()) {
      logger.error("config.invalid", {{"error", "[bus] curve_key_file and [coordinator] curve_authorized_keys go together"}});
      return 1;
    }
    auto keys = bus::load_key_file(key_file);
    auto listed = keys ? bus::load_authorized_keys(authorized_file) : Expected<std::map<std::string, bus::AuthorizedKey>>(keys.error());
    if (!listed) {
      logger.error("config.invalid", {{"error", listed.error().message}});
      std::fprintf(stderr, "glint-coordinator: %s\n", listed.error().message.c_str());
      return 1;
    }
    server_keys = *keys;
    authorized = std::move(*listed);
  }
  copts.self = bus::Sender{cfg.get_string("DEFAULT", "node_name"), "coordinator", static_cast<int64_t>(getpid()), GLINT_VERSION};
  Coordinator coordinator(copts, *nodes, *jobs, clock, metrics, logger);

  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  zmq::socket_t pub(ctx, zmq::socket_type::pub);
  zmq::socket_t zap(ctx, zmq::socket_type::rep);
  std::string router_ep, pub_ep;
  BusAuth auth;
  auth.keys = std::move(authorized);
  auth.zap = &zap;
  auth.refused = &metrics.counter("glint_coordinator_auth_refused_total",
                                  "Bus connections and messages refused: unknown_key, not_curve, role (a key speaking out of its role).");
  auth.log = &logger;
  try {
    if (server_keys) {
      zap.bind("inproc://zeromq.zap.01");  // libzmq asks here about every CURVE handshake
      bus::make_curve_server(router, *server_keys);
      bus::make_curve_server(pub, *server_keys);
    }
    router.set(zmq::sockopt::linger, 0);
    router.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(bus::kMaxMessageBytes));
    pub.set(zmq::sockopt::linger, 0);
    router.bind(cfg.get_string("bus", "router_endpoint"));
    pub.bind(cfg.get_string("bus", "pub_endpoint"));
    router_ep = router.get(zmq::sockopt::last_endpoint);
    pub_ep = pub.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    logger.error("coordinator.bind_failed", {{"error", e.what()}});
    return 1;
  }
  const std::string endpoint_file = cfg.get_string("coordinator", "endpoint_file");
  if (!endpoint_file.empty() && !write_endpoints(endpoint_file, router_ep, pub_ep)) {
    logger.error("coordinator.endpoint_file_failed", {{"path", endpoint_file}});
    return 1;
  }

  HealthHandler handler(metrics);
  http::Server server(http::server_options(cfg, "coordinator"), handler, logger);
  if (Status s = server.listen(); !s) {
    logger.error("coordinator.listen_failed", {{"error", s.message()}});
    return 1;
  }
  const std::string port_file = cfg.get_string("coordinator", "port_file");
  if (!port_file.empty() && !util::write_port_file(port_file, server.port())) {
    logger.error("coordinator.port_file_failed", {{"path", port_file}});
    return 1;
  }
  std::atomic<bool> stop{false};
  std::thread loop([&] {
    try {
      serve(coordinator, router, pub, cfg.get_duration("coordinator", "sweep_interval"), stop, clock,
            server_keys ? &auth : nullptr);
    } catch (const zmq::error_t& e) {
      logger.error("coordinator.loop_failed", {{"error", e.what()}});
      server.stop();
    }
  });
  logger.info("coordinator.started", {{"router", router_ep}, {"pub", pub_ep}, {"http_port", server.port()},
                                      {"pid", static_cast<int64_t>(getpid())}});
  server.run();  // until SIGTERM
  stop = true;
  loop.join();
  logger.info("coordinator.stopped");
  return 0;
}

}  // namespace glint::coordinator
