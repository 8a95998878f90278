#include "shared/metrics/metrics.hpp"

#include <prometheus/exposer.h>
#include <prometheus/text_serializer.h>

namespace glint::metrics {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {}
Metrics::~Metrics() = default;

std::string Metrics::render() const {
  prometheus::TextSerializer s;
  return s.Serialize(registry_->Collect());
}

prometheus::Family<prometheus::Counter>& Metrics::counter(const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
}

prometheus::Family<prometheus::Gauge>& Metrics::gauge(const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
}

prometheus::Family<prometheus::Histogram>& Metrics::histogram(const std::string& name, const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_);
}

uint16_t Metrics::start_exposer(const std::string& host_port) {
  exposer_ = std::make_unique<prometheus::Exposer>(host_port);
  exposer_->RegisterCollectable(registry_);
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : static_cast<uint16_t>(ports.front());
}

prometheus::Histogram::BucketBoundaries latency_buckets() {
  prometheus::Histogram::BucketBoundaries b;
  for (double v = 0.001; v < 40; v *= 2) b.push_back(v);
  return b;
}

}  // namespace glint::metrics
