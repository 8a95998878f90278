// The states of nodes, replicas and images as types, each with exactly one text form (the one the
// database, the bus, logs and glintctl use). Parsing is the only way from text to a state, so an
// unknown word is an error at the edge instead of a silent "not equal" deep inside a decision.
// Pure functions over constants; thread-safe.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace glint {

// A storage node: up (serving and heartbeating), down (marked silent by the coordinator), or
// draining (an operator wants it empty: it serves but gets no new copies).
enum class NodeState { up, down, draining };

// One copy of an image on one node. writing: reserved while a copy is made; ok: complete and
// verified against the image's digest; missing/corrupt: found bad (never served, repaired from
// other copies); excess: known to the catalog only so the reaper removes it.
enum class ReplicaState { writing, ok, missing, corrupt, excess };

// Glance's image statuses.
enum class ImageStatus { queued, saving, active, killed, deleted, pending_delete, deactivated, uploading, importing };

namespace states_detail {
template <class E>
struct Names;
template <>
struct Names<NodeState> {
  static constexpr std::array<std::string_view, 3> text = {"up", "down", "draining"};
};
template <>
struct Names<ReplicaState> {
  static constexpr std::array<std::string_view, 5> text = {"writing", "ok", "missing", "corrupt", "excess"};
};
template <>
struct Names<ImageStatus> {
  static constexpr std::array<std::string_view, 9> text = {"queued",         "saving",      "active",
                                                           "killed",         "deleted",     "pending_delete",
                                                           "deactivated",    "uploading",   "importing"};
};
}  // namespace states_detail

template <class E>
constexpr std::string_view to_text(E e) {
  return states_detail::Names<E>::text[static_cast<size_t>(e)];
}
template <class E>
std::string to_string(E e) {
  return std::string(to_text(e));
}
// nullopt for a word that names no state of E.
template <class E>
constexpr std::optional<E> parse_state(std::string_view s) {
  const auto& t = states_detail::Names<E>::text;
  for (size_t i = 0; i < t.size(); ++i)
    if (t[i] == s) return static_cast<E>(i);
  return std::nullopt;
}

// Images whose bytes the cluster must keep at R verified copies (the replicator's and the
// auditor's business). pending_delete data is kept but not maintained: the reaper owns it.
constexpr bool keeps_data(ImageStatus s) { return s == ImageStatus::active || s == ImageStatus::deactivated; }

// Whether the reaper may delete a copy of an image in status `s` (`claimed`: a pending_delete
// image it has claimed). Only terminal states qualify: deleted and killed never come back, and a
// claimed pending_delete can no longer be restored. A copy of an image that keeps data is never
// the reaper's (excess copies of those go only through the replicator's rule,
// ClusterView::may_remove_excess), nor is one of an image being uploaded, whose copy may be the
// upload's own.
constexpr bool reapable(ImageStatus s, bool claimed) {
  return s == ImageStatus::deleted || s == ImageStatus::killed || (s == ImageStatus::pending_delete && claimed);
}

// Whether the reaper may delete a copy in state `r` of an image in status `s` while it holds the
// image at that status (ReaperRepository::remove_queued_excess). An excess copy of a queued image
// is a failed upload's copy the API could not discard: no image's data, but the next upload may
// write this node's file under the same id, so it goes only with the image row locked at queued
// (no upload can start until the file and the row are gone).
constexpr bool reapable_while_queued(ImageStatus s, ReplicaState r) {
  return s == ImageStatus::queued && r == ReplicaState::excess;
}

}  // namespace glint
