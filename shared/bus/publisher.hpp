// The seam through which a process announces events (image.uploaded, replica.bad, …) to the
// control plane. BusClient implements it; tests and bus-less runs use NullPublisher. Thread-safe.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace glint::bus {

class Publisher {
 public:
  virtual ~Publisher() = default;
  // Best effort: an event that cannot be delivered is dropped (the next pass finds the work anyway).
  virtual void publish(const std::string& topic, nlohmann::json body) = 0;
};

class NullPublisher final : public Publisher {
 public:
  void publish(const std::string&, nlohmann::json) override {}
};

}  // namespace glint::bus
