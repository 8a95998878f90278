// What an operator job is about, as one type: the whole cluster, one image ("image:ID"), one node
// ("node:N" with options ";drain", ";deep"), or a cluster rebalance ("rebalance"). The text form is
// what the jobs table stores and the job claim matches on ("node:N…" is claimed only on N).
// Value type; thread-compatible.
#pragma once
#include <string>
#include <string_view>

#include "shared/core/result.hpp"

namespace glint {

struct JobTarget {
  enum class Kind { cluster, image, node, rebalance };
  Kind kind = Kind::cluster;
  std::string id;      // image id (canonical uuid) or node name
  bool drain = false;  // node: move every copy off it
  bool deep = false;   // node: audit with os_hash

  static JobTarget cluster() { return {}; }
  static JobTarget image(std::string id) { return {Kind::image, std::move(id), false, false}; }
  static JobTarget node(std::string name, bool drain = false, bool deep = false) {
    return {Kind::node, std::move(name), drain, deep};
  }
  static JobTarget rebalance() { return {Kind::rebalance, {}, false, false}; }

  // "" is the cluster. invalid for anything else that is not one of the forms above (a bad uuid,
  // an empty node name, an unknown option).
  static Expected<JobTarget> parse(std::string_view text);
  std::string text() const;  // parse(text()) == *this
  bool operator==(const JobTarget&) const = default;
};

}  // namespace glint
