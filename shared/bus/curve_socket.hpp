// CURVE on a ZeroMQ socket (for the bus's own .cpp files): a client proves its key pair and checks
// the coordinator's public key; the coordinator's sockets are CURVE servers whose peers the ZAP
// handler admits. Free functions; call before connect/bind.
#pragma once
#include <zmq.hpp>

#include "shared/bus/curve.hpp"

namespace glint::bus {

inline void make_curve_client(zmq::socket_t& s, const CurveKeys& mine, const std::string& server_public) {
  s.set(zmq::sockopt::curve_serverkey, server_public);
  s.set(zmq::sockopt::curve_publickey, mine.public_key);
  s.set(zmq::sockopt::curve_secretkey, mine.secret_key);
}

inline void make_curve_server(zmq::socket_t& s, const CurveKeys& mine) {
  s.set(zmq::sockopt::curve_server, 1);
  s.set(zmq::sockopt::curve_secretkey, mine.secret_key);
  s.set(zmq::sockopt::zap_domain, "glint");
}

}  // namespace glint::bus
