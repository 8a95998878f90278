#include "workers/reaper/reaper.hpp"

#include "shared/worker/parallel.hpp"

namespace glint::reaper {

namespace {

// The metrics label of a deletion.
const char* kind_of(const db::Leftover& l) {
  switch (l.status) {
    case ImageStatus::pending_delete: return "delayed_delete";
    case ImageStatus::killed: return "killed";
    case ImageStatus::queued: return "failed_upload";
    default: return "deleted";
  }
}

// Repeats a bounded batch statement (rows changed per call) until a call changes fewer than a
// page: a pass finishes what is due, however many pages that is. The total.
template <class F>
Expected<size_t> drain(F&& batch, const worker::PassContext& ctx, size_t page) {
  size_t total = 0;
  for (;;) {
    auto n = batch();
    if (!n) return n.error();
    total += *n;
    if (*n < page || ctx.stop.stop_requested()) return total;
  }
}

}  // namespace

Reaper::Reaper(ReaperOptions opts, ReaperRepositories repos, peer::BlobPeer& peer, metrics::Metrics& metrics,
               const Clock& clock)
    : opts_(std::move(opts)),
      repos_(repos),
      peer_(peer),
      clock_(clock),
      deleted_(metrics.counter("glint_reaper_deleted_total", "Copies and orphans deleted by the reaper, by kind.")),
      bytes_(metrics.counter("glint_reaper_bytes_reclaimed_total", "Bytes the reaper freed on this node.").Add({})),
      backlog_(metrics.gauge("glint_reaper_backlog", "Overdue delayed deletes (cluster) and leftover copies on this node.")
                   .Add({})),
      oldest_overdue_(metrics.gauge("glint_reaper_oldest_overdue_seconds",
                                    "How long the oldest overdue delayed delete has waited past scrub_time (0: none).")
                          .Add({})) {}

Expected<worker::PassResult> Reaper::run_once(const worker::PassContext& ctx) {
  // This node's own store, as the nodes table knows it: the reaper deletes only its node's copies.
  auto me = repos_.nodes.get(opts_.node);
  if (!me) return me.error();
  if (!*me) return Error{Errc::not_found, "node " + opts_.node + " is not registered (its glint-store has not started)"};
  auto self = peer::endpoint_of(opts_.node, (*me)->address);
  if (!self) return self.error();

  // Claim first: a claimed image cannot be restored, so nothing below races a restore.
  if (!opts_.dry_run) {
    const auto due_before = clock_.wall() - opts_.scrub_time;
    auto n = drain([&] { return repos_.reaper.claim_due_deletes(due_before, opts_.page); }, ctx, opts_.page);
    if (!n) return n.error();
    if (*n > 0) ctx.logger.info("reap.claimed", {{"images", *n}});
  }
  Tally t;
  if (!opts_.dry_run) {
    const auto quiet_since = clock_.wall() - opts_.stale_upload_after;
    auto requeued =
        drain([&] { return repos_.reaper.requeue_stale_uploads(quiet_since, opts_.page); }, ctx, opts_.page);
    if (!requeued) return requeued.error();
    if (*requeued > 0) {
      deleted_.Add({{"kind", "stale_upload"}}).Increment(static_cast<double>(*requeued));
      ctx.logger.warn("reap.stale_uploads_requeued", {{"images", *requeued}, {"reason", "no live upload"}});
    }
  }
  if (Status s = reap_leftovers(*self, ctx, t); !s) return s.error();
  if (!opts_.dry_run) {
    auto done = drain([&] { return repos_.reaper.finish_reaped(opts_.page); }, ctx, opts_.page);
    if (!done) return done.error();
    if (*done > 0) ctx.logger.info("reap.images_deleted", {{"images", *done}});
  }
  if (Status s = reap_orphans(*self, ctx, t); !s) return s.error();
  if (Status s = purge_rows(ctx, t); !s) return s.error();
  update_backlog(ctx);

  worker::PassResult r;
  r.items = t.deleted + t.failed + t.would;
  r.failed = t.failed;
  r.bytes = t.bytes;
  r.summary = "deleted=" + std::to_string(t.deleted) + " failed=" + std::to_string(t.failed) +
              " reclaimed_bytes=" + std::to_string(t.bytes) + " purged_rows=" + std::to_string(t.purged) + (opts_.dry_run ? " would_delete=" + std::to_string(t.would) : "");
  return r;
}

Status Reaper::reap_leftovers(const peer::Endpoint& self, const worker::PassContext& ctx, Tally& t) {
  std::string after;
  for (;;) {
    auto page = repos_.reaper.leftovers(opts_.node, after, opts_.page);
    if (!page) return page.error();
    if (!page->empty()) after = page->back().replica.image_id;
    std::vector<const db::Leftover*> due;
    for (const db::Leftover& l : *page) {
      // The query is only a filter; the rules are these.
      if (!reapable(l.status, l.claimed) && !reapable_while_queued(l.status, l.replica.state)) continue;
      if (opts_.dry_run) {
        ++t.would;
        ctx.logger.info("reap.would_delete", {{"image", l.replica.image_id}, {"kind", kind_of(l)},
                                              {"status", to_string(l.status)}, {"bytes", l.replica.size.value_or(0)}});
        continue;
      }
      due.push_back(&l);
    }
    // Independent copies: deleted `concurrency` at once, each still taking an item of the rate;
    // the rows of those whose files went are removed together, one transaction for the page.
    Rows gone;
    worker::parallel_for(due.size(), opts_.concurrency, ctx.stop, [&](size_t i) {
      if (ctx.take_item()) remove_copy(self, *due[i], ctx, t, gone);
    });
    if (auto n = repos_.reaper.remove_reaped(gone.rows); !n)  // the next pass removes them (the files are gone)
      ctx.logger.warn("reap.rows_kept", {{"rows", gone.rows.size()}, {"error", n.error().message}});
    if (page->size() < opts_.page || ctx.stop.stop_requested()) return {};
  }
}

// The file first, then the row (compare-and-set on the row as read; `gone` collects those rows for
// one transaction): a row whose file is gone is removed by the next pass; a file whose row went
// first would be an orphan.
bool Reaper::remove_copy(const peer::Endpoint& self, const db::Leftover& l, const worker::PassContext& ctx, Tally& t,
                         Rows& gone) {
  const auto& r = l.replica;
  // "*": the image is in a terminal state (or held at queued with no upload), so whatever bytes
  // this node holds under its id are garbage, whichever copy they are.
  auto remove_file = [&] { return peer_.remove(self, r.image_id, "*"); };
  Status row;
  if (reapable_while_queued(l.status, r.state)) {
    auto removed = repos_.reaper.remove_queued_excess(r, remove_file);
    if (removed && !*removed) {
      ctx.logger.info("reap.kept", {{"image", r.image_id}, {"reason", "an upload has started or the row changed"}});
      return false;
    }
    row = removed ? Status() : Status(removed.error());
  } else if (row = remove_file(); row) {
    std::lock_guard lk(gone.mu);
    gone.rows.push_back(r);
  }
  if (!row) {
    ++t.failed;
    ctx.logger.warn("reap.failed", {{"image", r.image_id}, {"kind", kind_of(l)}, {"error", row.message()}});
    return false;
  }
  count_deleted(r.image_id, kind_of(l), static_cast<uint64_t>(r.size.value_or(0)), ctx, t);
  return true;
}

void Reaper::count_deleted(const std::string& id, const char* kind, uint64_t bytes, const worker::PassContext& ctx,
                           Tally& t) {
  ++t.deleted;
  t.bytes += bytes;
  deleted_.Add({{"kind", kind}}).Increment();
  bytes_.Increment(static_cast<double>(bytes));
  ctx.logger.info("reap.deleted", {{"image", id}, {"kind", kind}, {"bytes", bytes}});
}

Status Reaper::reap_orphans(const peer::Endpoint& self, const worker::PassContext& ctx, Tally& t) {
  auto due = repos_.reaper.due_orphans(opts_.node, clock_.wall() - opts_.orphan_grace, opts_.page);
  if (!due) return due.error();
  for (const db::OrphanRow& o : *due) {
    if (opts_.dry_run) {
      ++t.would;
      ctx.logger.info("reap.would_delete", {{"image", o.image_id}, {"kind", "orphan"}, {"bytes", o.size}});
      continue;
    }
    if (!ctx.take_item()) return {};
    auto taken = repos_.reaper.take_orphan(opts_.node, o.image_id);  // re-checked now, in the database
    if (!taken) return taken.error();
    if (!*taken) {
      ctx.logger.info("reap.orphan_kept", {{"image", o.image_id}, {"reason", "it has become a replica"}});
      continue;
    }
    if (Status s = peer_.remove(self, o.image_id, "*"); !s) {
      ++t.failed;  // the quick audit records it again
      ctx.logger.warn("reap.failed", {{"image", o.image_id}, {"kind", "orphan"}, {"error", s.message()}});
      continue;
    }
    count_deleted(o.image_id, "orphan", o.size, ctx, t);
  }
  return {};
}

// Reapers on every node may run this at once: the rows are taken with SKIP LOCKED.
Status Reaper::purge_rows(const worker::PassContext& ctx, Tally& t) {
  if (opts_.dry_run || opts_.purge_after.count() == 0) return {};
  for (;;) {
    auto n = repos_.reaper.purge(clock_.wall() - opts_.purge_after, opts_.page);
    if (!n) return n.error();
    t.purged += *n;
    if (*n > 0) deleted_.Add({{"kind", "purged_row"}}).Increment(static_cast<double>(*n));
    if (*n < opts_.page || ctx.stop.stop_requested()) break;
  }
  if (t.purged > 0) ctx.logger.info("reap.purged", {{"images", t.purged.load()}});
  return {};
}

void Reaper::update_backlog(const worker::PassContext& ctx) {
  const auto due_before = clock_.wall() - opts_.scrub_time;
  auto b = repos_.reaper.backlog(opts_.node, due_before);
  if (!b) {
    ctx.logger.warn("db.failed", {{"error", b.error().message}});
    return;
  }
  backlog_.Set(static_cast<double>(b->due_deletes + b->leftovers));
  const double overdue = b->oldest_due ? std::chrono::duration<double>(due_before - *b->oldest_due).count() : 0.0;
  oldest_overdue_.Set(std::max(0.0, overdue));
}

}  // namespace glint::reaper
