// A process's line to the coordinator: registers, heartbeats, publishes events and receives the
// events it subscribed to. One helper thread owns the ZeroMQ sockets (they are not thread-safe);
// publish() and the handlers are safe from any thread. A coordinator that is down only means
// messages are dropped (and counted): PostgreSQL is the truth, the bus is the doorbell.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "shared/bus/curve.hpp"
#include "shared/bus/envelope.hpp"
#include "shared/bus/publisher.hpp"
#include "shared/config/config.hpp"
#include "shared/core/clock.hpp"
#include "shared/log/log.hpp"

namespace glint::bus {

// A process's CURVE identity on the bus: its key pair and the coordinator's public key.
struct CurveClient {
  CurveKeys mine;
  std::string server_public;
};

struct ClientOptions {
  std::string router_endpoint;  // coordinator ROUTER, e.g. tcp://127.0.0.1:9190 (empty: bus off)
  std::string pub_endpoint;     // coordinator PUB (empty: no subscriptions)
  Sender self = {};
  std::chrono::milliseconds heartbeat_interval{5000};
  std::vector<std::string> topics;  // event topic prefixes to receive ("" = all)
  std::optional<CurveClient> curve = std::nullopt;  // [bus] curve_key_file + curve_server_key
  std::string config_error = {};  // a key that did not load: the process must exit 1 with it
};

// ClientOptions from [bus] for a process of `role` on `node`.
ClientOptions client_options(const config::Config& cfg, const std::string& role, const std::string& node);
// [bus] curve_key_file and curve_server_key: nullopt when CURVE is off; Errc::invalid when a key
// does not load or only one of the two is set.
Expected<std::optional<CurveClient>> curve_client(const config::Config& cfg);

class BusClient final : public Publisher {
 public:
  using Handler = std::function<void(const Envelope&)>;
  // on_event runs on the client thread for every received event; keep it short (wake a worker).
  BusClient(ClientOptions opts, const Clock& clock, log::Logger logger, Handler on_event = {});
  ~BusClient() override;  // stops the thread, closes the sockets without lingering
  BusClient(const BusClient&) = delete;
  BusClient& operator=(const BusClient&) = delete;

  // Queues an event for the coordinator to fan out; dropped (counted) if it cannot be delivered.
  void publish(const std::string& topic, nlohmann::json body) override;
  // Waits until queued events have been handed to ZeroMQ (or the timeout passed); false on timeout.
  bool flush(std::chrono::milliseconds timeout);
  // Extra fields for the next heartbeats (e.g. free space of a store).
  void set_status(nlohmann::json status);
  uint64_t dropped() const { return dropped_.load(); }
  uint64_t received() const { return received_.load(); }

 private:
  void run();
  Envelope make(const char* type) const;

  const ClientOptions opts_;
  const Clock& clock_;
  log::Logger log_;
  Handler on_event_;
  std::mutex mu_;
  std::condition_variable drained_;
  std::deque<Envelope> outbox_;
  nlohmann::json status_ = nlohmann::json::object();
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> received_{0};
  std::thread thread_;
};

}  // namespace glint::bus
