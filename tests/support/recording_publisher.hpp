// A bus::Publisher that remembers what was published (topic, body), for assertions. Thread-safe.
#pragma once
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "shared/bus/publisher.hpp"

namespace glint::testing {

class RecordingPublisher final : public bus::Publisher {
 public:
  void publish(const std::string& topic, nlohmann::json body) override {
    std::lock_guard lk(mu_);
    events_.emplace_back(topic, std::move(body));
  }
  std::vector<std::pair<std::string, nlohmann::json>> events() {
    std::lock_guard lk(mu_);
    return events_;
  }
  size_t count(const std::string& topic) {
    std::lock_guard lk(mu_);
    size_t n = 0;
    for (const auto& [t, _] : events_) n += t == topic;
    return n;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<std::string, nlohmann::json>> events_;
};

}  // namespace glint::testing
