// Where to read an image from: its ok copies on live nodes in the cluster's read order, as
// endpoints, with the rows as read (compare-and-set marks of a bad copy act on those). One
// reading for every reader of image bytes (glint-api's downloads, the cache prefetcher).
// Pure apart from the two repository reads; thread-safe.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shared/db/repositories.hpp"
#include "shared/log/log.hpp"
#include "shared/peer/blob_peer.hpp"
#include "shared/peer/failover_source.hpp"
#include "shared/placement/cluster_view.hpp"

namespace glint::peer {

struct ReadPlan {
  std::vector<Endpoint> sources;
  std::map<std::string, db::ReplicaRow> rows;  // by node
};

Expected<ReadPlan> plan_reads(const std::string& image_id, db::ReplicaRepository& replicas, db::NodeRepository& nodes,
                              const placement::ViewOptions& view, db::Timestamp now, const log::Logger& log);

// The digest every ok copy agrees on, with the image's size: the bytes a cached copy must hold.
// nullopt when there is no ok copy or the copies disagree (the workers settle that first).
std::optional<std::string> agreed_digest(const ReadPlan& plan, uint64_t size);

// Bytes [first, last] of an image from the plan's sources, failing over between them (a started
// FailoverSource: spliced by a server, read with next() by others); unavailable, before any byte,
// when no source can deliver. `hooks` is called once per opened range.
using RangeOpener = std::function<Expected<std::unique_ptr<http::BodySource>>(uint64_t first, uint64_t last)>;
RangeOpener open_ranges(BlobPeer& peer, std::string image_id, std::vector<Endpoint> sources,
                        std::function<FailoverHooks()> hooks);

}  // namespace glint::peer
