#include "shared/bus/request.hpp"

#include <zmq.hpp>

#include "shared/bus/curve_socket.hpp"

#include "shared/core/uuid.hpp"

namespace glint::bus {

Expected<Envelope> request(const std::string& endpoint, Envelope command, std::chrono::milliseconds timeout,
                           const std::optional<CurveClient>& curve) {
  const std::string id = random_uuid();
  command.body["request_id"] = id;
  try {
    zmq::context_t ctx(1);
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxMessageBytes));
    if (curve) make_curve_client(dealer, curve->mine, curve->server_public);
    dealer.connect(endpoint);
    // Queued until the connection exists; a coordinator that never answers is the timeout below.
    const std::string frame = encode(command);
    dealer.send(zmq::buffer(frame), zmq::send_flags::none);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= std::chrono::milliseconds::zero()) break;
      zmq::pollitem_t items[] = {{dealer.handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 1, left);
      zmq::message_t msg;
      while (dealer.recv(msg, zmq::recv_flags::dontwait)) {
        auto e = decode(msg.to_string_view());
        if (!e) return Error{Errc::invalid, "bad reply from the coordinator: " + e.error().message};
        if (e->type == type::kReply && e->body.value("request_id", std::string()) == id) return e;
      }
    }
  } catch (const zmq::error_t& e) {
    return Error{Errc::unavailable, std::string("coordinator at ") + endpoint + ": " + e.what()};
  }
  return Error{Errc::unavailable, "no answer from the coordinator at " + endpoint + " within " +
                                       std::to_string(timeout.count()) + " ms"};
}

}  // namespace glint::bus
