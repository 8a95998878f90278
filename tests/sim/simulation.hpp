// A deterministic simulation of the healing logic (in the spirit of FoundationDB's and
// TigerBeetle's simulators): the real replicator, auditor and coordinator over in-memory fakes,
// a simulated clock, and a seeded random schedule of events — node crash and return, drain and
// undrain, node added, flipped bytes, lost files, rows made stale by slow writers, feed writers
// that commit late, lost PUT answers, a catalog restored with other digests, uploads and deletes.
// After every step (and at the moment a worker removes a copy) the invariants are checked:
//   A. no image that keeps data ever has zero intact copies (faults never take the last one);
//   B. no copy is removed while fewer than R ok copies on live nodes would remain;
//   C. no intact copy is ever quarantined or marked bad by a worker;
//   D. once faults stop, every image converges to R intact copies on its assigned nodes.
// One seed gives one run, exactly; a failure names the seed and the step. Single-threaded.
#pragma once
#include <cstdint>
#include <deque>
#include <random>
#include <string>

#include "tests/sim/healing_cluster.hpp"

namespace glint::sim {

struct SimOptions {
  uint64_t seed = 1;
  int fault_steps = 2000;  // steps with faults
  int heal_rounds = 60;    // rounds of every worker on every node after the faults stop
  bool trace = false;      // print every event
};

struct SimResult {
  bool ok = true;
  std::string failure;  // the invariant broken, with the step and the last events
  int steps = 0;
  int rounds_to_converge = 0;
  size_t copies = 0, removals = 0, quarantines = 0, faults = 0, flagged = 0;
};

class Simulation {
 public:
  explicit Simulation(SimOptions opts);
  SimResult run();

 private:
  void step();
  void fault();
  void tick(std::chrono::seconds d);
  void event(const std::string& what);
  void fail(const std::string& why);
  void check_step();
  bool converged(std::string& why);
  void run_job();
  void slow_reader(std::string id = "");
  std::string pick(const std::vector<std::string>& v);
  std::vector<std::string> up_nodes() const;
  // Images the invariants judge: keeping data, catalog not rewritten by a fault.
  std::vector<std::string> judged() const;
  void watch();

  SimOptions opts_;
  std::mt19937_64 rng_;
  HealingCluster c_;
  int step_ = 0;
  bool faulting_ = false;  // writes by the simulation itself are not the workers'
  SimResult result_;
  std::deque<std::string> recent_;
  std::set<std::string> catalog_faulted_;
  // Marks of slow readers, in flight: applied (as a compare-and-set) a few steps later.
  struct LateMark {
    int due = 0;
    db::ReplicaRow seen;
  };
  std::vector<LateMark> late_marks_;
};

}  // namespace glint::sim
