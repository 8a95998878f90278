#include "workers/coordinator/coordinator_service.hpp"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>
#include <zmq.hpp>

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

void publish(zmq::socket_t& pub, const bus::Envelope& e) {
  const std::string frame = bus::encode(e);
  pub.send(zmq::buffer(e.topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  pub.send(zmq::buffer(frame), zmq::send_flags::dontwait);
}

// The loop: messages in, events out, a liveness sweep every sweep_interval. Runs until stop.
void serve(Coordinator& c, zmq::socket_t& router, zmq::socket_t& pub, std::chrono::milliseconds sweep_every,
           const std::atomic<bool>& stop, const Clock& clock) {
  auto last_sweep = clock.now() - sweep_every;
  while (!stop) {
    zmq::pollitem_t items[] = {{router.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, std::chrono::milliseconds(100));
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
  copts.self = bus::Sender{cfg.get_string("DEFAULT", "node_name"), "coordinator", static_cast<int64_t>(getpid()), GLINT_VERSION};
  Coordinator coordinator(copts, *nodes, *jobs, clock, metrics, logger);

  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  zmq::socket_t pub(ctx, zmq::socket_type::pub);
  std::string router_ep, pub_ep;
  try {
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
      serve(coordinator, router, pub, cfg.get_duration("coordinator", "sweep_interval"), stop, clock);
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
