// Moves image bytes between API clients and the storage nodes: uploads fan out to R placed nodes
// and succeed on a write quorum of identical copies; downloads read a verified replica and fail
// over mid-stream; deletes remove every copy. Thread-safe: each transfer owns its threads and state.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shared/bus/publisher.hpp"
#include "shared/cache/image_cache.hpp"
#include "shared/core/clock.hpp"
#include "shared/db/repositories.hpp"
#include "shared/http/message.hpp"
#include "shared/log/log.hpp"
#include "shared/metrics/metrics.hpp"
#include "shared/peer/blob_peer.hpp"
#include "shared/peer/failover_source.hpp"
#include "shared/peer/read_plan.hpp"
#include "shared/placement/cluster_view.hpp"

namespace glint::api {

struct DataOptions {
  size_t replicas = 3;
  size_t write_quorum = 2;
  uint64_t image_size_cap = 1ull << 40;
  size_t upload_buffer = 8u << 20;  // bytes per upload held while nodes catch up
  std::chrono::milliseconds node_down_after{30000};
  // Re-reads of an image after an activate in doubt, with this first backoff (doubled each time).
  int doubt_rereads = 4;
  std::chrono::milliseconds doubt_backoff{100};
  bool delayed_delete = false;
  std::string os_hash_algo = "sha512";
  // Short-circuit reads: a glint-store on this machine (its node name and data directory) whose ok
  // copies downloads and cache fills read in place, verified block by block, instead of over
  // loopback HTTP. Empty: off.
  std::string local_store_node;
  std::string local_store_dir;
};

// Counters of the data path (glint_api_*), shared by every transfer.
struct DataMetrics {
  explicit DataMetrics(metrics::Metrics& m);
  prometheus::Counter& uploads_ok;
  prometheus::Counter& uploads_failed;
  prometheus::Counter& uploads_refused_format;  // not their disk_format, or unsafe (also counted failed)
  prometheus::Counter& upload_bytes;
  prometheus::Counter& download_bytes;
  prometheus::Counter& failovers;
  prometheus::Family<prometheus::Counter>& bad_replicas;  // {state="corrupt"|"missing"}
  prometheus::Counter& cleanup_deferred;                  // copies left for the reaper
  prometheus::Counter& commit_in_doubt;                   // activates whose outcome had to be re-read
  prometheus::Counter& races_lost;                        // replica marks refused: the row had changed
  prometheus::Family<prometheus::Counter>& local_reads;   // {outcome="served"|"unreadable"|"corrupt"}
  prometheus::Counter& local_bytes;                       // bytes read in place from the local store
};

class ImageData {
 public:
  ImageData(DataOptions opts, db::ImageRepository& images, db::NodeRepository& nodes,
            db::ReplicaRepository& replicas, peer::BlobPeer& peer, bus::Publisher& events, metrics::Metrics& metrics,
            const Clock& clock, log::Logger logger, cache::ImageCache* cache = nullptr);

  // Starts an upload into `img`, which the caller has moved to saving. The sink answers when the
  // body ends (204, 413, 503, …) and puts the image back to queued on any failure. Errors before
  // the body: unavailable when fewer live nodes than the write quorum exist.
  Expected<std::unique_ptr<http::BodySink>> begin_upload(const http::Request& req, const db::ImageRow& img);

  // The response to GET …/file of an image with data (active or deactivated): 200/206 streaming,
  // 416, or 503 when no replica can be read. With a cache, an active image whose entry holds the
  // replicas' bytes is served from it; a whole-image miss fills it (one fetch for every client).
  http::Response download(const http::Request& req, const db::ImageRow& img);

  // After the image was marked deleted: removes its copies from every node (best effort); a copy
  // that cannot be removed now stays recorded as excess for the reaper.
  void remove_data(const std::string& image_id);

  const DataOptions& options() const { return opts_; }

 private:
  // A copy to remove and the bytes it must be ("*": whatever the node holds, for data nobody counts).
  struct Discard {
    peer::Endpoint node;
    std::string if_match = "*";
  };
  using ReadPlan = peer::ReadPlan;
  Expected<placement::ClusterView> view();
  placement::ViewOptions view_options() const;
  std::optional<peer::Endpoint> endpoint(const placement::ClusterView& v, const std::string& node) const;
  // Writable nodes (up and heartbeating), as endpoints, in placement order for `image_id`.
  Expected<std::vector<peer::Endpoint>> placed_nodes(const std::string& image_id, size_t count);
  Expected<ReadPlan> read_sources(const std::string& image_id);
  // Reads of the image's bytes from its nodes, failing over between them (cache fills, misses).
  cache::Upstream upstream(const std::string& image_id, const ReadPlan& plan, log::Logger log);
  peer::FailoverHooks download_hooks(const std::string& image_id, std::map<std::string, db::ReplicaRow> rows,
                                     log::Logger log);
  // A copy that refused its bytes (corrupt or missing): counted, announced and marked on the row
  // as read when the download began (a copy re-made since is not blamed).
  void blame(const std::string& image_id, const std::string& node, peer::ReadOutcome outcome,
             const std::map<std::string, db::ReplicaRow>& rows, const log::Logger& log);
  // Bytes [first, last] of the local store's copy, read in place (nullptr when it cannot be: no
  // such file, other bytes than `row`); a corrupt block blames the copy and `nodes` serve the rest.
  std::unique_ptr<http::BodySource> open_local(const db::ReplicaRow& row, uint64_t first, uint64_t last,
                                               cache::Upstream nodes, const std::map<std::string, db::ReplicaRow>& rows,
                                               const log::Logger& log);
  // Removes copies of an image that keeps no data (best effort); ones that cannot be removed now
  // are recorded as excess for the reaper.
  void discard_copies(const std::string& image_id, const std::vector<Discard>& copies);
  // After an activate whose outcome is unknown (the connection broke around COMMIT): the image as
  // the database has it now, re-read a few times; nullopt while the database cannot say.
  std::optional<db::ImageRow> reread_after_doubt(const std::string& image_id);
  friend class UploadSink;

  DataOptions opts_;
  db::ImageRepository& images_;
  db::NodeRepository& nodes_;
  db::ReplicaRepository& replicas_;
  peer::BlobPeer& peer_;
  bus::Publisher& events_;  // image.uploaded, image.deleted, replica.bad
  DataMetrics m_;
  const Clock& clock_;
  log::Logger log_;
  cache::ImageCache* cache_;  // nullptr: no cache on this node
};

}  // namespace glint::api
