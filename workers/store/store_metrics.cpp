#include "workers/store/store_metrics.hpp"

namespace glint::store {

StoreMetrics::StoreMetrics(metrics::Metrics& m)
    : requests(m.counter("glint_store_requests_total", "HTTP requests served, by method and status code.")),
      bytes_in(m.counter("glint_store_received_bytes_total", "Request body bytes received.").Add({})),
      bytes_out(m.counter("glint_store_sent_bytes_total", "Response body bytes sent.").Add({})),
      fsync_seconds(m.histogram("glint_store_fsync_seconds", "Time to make a finished upload durable (fsync of data, sidecar and directory).")
                        .Add({}, metrics::latency_buckets())),
      free_bytes(m.gauge("glint_store_free_bytes", "Free bytes on the data filesystem.").Add({})),
      capacity_bytes(m.gauge("glint_store_capacity_bytes", "Size of the data filesystem in bytes.").Add({})),
      corrupt_reads(m.counter("glint_store_corrupt_reads_total", "Reads that found a block disagreeing with its checksum.").Add({})),
      quarantined(m.counter("glint_store_quarantined_blobs_total", "Blobs moved to quarantine.").Add({})),
      db_errors(m.counter("glint_store_db_errors_total", "Failed attempts to register or heartbeat in the database.").Add({})),
      no_space(m.counter("glint_store_no_space_total", "Uploads refused because the free-space reserve would be crossed.").Add({})),
      auth_rejected(m.counter("glint_store_auth_rejected_total",
                              "Blob requests refused: unsigned, signed for another node, stale or replayed.").Add({})) {}

void StoreMetrics::request_done(const std::string& method, int status) {
  requests.Add({{"method", method}, {"code", std::to_string(status)}}).Increment();
}

}  // namespace glint::store
