// Placement: weighted rendezvous hashing that picks R distinct nodes for an image id, spreading over
// zones first. Pure functions; thread-safe.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "shared/core/states.hpp"

namespace glint::placement {

using glint::NodeState;

struct Node {
  std::string name;  // stable node identity (hashed)
  std::string zone;
  double weight = 1.0;  // relative share; <= 0 means never chosen
  NodeState state = NodeState::up;
  bool full = false;    // at or below its free-space reserve
};

// Every eligible node (up, not draining, not full, weight > 0) in placement order for `image_id`:
// first the best-scoring node of each zone (zones ordered by their best score), then the rest by score.
std::vector<std::string> rank(const std::vector<Node>& nodes, std::string_view image_id);

// The first `r` of rank() (fewer if not enough eligible nodes).
std::vector<std::string> choose(const std::vector<Node>& nodes, std::string_view image_id, size_t r);

}  // namespace glint::placement
