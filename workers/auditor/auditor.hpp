// glint-auditor's pass over one storage node's blobs, read straight from the node's data directory
// (opened shared beside glint-store). Quick mode: every replica the database places here exists
// with its recorded size (missing → replica missing), and files with no replica row are recorded
// as orphan candidates (never deleted here). Deep mode: every ok replica, never/oldest verified
// first, is re-read block by block against its XXH3s and its recorded digest, and its os_hash is
// recomputed when that check is older than os_hash_interval. A blob that disagrees with itself
// (a block against its checksum, the bytes against their own sidecar) is corrupt: quarantined at
// once, its replica marked corrupt and replica.bad published so the replicators repair it. A
// self-consistent blob that disagrees only with the catalog (size, digest, os_hash) is not proven
// bad — the catalog may be the wrong one — so it is left in service and a replicator repair job
// (image:ID) compares it with the other copies first.
// Resumable: the position of an unfinished pass is a checkpoint in the database. Called by one
// thread at a time (the daemon's).
#pragma once
#include <chrono>
#include <optional>
#include <string>

#include "shared/blob/blob_store.hpp"
#include "shared/bus/publisher.hpp"
#include "shared/core/clock.hpp"
#include "shared/db/repositories.hpp"
#include "shared/metrics/metrics.hpp"
#include "shared/worker/worker.hpp"

namespace glint::auditor {

struct AuditorOptions {
  std::string node;
  bool deep = false;
  std::chrono::milliseconds os_hash_interval{std::chrono::hours(24 * 30)};
  size_t page = 500;  // rows per database round trip
};

class Auditor final : public worker::Worker {
 public:
  Auditor(AuditorOptions opts, blob::BlobStore& blobs, db::HealingRepository& heal, db::ReplicaRepository& replicas,
          db::JobRepository& jobs, bus::Publisher& events, metrics::Metrics& metrics, const Clock& clock);
  std::string name() const override { return opts_.deep ? "auditor-deep" : "auditor"; }
  Expected<worker::PassResult> run_once(const worker::PassContext& ctx) override;

 private:
  // disagrees: consistent in itself but not with the catalog (cross-checked, never quarantined here).
  enum class Verdict { ok, missing, corrupt, disagrees, failed, stopped };
  Expected<worker::PassResult> quick_pass(const worker::PassContext& ctx);
  Expected<worker::PassResult> deep_pass(const worker::PassContext& ctx, bool force_hash);
  Verdict check_exists(const db::ReplicaRow& r, std::string& why);
  // file: the file that was read (set once the blob opened), so a corrupt one is quarantined
  // only if it is still the blob.
  Verdict verify(const db::AuditItem& item, bool hash_due, const worker::PassContext& ctx, uint64_t& bytes,
                 std::string& why, std::optional<uint64_t>& file);
  // Acts on a bad verdict: missing/corrupt -> quarantine (corrupt), compare-and-set of the row as
  // read, replica.bad; disagrees -> a repair job. false on database trouble.
  bool report_bad(const db::ReplicaRow& seen, Verdict v, const std::string& why, const worker::PassContext& ctx,
                  std::optional<uint64_t> file = std::nullopt);
  bool ask_cross_check(const std::string& image_id, const std::string& why, const worker::PassContext& ctx);
  void update_oldest_gauge();

  AuditorOptions opts_;
  blob::BlobStore& blobs_;
  db::HealingRepository& heal_;
  db::ReplicaRepository& replicas_;
  db::JobRepository& jobs_;
  bus::Publisher& events_;
  const Clock& clock_;
  prometheus::Counter& files_;
  prometheus::Counter& bytes_;
  prometheus::Family<prometheus::Counter>& found_;
  prometheus::Gauge& oldest_unverified_;
  prometheus::Counter& races_lost_;
};

}  // namespace glint::auditor
