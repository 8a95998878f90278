// The node-local journal: writes a worker could not commit because PostgreSQL was unavailable,
// appended durably (write + fdatasync per record) until glint-updater replays them. Each process
// appends to its own file <dir>/<writer>-<pid>-<start>.jnl and holds an exclusive flock on it for
// its life, so the updater knows which files are finished. Thread-safe.
#pragma once
#include <memory>
#include <mutex>
#include <string>

#include "shared/core/clock.hpp"
#include "shared/core/result.hpp"
#include "shared/journal/record.hpp"

namespace glint::journal {

class Journal {
 public:
  // dir is created (0700, with its parents) at the first append; nothing is opened before.
  Journal(std::string dir, std::string writer, const Clock& clock);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Durable once this returns ok; io_error/no_space when the record could not be kept.
  Status append(Kind kind, nlohmann::json body);
  const std::string& dir() const { return dir_; }
  uint64_t appended() const;

 private:
  Status open_file();

  const std::string dir_, writer_;
  const Clock& clock_;
  mutable std::mutex mu_;
  int fd_ = -1;
  uint64_t seq_ = 0;
};

// The file name suffix of journal files; progress and quarantine live beside them.
inline constexpr std::string_view kJournalSuffix = ".jnl";

}  // namespace glint::journal
