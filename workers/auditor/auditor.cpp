#include "workers/auditor/auditor.hpp"

#include "shared/blob/read_ahead.hpp"

#include <algorithm>
#include <set>
#include <string>

namespace glint::auditor {

namespace {

constexpr const char* kDone = "";  // checkpoint of a finished pass

std::string micros_text(std::chrono::system_clock::time_point t) {
  return std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

}  // namespace

Auditor::Auditor(AuditorOptions opts, blob::BlobStore& blobs, db::HealingRepository& heal,
                 db::ReplicaRepository& replicas, db::JobRepository& jobs, bus::Publisher& events,
                 metrics::Metrics& metrics, const Clock& clock)
    : opts_(std::move(opts)),
      blobs_(blobs),
      heal_(heal),
      replicas_(replicas),
      jobs_(jobs),
      events_(events),
      clock_(clock),
      files_(metrics.counter("glint_auditor_files_total", "Replicas checked by the auditor.")
                 .Add({{"mode", opts_.deep ? "deep" : "quick"}})),
      bytes_(metrics.counter("glint_auditor_bytes_total", "Bytes re-read and verified by deep audits.").Add({})),
      found_(metrics.counter("glint_auditor_found_total", "Problems found by the auditor, by kind.")),
      oldest_unverified_(metrics.gauge("glint_auditor_oldest_unverified_seconds",
                                       "Age of the least recently verified ok replica on this node.")
                             .Add({})),
      races_lost_(metrics.counter("glint_auditor_races_lost_total",
                                  "Replica state changes not made because the row changed since it was read.")
                      .Add({})) {}

Expected<worker::PassResult> Auditor::run_once(const worker::PassContext& ctx) {
  // An operator job may ask for this node only ("node:N"), with ";deep" forcing the os_hash check.
  const bool force_hash = ctx.job_target && ctx.job_target->deep;
  auto r = opts_.deep ? deep_pass(ctx, force_hash) : quick_pass(ctx);
  update_oldest_gauge();
  return r;
}

Auditor::Verdict Auditor::check_exists(const db::ReplicaRow& r, std::string& why) {
  auto st = blobs_.stat(r.image_id);
  if (!st) {
    why = st.error().message;
    if (st.code() == Errc::not_found) return Verdict::missing;
    if (st.code() == Errc::corrupt) return Verdict::corrupt;
    return Verdict::failed;
  }
  // stat() read the sidecar and checked the file against it: a size that differs from the
  // catalog's is a disagreement with the catalog, not proof of corruption.
  if (r.size && st->size != static_cast<uint64_t>(*r.size)) {
    why = "size " + std::to_string(st->size) + " differs from the recorded " + std::to_string(*r.size);
    return Verdict::disagrees;
  }
  return Verdict::ok;
}

bool Auditor::ask_cross_check(const std::string& image_id, const std::string& why, const worker::PassContext& ctx) {
  found_.Add({{"kind", "catalog_mismatch"}}).Increment();
  ctx.logger.warn("audit.catalog_mismatch", {{"image", image_id}, {"reason", why},
                                             {"action", "left in service; repair job compares every copy"}});
  auto flagged = heal_.is_flagged(image_id);
  if (!flagged) return false;
  if (*flagged) return true;  // an operator already has it on the list
  auto job = jobs_.ensure("replicator", JobTarget::image(image_id).text(), "auditor@" + opts_.node);
  if (!job) {
    ctx.logger.warn("db.failed", {{"image", image_id}, {"error", job.error().message}});
    return false;
  }
  events_.publish("job.queued", {{"job", job->id}, {"kind", job->kind}, {"target", job->target.value_or("")}});
  return true;
}

bool Auditor::report_bad(const db::ReplicaRow& seen, Verdict v, const std::string& why, const worker::PassContext& ctx,
                         std::optional<uint64_t> file) {
  const std::string& image_id = seen.image_id;
  if (v == Verdict::disagrees) return ask_cross_check(image_id, why, ctx);
  const ReplicaState state = v == Verdict::missing ? ReplicaState::missing : ReplicaState::corrupt;
  if (v == Verdict::corrupt) {
    // Out of service first: from now on nobody is served these bytes — exactly the file read; a
    // copy that replaced it meanwhile is not this finding's business (and its row is newer).
    Status s = file ? blobs_.quarantine_if(image_id, *file, why) : blobs_.quarantine(image_id, why);
    if (s.code() == Errc::conflict) return true;
    if (!s && s.code() != Errc::not_found) {
      ctx.logger.warn("audit.quarantine_failed", {{"image", image_id}, {"error", s.message()}});
    }
  }
  found_.Add({{"kind", to_string(state)}}).Increment();
  ctx.logger.warn("audit.bad_replica", {{"image", image_id}, {"state", to_text(state)}, {"reason", why}});
  Status s = replicas_.set_state(seen, state);
  if (s.code() == Errc::conflict) {
    // The row changed since it was read (re-copied, removed, marked): never overwritten.
    races_lost_.Increment();
    ctx.logger.info("replica.race_lost", {{"image", image_id}, {"write", "mark " + to_string(state)}});
  } else if (!s && s.code() != Errc::not_found) {
    ctx.logger.warn("db.failed", {{"image", image_id}, {"error", s.message()}});
    return false;
  }
  events_.publish("replica.bad", {{"image", image_id}, {"node", opts_.node}, {"state", to_text(state)}, {"reason", why}});
  return true;
}

Expected<worker::PassResult> Auditor::quick_pass(const worker::PassContext& ctx) {
  worker::PassResult out;
  // Resume after the last image of an interrupted pass.
  auto cp = heal_.checkpoint(opts_.node, name());
  if (!cp) return cp.error();
  std::string after = cp->value_or(kDone);
  const bool resumed = !after.empty();
  std::set<std::string> placed;  // ids with a replica row here (orphan check); only complete passes use it
  uint64_t missing = 0, corrupt = 0, disagree = 0;
  for (;;) {
    auto page = heal_.node_replicas(opts_.node, after, opts_.page);
    if (!page) return page.error();
    if (page->empty()) break;
    for (const auto& r : *page) {
      if (!ctx.take_item()) {
        (void)heal_.save_checkpoint(opts_.node, name(), after);
        out.summary = "stopped; resumes after " + after;
        return out;
      }
      placed.insert(r.image_id);
      after = r.image_id;
      if (r.state != ReplicaState::ok) continue;  // missing/corrupt/writing/excess: the replicator's and reaper's work
      ++out.items;
      files_.Increment();
      std::string why;
      const Verdict v = check_exists(r, why);
      if (v == Verdict::failed) {
        ++out.failed;
        ctx.logger.warn("audit.failed", {{"image", r.image_id}, {"error", why}});
      } else if (v != Verdict::ok) {
        (v == Verdict::missing ? missing : v == Verdict::corrupt ? corrupt : disagree)++;
        if (!report_bad(r, v, why, ctx)) ++out.failed;
      }
    }
    if (Status s = heal_.save_checkpoint(opts_.node, name(), after); !s) return s.error();
    ctx.report_progress(out.items, out.items);
  }
  // Orphans: files here with no replica row (a whole walk; only after a pass that saw every row).
  uint64_t orphans = 0;
  if (!resumed) {
    for (const auto& id : blobs_.list()) {
      if (ctx.stop.stop_requested()) break;
      if (placed.count(id)) continue;
      auto st = blobs_.stat(id);
      if (!st) continue;  // removed meanwhile
      // Re-check: a new upload may have recorded its row since the walk of the table.
      auto rows = replicas_.for_image(id);
      if (!rows) return rows.error();
      bool has_row = false;
      for (const auto& r : *rows) has_row = has_row || r.node == opts_.node;
      if (has_row) continue;
      ++orphans;
      found_.Add({{"kind", "orphan"}}).Increment();
      if (Status s = heal_.record_orphan(opts_.node, id, st->size); !s) return s.error();
    }
  }
  if (Status s = heal_.save_checkpoint(opts_.node, name(), kDone); !s) return s.error();
  out.summary = "missing=" + std::to_string(missing) + " corrupt=" + std::to_string(corrupt) +
                " catalog_mismatch=" + std::to_string(disagree) + " orphans=" + std::to_string(orphans) +
                (resumed ? " resumed=true" : "");
  return out;
}

Auditor::Verdict Auditor::verify(const db::AuditItem& item, bool hash_due, const worker::PassContext& ctx,
                                 uint64_t& bytes, std::string& why, std::optional<uint64_t>& file) {
  auto reader = blobs_.open(item.image_id);
  if (!reader) {
    why = reader.error().message;
    if (reader.code() == Errc::not_found) return Verdict::missing;
    if (reader.code() == Errc::corrupt) return Verdict::corrupt;
    return Verdict::failed;
  }
  const blob::BlobInfo& info = (*reader)->info();
  file = (*reader)->file_id();
  std::unique_ptr<hash::Digester> os_hash;
  const std::string algo = item.os_hash_algo.empty() ? "sha512" : item.os_hash_algo;
  // An algorithm this build lacks: blocks and the whole digest are still verified.
  if (hash_due && !item.os_hash_value.empty() && hash::ImageHasher::algo_supported(algo))
    os_hash = std::make_unique<hash::Digester>(algo);
  hash::Xxh128Stream whole;
  // Blocks are read and checked against their XXH3 on a helper thread, a few ahead (direct I/O has
  // no kernel readahead), while this thread hashes the whole blob.
  uint64_t next_block = 0;
  blob::BlobReader& r = **reader;
  blob::ReadAhead ahead([&r, &info, &next_block](std::vector<std::byte>& buf) -> Expected<std::span<const std::byte>> {
    if (next_block >= info.block_count) return std::span<const std::byte>();
    return r.read_block(next_block++, buf);
  });
  for (;;) {
    auto block = ahead.next();
    if (!block) {
      why = block.error().message;
      return block.code() == Errc::corrupt ? Verdict::corrupt : Verdict::failed;
    }
    if (block->empty()) break;
    if (!ctx.take_bytes(block->size())) return Verdict::stopped;
    whole.update(*block);
    if (os_hash) os_hash->update(*block);
    bytes += block->size();
    bytes_.Increment(static_cast<double>(block->size()));
  }
  // Against itself first: blocks matched their checksums above; the whole digest must match the
  // sidecar's (block hashes can be self-consistent with a rewritten sidecar; the whole cannot).
  if (whole.digest() != info.digest) {
    why = "blob content does not match its own digest";
    return Verdict::corrupt;
  }
  // Then against the catalog, which may itself be wrong (a restored database): not proof.
  if (static_cast<int64_t>(info.size) != item.size) {
    why = "size " + std::to_string(info.size) + " differs from the recorded " + std::to_string(item.size);
    return Verdict::disagrees;
  }
  if (!item.digest.empty() && hash::digest_hex(info.digest) != item.digest) {
    why = "blob digest differs from the recorded replica digest";
    return Verdict::disagrees;
  }
  if (os_hash && os_hash->finish_hex() != item.os_hash_value) {
    why = algo + " of the blob differs from the image's os_hash_value";
    return Verdict::disagrees;
  }
  return Verdict::ok;
}

Expected<worker::PassResult> Auditor::deep_pass(const worker::PassContext& ctx, bool force_hash) {
  worker::PassResult out;
  // Every ok replica not verified since the pass began; an interrupted pass keeps its start time
  // (the checkpoint), so a restart continues instead of starting over.
  auto cp = heal_.checkpoint(opts_.node, name());
  if (!cp) return cp.error();
  auto started = clock_.wall();
  if (cp->has_value() && !(*cp)->empty()) {
    started = std::chrono::system_clock::time_point(std::chrono::microseconds(std::stoll(**cp)));
  } else if (Status s = heal_.save_checkpoint(opts_.node, name(), micros_text(started)); !s) {
    return s.error();
  }
  uint64_t corrupt = 0, missing = 0, hashed = 0, disagree = 0;
  std::set<std::string> failed_ids;  // failed items stay due; do not spin on them within one pass
  // Verified ids are recorded a page at a time (one statement each for with and without os_hash).
  std::vector<std::pair<std::string, int64_t>> verified, verified_hashed;
  auto flush = [&]() -> Status {
    Status a = heal_.mark_verified(verified, opts_.node, false);
    Status b = heal_.mark_verified(verified_hashed, opts_.node, true);
    verified.clear();
    verified_hashed.clear();
    return !a ? a : b;
  };
  for (;;) {
    auto due = heal_.due_for_audit(opts_.node, started, opts_.page + failed_ids.size());
    if (!due) return due.error();
    size_t fresh = 0;
    for (const auto& item : *due) {
      if (failed_ids.count(item.image_id)) continue;
      ++fresh;
      if (!ctx.take_item()) break;
      const bool hash_due = force_hash || !item.hash_verified_at ||
                            clock_.wall() - *item.hash_verified_at > opts_.os_hash_interval;
      std::string why;
      std::optional<uint64_t> file;
      const Verdict v = verify(item, hash_due, ctx, out.bytes, why, file);
      if (v == Verdict::stopped) break;
      ++out.items;
      files_.Increment();
      if (v == Verdict::ok) {
        const bool with_hash = hash_due && !item.os_hash_value.empty();
        hashed += with_hash;
        (with_hash ? verified_hashed : verified).emplace_back(item.image_id, item.version);
      } else if (v == Verdict::failed) {
        ++out.failed;
        failed_ids.insert(item.image_id);
        ctx.logger.warn("audit.failed", {{"image", item.image_id}, {"error", why}});
      } else {
        (v == Verdict::missing ? missing : v == Verdict::corrupt ? corrupt : disagree)++;
        db::ReplicaRow seen;
        seen.image_id = item.image_id;
        seen.node = opts_.node;
        seen.state = ReplicaState::ok;
        seen.version = item.version;
        if (!report_bad(seen, v, why, ctx, file)) ++out.failed;
        // Not re-read within this pass: a disagreement stays due until the cross-check settles it.
        failed_ids.insert(item.image_id);
      }
      ctx.report_progress(out.items, out.items + due->size() - fresh);
    }
    if (Status s = flush(); !s) return s.error();
    if (ctx.stop.stop_requested()) {
      out.summary = "stopped; resumes with the replicas not verified since the pass began";
      return out;
    }
    if (fresh == 0) break;
  }
  if (Status s = heal_.save_checkpoint(opts_.node, name(), kDone); !s) return s.error();
  out.summary = "corrupt=" + std::to_string(corrupt) + " missing=" + std::to_string(missing) +
                " catalog_mismatch=" + std::to_string(disagree) + " os_hash_checked=" + std::to_string(hashed);
  return out;
}

void Auditor::update_oldest_gauge() {
  auto oldest = heal_.oldest_verification(opts_.node);
  if (!oldest) return;
  const double age = *oldest ? std::chrono::duration<double>(clock_.wall() - **oldest).count() : 0.0;
  oldest_unverified_.Set(age);
}

}  // namespace glint::auditor
