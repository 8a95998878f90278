// Runs the healing simulation (tests/sim/simulation.hpp) over many seeds. A failure prints the
// seed, the step, the broken invariant and the last events; replay one seed with
//   GLINT_SIM_SEED=N [GLINT_SIM_TRACE=1] build/bin/healing_sim_test
// GLINT_SIM_SEEDS (default 24) and GLINT_SIM_STEPS (default 2000) size the run.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "tests/sim/simulation.hpp"

namespace glint::sim {
namespace {

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

TEST(HealingSim, EverySeedKeepsEveryCopyAndConverges) {
  const uint64_t one = env_or("GLINT_SIM_SEED", 0);
  const uint64_t seeds = one ? 1 : env_or("GLINT_SIM_SEEDS", 24);
  const int steps = static_cast<int>(env_or("GLINT_SIM_STEPS", 2000));
  const auto t0 = std::chrono::steady_clock::now();
  SimResult total;
  int max_rounds = 0;
  for (uint64_t i = 0; i < seeds; ++i) {
    SimOptions o;
    o.seed = one ? one : 1000 + i;
    o.fault_steps = steps;
    o.trace = env_or("GLINT_SIM_TRACE", 0) != 0;
    const SimResult r = Simulation(o).run();
    ASSERT_TRUE(r.ok) << r.failure << "\nreplay: GLINT_SIM_SEED=" << o.seed << " GLINT_SIM_STEPS=" << steps
                      << " build/bin/healing_sim_test";
    total.steps += r.steps;
    total.copies += r.copies;
    total.removals += r.removals;
    total.quarantines += r.quarantines;
    total.faults += r.faults;
    total.flagged += r.flagged;
    max_rounds = std::max(max_rounds, r.rounds_to_converge);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "sim seeds=" << seeds << " steps_per_seed=" << steps << " steps=" << total.steps
            << " faults=" << total.faults << " removals=" << total.removals << " quarantines=" << total.quarantines
            << " flagged=" << total.flagged << " max_rounds_to_converge=" << max_rounds << " seconds=" << secs << "\n";
}

}  // namespace
}  // namespace glint::sim
