// The updater's back-fill: for active images this node holds whose virtual_size or os_hash is
// missing (rows from before glint computed them, or migrated from Glance), reads this node's copy
// (blocks verified by the blob store), checks it is the catalog's bytes (the replica digest, and
// the md5 checksum when there is one), and records what the format inspector and os_hash find,
// never overwriting a value. Data that fails the format rule is flagged (glintctl status), not
// changed. Rate-limited by the [updater] schedule's bytes and items. One thread at a time.
#pragma once
#include <string>

#include "shared/blob/blob_store.hpp"
#include "shared/db/repositories.hpp"
#include "shared/worker/worker.hpp"

namespace glint::updater {

struct BackfillOptions {
  std::string node;
  std::string os_hash_algo = "sha512";
  size_t page = 50;
};

struct BackfillTally {
  uint64_t filled = 0, flagged = 0, skipped = 0, bytes = 0;
};

class Backfill {
 public:
  Backfill(BackfillOptions opts, db::BackfillRepository& repo, db::HealingRepository& heal, blob::BlobStore& blobs)
      : opts_(std::move(opts)), repo_(repo), heal_(heal), blobs_(blobs) {}
  // One page of work, resuming where the last call stopped (wrapping around at the end).
  Expected<BackfillTally> run_page(const worker::PassContext& ctx);

 private:
  bool fill(const db::BackfillItem& item, const worker::PassContext& ctx, BackfillTally& t);

  const BackfillOptions opts_;
  db::BackfillRepository& repo_;
  db::HealingRepository& heal_;
  blob::BlobStore& blobs_;
  std::string after_;
};

}  // namespace glint::updater
