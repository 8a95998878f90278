// Randomness seam: jitter and other random choices ask a Random so tests can fix the outcome.
// Implementations must be thread-safe.
#pragma once
#include <mutex>
#include <random>

namespace glint {

class Random {
 public:
  virtual ~Random() = default;
  // A uniformly distributed number in [0, 1).
  virtual double uniform01() = 0;
};

// std::mt19937_64 seeded from std::random_device; a mutex makes it safe to share.
class SystemRandom final : public Random {
 public:
  SystemRandom() : gen_(std::random_device{}()) {}
  double uniform01() override {
    std::lock_guard<std::mutex> lk(mu_);
    return std::uniform_real_distribution<double>(0.0, 1.0)(gen_);
  }

 private:
  std::mutex mu_;
  std::mt19937_64 gen_;
};

}  // namespace glint
