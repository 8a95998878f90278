// Replays journal files in order into the database (through an Applier), idempotently: each record
// is a compare-and-set, so one that lost to a newer fact is counted superseded, not forced. Progress
// is kept beside each file (<file>.pos: offset and attempts, every 256 records and at the end);
// a crash replays at most that many again. A record failing for a non-transient reason
// max_attempts times is moved to <dir>/quarantine/ and counted; damaged bytes are skipped and
// counted; a finished file (its writer's lock is free) is removed once replayed. Not thread-safe:
// one updater per journal directory (its instance lock).
#pragma once
#include <optional>
#include <string>

#include "shared/core/result.hpp"
#include "shared/journal/record.hpp"
#include "shared/log/log.hpp"
#include <functional>

namespace glint::journal {

// Applies one record: ok (applied), conflict or not_found (the database knows something newer:
// superseded), unavailable (the database is down: stop, retry next pass), anything else: this
// record failed.
class Applier {
 public:
  virtual ~Applier() = default;
  virtual Status apply(const Record& r) = 0;
};

struct ReplayOptions {
  int max_attempts = 3;
  uint64_t max_records = UINT64_MAX;  // per pass
};

struct ReplayStats {
  uint64_t replayed = 0, superseded = 0, failed = 0, quarantined = 0, corrupt = 0;
  uint64_t pending = 0;  // records left for a later pass
  std::optional<std::chrono::system_clock::time_point> oldest_pending;
  uint64_t files = 0;
  bool unavailable = false;  // stopped because the database was down
};

class Replayer {
 public:
  Replayer(std::string dir, Applier& applier, ReplayOptions opts, log::Logger logger);
  // stopped: checked between records (a stopping daemon).
  ReplayStats run(const std::function<bool()>& stopped);

 private:
  struct Progress {
    uint64_t offset = 0;
    int attempts = 0;
  };
  void replay_file(const std::string& path, const std::function<bool()>& stopped, ReplayStats& st);
  // Applies one record; false when it must wait for a later pass (database unavailable, or a
  // failure with attempts left: in order, the rest waits for it).
  bool settle(const std::string& path, const Frame& f, Progress& p, ReplayStats& st);
  void quarantine(const std::string& path, const Frame& f);
  Progress load(const std::string& path);
  void save(const std::string& path, const Progress& p);

  const std::string dir_;
  Applier& applier_;
  const ReplayOptions opts_;
  log::Logger log_;
};

// Pending records and the oldest one's time, without replaying (glintctl status, metrics).
ReplayStats pending_in(const std::string& dir);

}  // namespace glint::journal
