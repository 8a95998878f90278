// A storage cluster in memory for the healing logic: every node has a FakeBlobStore, a row in the
// nodes table heartbeating on a simulated clock, and the real Replicator and (quick and deep)
// Auditor; the real Coordinator sweeps liveness. Bytes move through a StorePeer; the catalog is a
// FakeCatalog. The truth (each image's real bytes) is kept apart, so invariants can be judged on
// what is really on the disks. Used by the replicator's unit tests and the simulator.
// Single-threaded: one test thread drives it.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "shared/metrics/metrics.hpp"
#include "shared/placement/cluster_view.hpp"
#include "tests/support/fake_blob_store.hpp"
#include "tests/support/fake_catalog.hpp"
#include "tests/support/fake_clock.hpp"
#include "tests/support/store_peer.hpp"
#include "workers/auditor/auditor.hpp"
#include "workers/coordinator/coordinator.hpp"
#include "workers/replicator/replicator.hpp"

namespace glint::sim {

// Events published by the workers: dropped (the simulation runs passes itself).
class NullPublisher final : public bus::Publisher {
 public:
  void publish(const std::string&, nlohmann::json) override {}
};

struct ClusterOptions {
  size_t replicas = 3;
  std::chrono::milliseconds heartbeat_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds slot_grace{std::chrono::minutes(10)};
  size_t page = 7;  // small pages: paging is exercised with a handful of images
};

class HealingCluster {
 public:
  explicit HealingCluster(ClusterOptions opts = {});

  // Adds node n<k+1> in zone z<k+1 mod 5>, up and heartbeating; returns its name.
  std::string add_node();
  const std::vector<std::string>& node_names() const { return names_; }

  // The id the next add_image/upload will use (to ask placement about it first).
  std::string next_image_id() const;
  // An active image of `size` bytes stored on `on` with ok rows (as a finished upload leaves it).
  std::string add_image(size_t size, const std::vector<std::string>& on);
  // A new upload through placement: written to up to R writable nodes, active if 2 stored it.
  std::optional<std::string> upload(size_t size);

  // Node faults: a crashed node's store is unreachable and it stops heartbeating.
  void crash(const std::string& node);
  void restore(const std::string& node);
  bool crashed(const std::string& node) const { return crashed_.count(node) > 0; }
  // Every node that is not crashed heartbeats (a down node comes back up, draining stays).
  void heartbeats();
  // The coordinator's liveness sweep (marks silent nodes down).
  void sweep();
  Status set_state(const std::string& node, NodeState to);

  Expected<worker::PassResult> replicate(const std::string& node, const worker::PassContext& ctx = {});
  Expected<worker::PassResult> audit(const std::string& node, bool deep, const worker::PassContext& ctx = {});

  placement::ClusterView view() const;
  // Copies of `image` in `node`'s objects whose bytes are the image's real bytes.
  bool intact(const std::string& node, const std::string& image) const;
  size_t intact_copies(const std::string& image) const;  // on every node, crashed ones included
  const std::map<std::string, std::string>& truth() const { return truth_; }

  testing::FakeClock clock;
  testing::FakeCatalog catalog;
  testing::StorePeer peer;
  metrics::Metrics metrics;
  NullPublisher events;
  std::map<std::string, std::unique_ptr<testing::FakeBlobStore>> stores;

 private:
  struct Workers {
    std::unique_ptr<replicator::Replicator> replicator;
    std::unique_ptr<auditor::Auditor> quick, deep;
  };

  ClusterOptions opts_;
  std::vector<std::string> names_;
  std::set<std::string> crashed_;
  std::map<std::string, Workers> workers_;
  std::map<std::string, std::string> truth_;
  std::unique_ptr<coordinator::Coordinator> coordinator_;
  uint64_t next_image_ = 0;
};

}  // namespace glint::sim
