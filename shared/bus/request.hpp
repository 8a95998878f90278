// One command to the coordinator and its reply, synchronously (glintctl). The request carries a
// fresh request_id and a reply with another id is ignored. Thread-safe (own socket per call).
#pragma once
#include <chrono>
#include <string>

#include <optional>

#include "shared/bus/bus_client.hpp"
#include "shared/bus/envelope.hpp"

namespace glint::bus {

// Sends `command` (its body gets request_id) to the ROUTER at `endpoint` and waits for the reply.
// unavailable when no reply came within `timeout` (coordinator down or unreachable); invalid when
// a reply could not be decoded. The reply's own ok/error is for the caller to read.
// With `curve`, the socket authenticates with that key pair (an operator key: only those may send
// commands).
Expected<Envelope> request(const std::string& endpoint, Envelope command, std::chrono::milliseconds timeout,
                           const std::optional<CurveClient>& curve = std::nullopt);

}  // namespace glint::bus
