#include "shared/journal/replay.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <cerrno>
#include <fstream>

#include "shared/journal/journal.hpp"

namespace glint::journal {

namespace fs = std::filesystem;

namespace {
constexpr uint64_t kSaveEvery = 256;

std::vector<std::string> journal_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == kJournalSuffix) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Bytes of fd from offset on, for a FrameReader.
FrameReader::Source file_source(int fd, uint64_t offset) {
  return [fd, offset](std::byte* out, size_t max) mutable -> size_t {
    for (;;) {
      const ssize_t n = ::pread(fd, out, max, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return 0;  // an unreadable file ends here; the rest stays pending
      offset += static_cast<uint64_t>(n);
      return static_cast<size_t>(n);
    }
  };
}

void note_pending(ReplayStats& st, const Frame& f) {
  ++st.pending;
  if (!st.oldest_pending || f.record.at < *st.oldest_pending) st.oldest_pending = f.record.at;
}

uint64_t saved_offset(const std::string& path) {
  uint64_t from = 0;
  std::ifstream in(path + ".pos");
  in >> from;
  return in ? from : 0;
}

void count_pending(const std::string& path, ReplayStats& st) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  const uint64_t from = saved_offset(path);
  FrameReader reader(file_source(fd, from), from, false);
  while (auto f = reader.next()) note_pending(st, *f);
  ::close(fd);
}
}  // namespace

Replayer::Replayer(std::string dir, Applier& applier, ReplayOptions opts, log::Logger logger)
    : dir_(std::move(dir)), applier_(applier), opts_(opts), log_(std::move(logger)) {}

ReplayStats Replayer::run(const std::function<bool()>& stopped) {
  ReplayStats st;
  for (const auto& path : journal_files(dir_)) {
    ++st.files;
    if (st.unavailable || stopped() || st.replayed + st.superseded >= opts_.max_records)
      count_pending(path, st);
    else
      replay_file(path, stopped, st);
  }
  return st;
}

void Replayer::replay_file(const std::string& path, const std::function<bool()>& stopped, ReplayStats& st) {
  // The writer holds an exclusive lock for its life: getting it means the file is finished.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  const bool finished = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  Progress p = load(path);
  FrameReader reader(file_source(fd, p.offset), p.offset, finished);
  size_t since_save = 0;
  bool stopped_early = false;
  while (auto next = reader.next()) {
    const Frame& f = *next;
    if (stopped() || st.replayed + st.superseded >= opts_.max_records || !settle(path, f, p, st)) {
      stopped_early = true;
      note_pending(st, f);
      break;
    }
    p.offset = f.end;  // applied, superseded or quarantined: done with
    p.attempts = 0;
    if (++since_save >= kSaveEvery) {
      save(path, p);
      since_save = 0;
    }
  }
  while (auto rest = reader.next()) note_pending(st, *rest);
  st.corrupt += reader.corrupt();
  if (reader.corrupt() > 0) log_.warn("journal.corrupt", {{"file", path}, {"skipped_stretches", reader.corrupt()}});
  // Past damaged bytes at the end too, unless they may be a write still in progress.
  if (!stopped_early && !reader.partial_tail()) p.offset = reader.scanned_end();
  if (finished && !stopped_early) {
    std::error_code ec;
    fs::remove(path + ".pos", ec);
    fs::remove(path, ec);
  } else {
    save(path, p);
  }
  ::close(fd);
}

bool Replayer::settle(const std::string& path, const Frame& f, Progress& p, ReplayStats& st) {
  const Status s = applier_.apply(f.record);
  if (s.ok() || s.code() == Errc::conflict || s.code() == Errc::not_found) {
    ++(s.ok() ? st.replayed : st.superseded);
    return true;
  }
  if (s.code() == Errc::unavailable) {
    st.unavailable = true;
    return false;
  }
  ++st.failed;
  if (++p.attempts < opts_.max_attempts) {
    log_.warn("journal.record_failed", {{"file", path}, {"seq", f.record.seq}, {"error", s.message()},
                                        {"attempts", p.attempts}});
    return false;
  }
  ++st.quarantined;
  quarantine(path, f);
  log_.error("journal.quarantined", {{"file", path}, {"seq", f.record.seq}, {"kind", kind_name(f.record.kind)},
                                     {"error", s.message()}});
  return true;
}

void Replayer::quarantine(const std::string& path, const Frame& f) {
  std::error_code ec;
  fs::create_directories(dir_ + "/quarantine", ec);
  const int fd = ::open((dir_ + "/quarantine/" + fs::path(path).filename().string()).c_str(),
                        O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const auto bytes = encode(f.record);
  if (::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size())) (void)::fdatasync(fd);
  ::close(fd);
}

Replayer::Progress Replayer::load(const std::string& path) {
  Progress p;
  std::ifstream in(path + ".pos");
  in >> p.offset >> p.attempts;
  if (!in) p = Progress{};
  return p;
}

// Written whole and renamed into place; not fsynced: a lost progress file only replays records
// again, which their compare-and-set makes harmless.
void Replayer::save(const std::string& path, const Progress& p) {
  {
    std::ofstream out(path + ".pos.tmp", std::ios::trunc);
    out << p.offset << " " << p.attempts << "\n";
  }
  std::error_code ec;
  fs::rename(path + ".pos.tmp", path + ".pos", ec);
}

ReplayStats pending_in(const std::string& dir) {
  ReplayStats st;
  for (const auto& path : journal_files(dir)) {
    ++st.files;
    count_pending(path, st);
  }
  return st;
}

}  // namespace glint::journal
