// glint-updater's pass: replays this node's journal (writes other workers could not commit while
// PostgreSQL was down) into the database, in order and idempotently (journal::Replayer), and
// publishes the backlog as metrics. A pass that finds the database down stops and leaves the rest
// for the next one. On a storage node it then back-fills a page of missing derived metadata
// (backfill.hpp). Called by one thread at a time (the daemon's).
#pragma once
#include <string>

#include "shared/core/clock.hpp"
#include "shared/journal/replay.hpp"
#include "shared/metrics/metrics.hpp"
#include "shared/worker/worker.hpp"
#include "workers/updater/backfill.hpp"

namespace glint::updater {

struct UpdaterOptions {
  std::string journal_dir;
  int max_attempts = 3;
};

class Updater final : public worker::Worker {
 public:
  // backfill: nullptr on a node without a local store.
  Updater(UpdaterOptions opts, journal::Applier& applier, Backfill* backfill, metrics::Metrics& metrics,
          const Clock& clock);
  std::string name() const override { return "updater"; }
  Expected<worker::PassResult> run_once(const worker::PassContext& ctx) override;

 private:
  const UpdaterOptions opts_;
  journal::Applier& applier_;
  Backfill* backfill_;
  const Clock& clock_;
  prometheus::Family<prometheus::Counter>& records_;
  prometheus::Gauge& pending_;
  prometheus::Gauge& oldest_;
};

}  // namespace glint::updater
