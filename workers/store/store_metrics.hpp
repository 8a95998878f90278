// The metrics glint-store exports (glint_store_*). prometheus-cpp objects are thread-safe.
#pragma once
#include <string>

#include "shared/metrics/metrics.hpp"

namespace glint::store {

struct StoreMetrics {
  explicit StoreMetrics(metrics::Metrics& m);
  void request_done(const std::string& method, int status);

  prometheus::Family<prometheus::Counter>& requests;  // {method, code}
  prometheus::Counter& bytes_in;
  prometheus::Counter& bytes_out;
  prometheus::Histogram& fsync_seconds;
  prometheus::Gauge& free_bytes;
  prometheus::Gauge& capacity_bytes;
  prometheus::Counter& corrupt_reads;
  prometheus::Counter& quarantined;
  prometheus::Counter& db_errors;
  prometheus::Counter& no_space;
  prometheus::Counter& auth_rejected;
};

}  // namespace glint::store
