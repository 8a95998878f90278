#include "shared/placement/placement.hpp"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace glint::placement {

namespace {

// An eligible node with its score for the image being placed. Plain value.
struct Scored {
  const Node* node;
  double score;
};

bool eligible(const Node& n) {
  // `weight > 0` is false for NaN too, so a misconfigured weight never attracts data.
  return n.state == NodeState::up && !n.full && n.weight > 0;
}

// Weighted rendezvous score: -w / ln(u) with u uniform in (0,1) from the hash of (node, image).
// Taking the highest score gives each node a share proportional to its weight, and adding or
// removing a node only moves the images whose winner changes.
double score(const Node& n, std::string_view image_id) {
  std::string key;
  key.reserve(n.name.size() + 1 + image_id.size());
  key.append(n.name).push_back('\0');  // separator: ("ab","c") and ("a","bc") must differ
  key.append(image_id);
  const uint64_t h = XXH3_64bits(key.data(), key.size());
  const double u = (static_cast<double>(h >> 11) + 0.5) * 0x1p-53;
  double ln_u = std::log(u);
  // The top 53-bit value rounds u to exactly 1.0 (ln 0); treat it as the largest value below 1.
  if (!(ln_u < 0)) ln_u = -0x1p-53;
  return -n.weight / ln_u;
}

}  // namespace

std::vector<std::string> rank(const std::vector<Node>& nodes, std::string_view image_id) {
  std::vector<Scored> scored;
  scored.reserve(nodes.size());
  for (const Node& n : nodes) {
    if (eligible(n)) scored.push_back({&n, score(n, image_id)});
  }
  // Total order (score, then name, then zone) so the result never depends on the input order.
  std::sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.node->name != b.node->name) return a.node->name < b.node->name;
    return a.node->zone < b.node->zone;
  });

  // A node listed twice is still one node: keep its best entry only.
  std::unordered_set<std::string_view> seen_names;
  std::vector<const Scored*> unique;
  unique.reserve(scored.size());
  for (const Scored& s : scored) {
    if (seen_names.insert(s.node->name).second) unique.push_back(&s);
  }

  // Zone spreading: the best node of every zone first (in score order), then everything else.
  std::unordered_set<std::string_view> used_zones;
  std::vector<std::string> out;
  out.reserve(unique.size());
  std::vector<bool> taken(unique.size(), false);
  for (size_t i = 0; i < unique.size(); ++i) {
    if (used_zones.insert(unique[i]->node->zone).second) {
      out.push_back(unique[i]->node->name);
      taken[i] = true;
    }
  }
  for (size_t i = 0; i < unique.size(); ++i) {
    if (!taken[i]) out.push_back(unique[i]->node->name);
  }
  return out;
}

std::vector<std::string> choose(const std::vector<Node>& nodes, std::string_view image_id, size_t r) {
  std::vector<std::string> ranked = rank(nodes, image_id);
  if (ranked.size() > r) ranked.resize(r);
  return ranked;
}

}  // namespace glint::placement
