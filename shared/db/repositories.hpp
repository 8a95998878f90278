// Typed rows and repository seams over the metadata database (the truth, design.md principle 1).
// Pg* implementations take a Pool; every call is one short transaction. Thread-safe.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shared/core/result.hpp"
#include "shared/db/pool.hpp"

namespace glint::db {

using Timestamp = std::chrono::system_clock::time_point;

struct NodeRow {
  std::string name;     // unique
  std::string address;  // host:port of its glint-store
  std::string zone;
  double weight = 1.0;
  uint64_t capacity = 0;
  uint64_t free = 0;
  std::string state = "up";  // up | down | draining
  std::optional<Timestamp> last_heartbeat;
  std::optional<Timestamp> state_since;
};

class NodeRepository {
 public:
  virtual ~NodeRepository() = default;
  // Inserts or updates by name (address, zone, weight, capacity, free; state=up; heartbeat=now()).
  // A node in state draining stays draining.
  virtual Status register_node(const NodeRow& n) = 0;
  // Refreshes capacity/free and last_heartbeat.
  virtual Status heartbeat(const std::string& name, uint64_t capacity, uint64_t free) = 0;
  virtual Status set_state(const std::string& name, const std::string& state) = 0;
  virtual Expected<std::optional<NodeRow>> get(const std::string& name) = 0;
  virtual Expected<std::vector<NodeRow>> list() = 0;
};

struct ImageRow {
  std::string id;
  std::string name;
  std::string status = "queued";  // queued|saving|active|killed|deleted|pending_delete|deactivated|importing|uploading
  std::string visibility = "shared";
  bool protected_ = false;
  bool os_hidden = false;
  std::optional<std::string> owner;
  std::optional<int64_t> size;
  std::optional<int64_t> virtual_size;
  std::optional<std::string> checksum;
  std::optional<std::string> os_hash_algo;
  std::optional<std::string> os_hash_value;
  std::optional<std::string> disk_format;
  std::optional<std::string> container_format;
  int min_disk = 0;
  int min_ram = 0;
  Timestamp created_at{};
  Timestamp updated_at{};
  std::optional<Timestamp> deleted_at;
  std::map<std::string, std::string> properties;
  std::vector<std::string> tags;
};

// What a finished upload stored: the image's digests and the nodes holding a verified copy.
struct UploadedData {
  std::string image_id;
  int64_t size = 0;
  std::string checksum;  // md5 hex
  std::string os_hash_algo;
  std::string os_hash_value;
  std::optional<int64_t> virtual_size;
  struct Copy {
    std::string node;
    std::string digest;  // XXH3-128 hex reported by the node
  };
  std::vector<Copy> replicas;
};

// A page of the image list: equality filters, sort keys and a keyset marker.
struct ImageQuery {
  // Equality filters on name, status, visibility, owner, disk_format, container_format.
  std::map<std::string, std::string> equals;
  std::optional<bool> protected_;
  std::optional<bool> os_hidden;
  std::optional<std::string> tag;
  std::optional<int64_t> size_min;
  std::optional<int64_t> size_max;
  // Custom property equality filters (name -> value).
  std::map<std::string, std::string> properties;
  // created_at / updated_at comparisons; op is one of eq, neq, gt, gte, lt, lte.
  struct TimeFilter {
    std::string column;
    std::string op;
    Timestamp value;
  };
  std::vector<TimeFilter> times;
  // Restricts the list to what this project may see (own, public, shared with it and accepted,
  // community when visibility=community is asked for); nullopt: everything (admin, no-auth).
  std::optional<std::string> visible_to;
  // With visible_to: which memberships make a shared image visible (pending, accepted, rejected,
  // or all), Glance's member_status filter.
  std::string member_status = "accepted";
  // (key, ascending) pairs; id is always appended as the final tie-break. Empty: created_at desc.
  std::vector<std::pair<std::string, bool>> sort;
  size_t limit = 25;
  std::optional<std::string> marker;  // id of the last image of the previous page
};

// Columns an ImageQuery may sort by.
bool sortable_image_key(const std::string& key);

class ImageRepository {
 public:
  virtual ~ImageRepository() = default;
  // conflict if the id exists (deleted rows included: ids are never reused).
  virtual Status create(const ImageRow& img) = 0;
  virtual Expected<std::optional<ImageRow>> get(const std::string& id) = 0;
  // Sets status only if the current status is `from` (compare-and-set); conflict otherwise.
  virtual Status transition(const std::string& id, const std::string& from, const std::string& to) = 0;
  // Images not deleted, with properties and tags. invalid for an unknown sort key; not_found for a
  // marker that names no visible image.
  virtual Expected<std::vector<ImageRow>> list(const ImageQuery& q) = 0;
  // Soft delete: status deleted (or pending_delete when the data is left for the reaper), deleted_at
  // now; the row stays so the id is never reused. not_found if absent or already deleted.
  virtual Status mark_deleted(const std::string& id, bool pending) = 0;
  // One transaction: a saving image becomes active with its size and digests, and every replica
  // in d.replicas is recorded ok. not_found if the image was deleted meanwhile, conflict if it is
  // no longer saving.
  virtual Status activate(const UploadedData& d) = 0;
  // Writes the mutable attributes, properties and tags of img (updated_at = now) if the stored
  // row still has updated_at == img.updated_at (optimistic concurrency); conflict when another
  // writer came first (re-read and retry), not_found if absent or deleted. On success img.updated_at
  // is the new value.
  virtual Status save(ImageRow& img) = 0;
  // Idempotent; not_found if the image does not exist (or is deleted).
  virtual Status add_tag(const std::string& id, const std::string& tag) = 0;
  // not_found if the image or the tag does not exist.
  virtual Status remove_tag(const std::string& id, const std::string& tag) = 0;
};

struct ReplicaRow {
  std::string image_id;
  std::string node;
  std::string state = "writing";  // writing | ok | missing | corrupt | excess
  std::optional<int64_t> size;
  std::optional<std::string> digest;  // XXH3-128 hex
  std::optional<Timestamp> verified_at;
};

class ReplicaRepository {
 public:
  virtual ~ReplicaRepository() = default;
  // Inserts or replaces the row; hash_verified_at is set to r.verified_at (a copy verified against
  // a verified digest inherits its os_hash check).
  virtual Status upsert(const ReplicaRow& r) = 0;
  virtual Status set_state(const std::string& image_id, const std::string& node, const std::string& state) = 0;
  virtual Expected<std::vector<ReplicaRow>> for_image(const std::string& image_id) = 0;
  virtual Expected<std::vector<ReplicaRow>> for_node(const std::string& node) = 0;
  // Forgets a replica (its blob is gone); ok if there was none.
  virtual Status remove(const std::string& image_id, const std::string& node) = 0;
};

struct MemberRow {
  std::string image_id;
  std::string member;
  std::string status = "pending";  // pending | accepted | rejected
  Timestamp created_at{};
  Timestamp updated_at{};
};

// Image members (projects an image is shared with).
class MemberRepository {
 public:
  virtual ~MemberRepository() = default;
  // conflict if the member exists already; not_found if the image does not (or is deleted).
  virtual Expected<MemberRow> add(const std::string& image_id, const std::string& member) = 0;
  virtual Expected<std::vector<MemberRow>> list(const std::string& image_id) = 0;
  virtual Expected<std::optional<MemberRow>> get(const std::string& image_id, const std::string& member) = 0;
  // not_found if absent.
  virtual Expected<MemberRow> set_status(const std::string& image_id, const std::string& member,
                                         const std::string& status) = 0;
  virtual Status remove(const std::string& image_id, const std::string& member) = 0;
};

// Operator and automatic work (glintctl run/repair/drain, events that need a pass).
struct JobRow {
  std::string id;
  std::string kind;                   // a worker name: replicator, auditor, …
  std::optional<std::string> target;  // node, image or empty (the whole cluster)
  std::string state = "queued";       // queued | running | done | failed | cancelled
  double progress = 0;                // 0..1
  std::optional<std::string> result;  // JSON text
  std::optional<std::string> requested_by;
  std::optional<std::string> lease_owner;
  std::optional<Timestamp> lease_expires;
  Timestamp created_at{};
  std::optional<Timestamp> started_at;
  std::optional<Timestamp> finished_at;
};

// Jobs are claimed with leases (FOR UPDATE SKIP LOCKED): a worker that dies loses its lease when
// it expires and another claims the job. The bus only wakes claimers.
class JobRepository {
 public:
  virtual ~JobRepository() = default;
  virtual Expected<JobRow> create(const std::string& kind, const std::optional<std::string>& target,
                                  const std::string& requested_by) = 0;
  // The oldest claimable job of `kind` (queued, or running with an expired lease) that `node` may
  // serve (a target "node:N[;options]" is served only on N), now running under `owner` until now +
  // lease; nullopt when there is none.
  virtual Expected<std::optional<JobRow>> claim(const std::string& kind, const std::string& owner,
                                                std::chrono::seconds lease, const std::string& node) = 0;
  // Extends the lease and records progress; conflict when the lease was lost (expired and taken,
  // or the job was cancelled): the worker must stop.
  virtual Status renew(const std::string& id, const std::string& owner, std::chrono::seconds lease,
                       double progress) = 0;
  // done or failed with a JSON result; conflict when the lease was lost.
  virtual Status finish(const std::string& id, const std::string& owner, const std::string& state,
                        const std::string& result_json) = 0;
  // queued or running -> cancelled; conflict if already finished, not_found if unknown.
  virtual Status cancel(const std::string& id) = 0;
  virtual Expected<std::optional<JobRow>> get(const std::string& id) = 0;
  // Newest first; state empty = all.
  virtual Expected<std::vector<JobRow>> list(const std::string& state, size_t limit) = 0;
};

// The last pass of one worker on one node.
struct WorkerPassRow {
  std::string node;
  std::string worker;
  Timestamp started_at{};
  Timestamp finished_at{};
  bool ok = true;
  uint64_t items = 0;
  uint64_t failed = 0;
  uint64_t bytes = 0;
  std::string note;  // the pass summary, or the error of a failed pass
};

class WorkerPassRepository {
 public:
  virtual ~WorkerPassRepository() = default;
  // Replaces the (node, worker) row.
  virtual Status record(const WorkerPassRow& r) = 0;
  // Ordered by node, then worker.
  virtual Expected<std::vector<WorkerPassRow>> list() = 0;
};

// An image as the replicator and auditor see it: what must exist and where copies are.
struct ImageCopies {
  std::string id;
  std::string status;
  int64_t size = 0;
  std::string os_hash_algo;
  std::string os_hash_value;
  std::vector<ReplicaRow> replicas;
};

// One replica due for a deep audit on a node, with what it must hash to.
struct AuditItem {
  std::string image_id;
  int64_t size = 0;
  std::string digest;  // XXH3-128 hex recorded for the replica
  std::string os_hash_algo;
  std::string os_hash_value;
  std::optional<Timestamp> verified_at;
  std::optional<Timestamp> hash_verified_at;
};

// The queries of the self-healing workers (auditor, replicator): change feed, checkpoints,
// orphans, verification times. Every call is one short statement or transaction. Thread-safe.
class HealingRepository {
 public:
  virtual ~HealingRepository() = default;
  // The change feed: (seq, image id) after `after_seq`, oldest first, at most `limit`.
  virtual Expected<std::vector<std::pair<int64_t, std::string>>> changes(int64_t after_seq, size_t limit) = 0;
  // The feed's oldest and newest seq (0, 0 when empty).
  virtual Expected<std::pair<int64_t, int64_t>> change_bounds() = 0;
  // Forgets feed entries older than `age` (every replicator reads them within minutes).
  virtual Status prune_changes(std::chrono::seconds age) = 0;
  // Ids of images whose data must be kept (active, deactivated) after `after_id`, by id.
  virtual Expected<std::vector<std::string>> images_with_data(const std::string& after_id, size_t limit) = 0;
  // The images (any status) with their replica rows; unknown ids are left out.
  virtual Expected<std::vector<ImageCopies>> copies(const std::vector<std::string>& ids) = 0;
  // Replica rows placed on `node` after `after_id` (by image id), for the quick audit.
  virtual Expected<std::vector<ReplicaRow>> node_replicas(const std::string& node, const std::string& after_id,
                                                          size_t limit) = 0;
  // Ok replicas on `node` not verified since `before` (never verified first, then oldest).
  virtual Expected<std::vector<AuditItem>> due_for_audit(const std::string& node, Timestamp before, size_t limit) = 0;
  // The replicas of these images on `node` were read in full and matched (and their os_hash too
  // when `hash_checked`); one statement. Rows no longer ok are left alone.
  virtual Status mark_verified(const std::vector<std::string>& image_ids, const std::string& node,
                               bool hash_checked) = 0;
  // Oldest verified_at among ok replicas on `node` (never verified counts as the epoch); nullopt
  // when the node holds none.
  virtual Expected<std::optional<Timestamp>> oldest_verification(const std::string& node) = 0;
  virtual Status record_orphan(const std::string& node, const std::string& image_id, uint64_t size) = 0;
  virtual Status clear_orphan(const std::string& node, const std::string& image_id) = 0;
  virtual Expected<std::optional<std::string>> checkpoint(const std::string& node, const std::string& worker) = 0;
  virtual Status save_checkpoint(const std::string& node, const std::string& worker, const std::string& position) = 0;
};

// Cluster-wide counts for operators (glintctl status).
struct ClusterCounts {
  std::map<std::string, int64_t> images_by_status;  // deleted images excluded
  int64_t under_replicated = 0;  // active images with fewer than R ok replicas
  int64_t corrupt = 0;           // replica rows by state
  int64_t missing = 0;
  int64_t excess = 0;
};
Expected<ClusterCounts> cluster_counts(Pool& pool, int replicas);

std::unique_ptr<JobRepository> make_job_repository(Pool& pool);
std::unique_ptr<WorkerPassRepository> make_worker_pass_repository(Pool& pool);
std::unique_ptr<HealingRepository> make_healing_repository(Pool& pool);
std::unique_ptr<NodeRepository> make_node_repository(Pool& pool);
std::unique_ptr<MemberRepository> make_member_repository(Pool& pool);
std::unique_ptr<ImageRepository> make_image_repository(Pool& pool);
std::unique_ptr<ReplicaRepository> make_replica_repository(Pool& pool);

}  // namespace glint::db
