// Prometheus metrics: one registry per process, rendered in the text exposition format by the
// process's own HTTP server at /metrics (one port per process; see docs/ARCHITECTURE.md), or
// exposed on a separate port with start_exposer(). Names follow glint_<component>_<what>_<unit>.
// prometheus-cpp metric objects are thread-safe.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace prometheus { class Exposer; }

namespace glint::metrics {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  prometheus::Registry& registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> shared_registry() { return registry_; }
  // Text exposition format (version 0.0.4).
  std::string render() const;

  prometheus::Family<prometheus::Counter>& counter(const std::string& name, const std::string& help);
  prometheus::Family<prometheus::Gauge>& gauge(const std::string& name, const std::string& help);
  prometheus::Family<prometheus::Histogram>& histogram(const std::string& name, const std::string& help);

  // Serves the registry on host:port with prometheus-cpp's own exposer (for processes without an
  // HTTP server of their own, e.g. workers). Returns the bound port.
  uint16_t start_exposer(const std::string& host_port);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

// Exponential latency buckets from 1 ms to ~30 s.
prometheus::Histogram::BucketBoundaries latency_buckets();

}  // namespace glint::metrics
