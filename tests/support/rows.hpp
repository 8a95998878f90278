// Row builders shared by the tests of the cluster model, the replicator and the simulator.
// Plain functions; thread-safe.
#pragma once
#include <string>
#include <vector>

#include "shared/db/rows.hpp"

namespace glint::testing {

// An active image of `size` bytes with an ok replica (digest "d" unless given) on each node.
inline db::ImageCopies image_on(const std::string& id, const std::vector<std::string>& ok_nodes, int64_t size = 10,
                                const std::string& digest = "d") {
  db::ImageCopies img;
  img.id = id;
  img.status = ImageStatus::active;
  img.size = size;
  for (const auto& n : ok_nodes) {
    db::ReplicaRow r;
    r.image_id = img.id;
    r.node = n;
    r.state = ReplicaState::ok;
    r.digest = digest;
    img.replicas.push_back(r);
  }
  return img;
}

}  // namespace glint::testing
