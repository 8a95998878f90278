#include "workers/updater/updater.hpp"

namespace glint::updater {

Updater::Updater(UpdaterOptions opts, journal::Applier& applier, Backfill* backfill, metrics::Metrics& metrics,
                 const Clock& clock)
    : opts_(std::move(opts)),
      applier_(applier),
      backfill_(backfill),
      clock_(clock),
      records_(metrics.counter("glint_updater_records_total",
                               "Journal records by outcome: replayed, superseded (the database knew newer), "
                               "failed, quarantined, corrupt (damaged bytes skipped).")),
      pending_(metrics.gauge("glint_updater_journal_pending", "Journal records not yet replayed on this node.").Add({})),
      oldest_(metrics.gauge("glint_updater_journal_oldest_pending_seconds",
                            "Age of the oldest journal record not yet replayed (0: none).")
                  .Add({})) {}

Expected<worker::PassResult> Updater::run_once(const worker::PassContext& ctx) {
  journal::Replayer replayer(opts_.journal_dir, applier_, journal::ReplayOptions{opts_.max_attempts, UINT64_MAX},
                             ctx.logger);
  const auto st = replayer.run([&] { return ctx.stop.stop_requested(); });
  const std::pair<const char*, uint64_t> outcomes[] = {{"replayed", st.replayed},     {"superseded", st.superseded},
                                                       {"failed", st.failed},         {"quarantined", st.quarantined},
                                                       {"corrupt", st.corrupt}};
  for (const auto& [label, n] : outcomes)
    if (n > 0) records_.Add({{"outcome", label}}).Increment(static_cast<double>(n));
  pending_.Set(static_cast<double>(st.pending));
  oldest_.Set(st.oldest_pending ? std::chrono::duration<double>(clock_.wall() - *st.oldest_pending).count() : 0.0);
  if (st.unavailable)
    return Error{Errc::unavailable, "the database is unavailable; " + std::to_string(st.pending) +
                                        " journal records wait for it (" + std::to_string(st.replayed) + " replayed)"};
  BackfillTally bf;
  if (backfill_) {
    auto page = backfill_->run_page(ctx);
    if (!page) return page.error();
    bf = *page;
    if (bf.filled > 0) records_.Add({{"outcome", "backfilled"}}).Increment(static_cast<double>(bf.filled));
    if (bf.flagged > 0) records_.Add({{"outcome", "backfill_flagged"}}).Increment(static_cast<double>(bf.flagged));
  }
  worker::PassResult r;
  r.items = st.replayed + st.superseded + st.failed + bf.filled + bf.skipped;
  r.failed = st.failed;
  r.bytes = bf.bytes;
  r.backlog = st.pending;
  r.summary = "replayed=" + std::to_string(st.replayed) + " superseded=" + std::to_string(st.superseded) +
              " failed=" + std::to_string(st.failed) + " quarantined=" + std::to_string(st.quarantined) +
              " corrupt=" + std::to_string(st.corrupt) + " pending=" + std::to_string(st.pending) +
              " files=" + std::to_string(st.files) + " backfilled=" + std::to_string(bf.filled) +
              " flagged=" + std::to_string(bf.flagged);
  return r;
}

}  // namespace glint::updater
