// Fuzzes the coordinator's message handling: any decodable envelope (commands with arbitrary
// bodies included) is handled without a crash, and a command always gets exactly one reply.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tests/support/fake_clock.hpp"
#include "tests/support/fake_cluster.hpp"
#include "tests/support/fake_jobs.hpp"
#include "workers/coordinator/coordinator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace glint;
  static testing::FakeClock clock;
  static testing::FakeNodeRepository nodes;
  static testing::FakeJobRepository jobs;
  static metrics::Metrics metrics;
  static coordinator::Coordinator c(coordinator::CoordinatorOptions{}, nodes, jobs, clock, metrics, log::Logger::null());
  auto e = bus::decode(std::string(reinterpret_cast<const char*>(data), size));
  if (!e) return 0;
  const auto act = c.on_message(*e);
  if (e->type == bus::type::kCommand && !act.reply) std::abort();
  if (e->type != bus::type::kCommand && act.reply) std::abort();
  return 0;
}
