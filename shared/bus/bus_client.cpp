#include "shared/bus/bus_client.hpp"

#include <zmq.hpp>

#include "shared/bus/curve_socket.hpp"

#include <unistd.h>

namespace glint::bus {

ClientOptions client_options(const config::Config& cfg, const std::string& role, const std::string& node) {
  ClientOptions o;
  o.router_endpoint = cfg.get_string("bus", "router_endpoint");
  o.pub_endpoint = cfg.get_string("bus", "pub_endpoint");
  o.heartbeat_interval = cfg.get_duration("bus", "heartbeat_interval");
  o.self = Sender{node.empty() ? config::node_name(cfg) : node, role, static_cast<int64_t>(::getpid()), GLINT_VERSION};
  auto curve = curve_client(cfg);
  if (!curve) o.config_error = curve.error().message;
  else o.curve = *curve;
  return o;
}

Expected<std::optional<CurveClient>> curve_client(const config::Config& cfg) {
  const std::string key_file = cfg.get_string("bus", "curve_key_file");
  const std::string server = cfg.get_string("bus", "curve_server_key");
  if (key_file.empty() && server.empty()) return std::optional<CurveClient>();
  if (key_file.empty() || server.empty())
    return Error{Errc::invalid, "[bus] curve_key_file and curve_server_key go together"};
  auto keys = load_key_file(key_file);
  if (!keys) return keys.error();
  if (!valid_public_key(server)) return Error{Errc::invalid, "[bus] curve_server_key is not a CURVE public key (40 Z85 characters)"};
  return std::optional<CurveClient>(CurveClient{*keys, server});
}

BusClient::BusClient(ClientOptions opts, const Clock& clock, log::Logger logger, Handler on_event)
    : opts_(std::move(opts)), clock_(clock), log_(std::move(logger)), on_event_(std::move(on_event)) {
  if (!opts_.router_endpoint.empty()) thread_ = std::thread([this] { run(); });
}

BusClient::~BusClient() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

Envelope BusClient::make(const char* t) const { return make_envelope(t, opts_.self, clock_.wall()); }

void BusClient::publish(const std::string& topic, nlohmann::json body) {
  if (opts_.router_endpoint.empty()) return;
  Envelope e = make(type::kEvent);
  e.topic = topic;
  e.body = std::move(body);
  std::lock_guard lk(mu_);
  if (outbox_.size() >= 1000) {  // the thread is stuck or the bus is flooded: drop, never grow
    dropped_++;
    return;
  }
  outbox_.push_back(std::move(e));
}

bool BusClient::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  return drained_.wait_for(lk, timeout, [&] { return outbox_.empty(); });
}

void BusClient::set_status(nlohmann::json status) {
  std::lock_guard lk(mu_);
  status_ = std::move(status);
}

void BusClient::run() {
  try {
    zmq::context_t ctx(1);
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.set(zmq::sockopt::immediate, 1);  // no queueing toward a coordinator that is not there
    dealer.set(zmq::sockopt::sndhwm, 1000);
    zmq::socket_t sub(ctx, zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    if (opts_.curve) {
      make_curve_client(dealer, opts_.curve->mine, opts_.curve->server_public);
      make_curve_client(sub, opts_.curve->mine, opts_.curve->server_public);
    }
    dealer.connect(opts_.router_endpoint);
    const bool subscribing = !opts_.pub_endpoint.empty() && on_event_;
    if (subscribing) {
      for (const auto& t : opts_.topics) sub.set(zmq::sockopt::subscribe, t);
      sub.connect(opts_.pub_endpoint);
    }
    auto send = [&](const Envelope& e) {
      const std::string frame = encode(e);
      const bool sent = dealer.send(zmq::buffer(frame), zmq::send_flags::dontwait).has_value();
      if (!sent) dropped_++;
      return sent;
    };
    auto last_beat = clock_.now() - opts_.heartbeat_interval;
    bool registered = false;
    while (!stop_) {
      // Until the first register goes out (the connection is still being made) it is retried
      // every poll, so a new process shows up at once rather than one interval later.
      if (!registered || clock_.now() - last_beat >= opts_.heartbeat_interval) {
        Envelope e = make(registered ? type::kHeartbeat : type::kRegister);
        {
          std::lock_guard lk(mu_);
          e.body = status_;
        }
        const bool sent = send(e);
        registered = registered || sent;
        last_beat = clock_.now();
      }
      // Events wait for the first register to go out (the connection exists), then leave.
      std::deque<Envelope> out;
      if (registered) {
        std::lock_guard lk(mu_);
        out.swap(outbox_);
      }
      for (const auto& e : out) send(e);
      if (!out.empty()) drained_.notify_all();
      zmq::pollitem_t items[] = {{dealer.handle(), 0, ZMQ_POLLIN, 0}, {sub.handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, subscribing ? 2 : 1, std::chrono::milliseconds(100));
      zmq::message_t msg;
      while (dealer.recv(msg, zmq::recv_flags::dontwait)) {
        // Replies to this process (none yet besides acks): read and drop.
      }
      if (subscribing) {
        std::vector<zmq::message_t> parts;
        for (;;) {
          zmq::message_t part;
          if (!sub.recv(part, zmq::recv_flags::dontwait)) break;
          const bool more = part.more();
          parts.push_back(std::move(part));
          if (more) continue;
          if (parts.size() == 2) {
            auto e = decode(parts[1].to_string_view());
            if (e) {
              received_++;
              on_event_(*e);
            } else {
              log_.warn("bus.bad_message", {{"error", e.error().message}});
            }
          }
          parts.clear();
        }
      }
    }
  } catch (const zmq::error_t& e) {
    log_.error("bus.failed", {{"error", e.what()}});
  }
}

}  // namespace glint::bus
