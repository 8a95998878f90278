// Journal figures for tests/bench/lifecycle.sh:
//   journal_bench append DIR N   N appends through journal::Journal (write + fdatasync each):
//                                prints append_p50_us / append_p99_us / append_max_us
//   journal_bench fill DIR N     a finished journal file of N orphan records (one write, one
//                                fsync), for glint-updater --once to replay into PostgreSQL
//   journal_bench replay DIR     replays DIR into an applier that only counts: records/s of the
//                                journal itself (decode, checksums, progress), no database
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>

#include "shared/journal/journal.hpp"
#include "shared/journal/replay.hpp"

namespace {

using namespace glint;
using Clock = std::chrono::steady_clock;

std::string uuid(std::mt19937_64& rng) {
  char b[37];
  std::snprintf(b, sizeof b, "%08llx-%04llx-4%03llx-8%03llx-%012llx", static_cast<unsigned long long>(rng() & 0xffffffff),
                static_cast<unsigned long long>(rng() & 0xffff), static_cast<unsigned long long>(rng() & 0xfff),
                static_cast<unsigned long long>(rng() & 0xfff), static_cast<unsigned long long>(rng() & 0xffffffffffff));
  return b;
}

nlohmann::json orphan(std::mt19937_64& rng) { return {{"node", "node1"}, {"image", uuid(rng)}, {"size", 1048576}}; }

int append(const std::string& dir, int n) {
  SystemClock clock;
  journal::Journal j(dir, "bench", clock);
  std::mt19937_64 rng(1);
  std::vector<double> us;
  for (int i = 0; i < n; ++i) {
    const auto body = orphan(rng);
    const auto t0 = Clock::now();
    if (!j.append(journal::Kind::orphan, body)) return 1;
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  std::printf("append_p50_us %.0f\nappend_p99_us %.0f\nappend_max_us %.0f\n", us[us.size() / 2],
              us[us.size() * 99 / 100], us.back());
  return 0;
}

int fill(const std::string& dir, int n) {
  std::mt19937_64 rng(2);
  std::vector<std::byte> all;
  const auto now = std::chrono::system_clock::now();
  for (int i = 0; i < n; ++i) {
    auto f = journal::encode(journal::Record{static_cast<uint64_t>(i + 1), journal::Kind::orphan, now, orphan(rng)});
    all.insert(all.end(), f.begin(), f.end());
  }
  const std::string path = dir + "/bench-fill-0-0.jnl";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ::write(fd, all.data(), all.size()) != static_cast<ssize_t>(all.size()) || ::fsync(fd) != 0) return 1;
  ::close(fd);
  std::printf("filled %d records, %zu bytes\n", n, all.size());
  return 0;
}

class Counting final : public journal::Applier {
 public:
  Status apply(const journal::Record&) override {
    ++n;
    return {};
  }
  uint64_t n = 0;
};

int replay(const std::string& dir) {
  Counting c;
  journal::Replayer r(dir, c, {}, log::Logger::null());
  const auto t0 = Clock::now();
  const auto st = r.run([] { return false; });
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("replay_no_db_records %llu\nreplay_no_db_per_s %.0f\n", static_cast<unsigned long long>(st.replayed),
              static_cast<double>(st.replayed) / s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 2 ? argv[1] : "";
  if (mode == "append" && argc == 4) return append(argv[2], std::stoi(argv[3]));
  if (mode == "fill" && argc == 4) return fill(argv[2], std::stoi(argv[3]));
  if (mode == "replay" && argc == 3) return replay(argv[2]);
  std::fprintf(stderr, "usage: journal_bench append DIR N | fill DIR N | replay DIR\n");
  return 2;
}
