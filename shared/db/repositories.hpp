// Typed rows and repository seams over the metadata database (the truth, design.md principle 1).
// Pg* implementations take a Pool; every call is one short transaction. Thread-safe.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shared/core/result.hpp"
#include "shared/db/pool.hpp"
#include "shared/db/rows.hpp"

namespace glint::db {


class NodeRepository {
 public:
  virtual ~NodeRepository() = default;
  // Inserts or updates by name (address, zone, weight, capacity, free; state=up; heartbeat=now()).
  // A node in state draining stays draining.
  virtual Status register_node(const NodeRow& n) = 0;
  // Refreshes capacity/free and last_heartbeat; a down node is up again (draining stays draining).
  virtual Status heartbeat(const std::string& name, uint64_t capacity, uint64_t free) = 0;
  // Compare-and-set: the state becomes `to` only if it is still `from` (conflict otherwise, so a
  // decision taken on a stale read never overwrites another one); not_found for an unknown node.
  virtual Status set_state(const std::string& name, NodeState from, NodeState to) = 0;
  // The liveness sweep's verdict: up -> down only if the node is still up and its heartbeat is
  // still the one judged stale (conflict otherwise: it was drained, or it spoke meanwhile).
  virtual Status mark_down(const std::string& name, std::optional<Timestamp> heartbeat_seen) = 0;
  virtual Expected<std::optional<NodeRow>> get(const std::string& name) = 0;
  virtual Expected<std::vector<NodeRow>> list() = 0;
};

struct ImageRow {
  std::string id;
  std::string name;
  ImageStatus status = ImageStatus::queued;
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
  virtual Status transition(const std::string& id, ImageStatus from, ImageStatus to) = 0;
  // An upload of a saving image is still alive (the reaper requeues saving images whose upload
  // has not said so for [reaper] stale_upload_after). No-op unless the image is saving.
  virtual Status touch_upload(const std::string& id) = 0;
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


// Replica rows. Every write is a compare-and-set on what the writer read (state and version): a
// lost race is the outcome conflict — logged and counted by the caller, never an overwrite.
class ReplicaRepository {
 public:
  virtual ~ReplicaRepository() = default;
  // A copy was made and verified: r (state ok, size, digest, verified_at; hash_verified_at follows
  // verified_at, since a copy matching a verified digest inherits its os_hash check) is written
  // only if the row is still what the writer read — absent when expected_version is nullopt,
  // otherwise that version — and the image still keeps data (active or deactivated).
  // conflict: the row changed; not_found: the image no longer keeps data, or is unknown.
  virtual Status record_copy(const ReplicaRow& r, std::optional<int64_t> expected_version) = 0;
  // seen.state -> to, only if the row still has seen's state and version. conflict otherwise,
  // not_found if the row is gone.
  virtual Status set_state(const ReplicaRow& seen, ReplicaState to) = 0;
  // A copy whose bytes could not be removed, left for the reaper: the row is inserted as excess,
  // or an existing row becomes excess. conflict when it is an ok copy of an image that keeps data
  // (a good copy is never downgraded on a cleanup's word).
  virtual Status mark_excess(const std::string& image_id, const std::string& node) = 0;
  // Deletes the row only if it is still `seen` (state and version); ok if it is already gone,
  // conflict if it changed.
  virtual Status remove(const ReplicaRow& seen) = 0;
  // The excess rule's removal: deletes `seen` only if every row in `counted` (the copies that make
  // it excess) is still ok with the version read — they are locked FOR SHARE until the delete
  // commits, so none of them can change state in between. conflict otherwise.
  virtual Status remove_excess(const ReplicaRow& seen, const std::vector<ReplicaRow>& counted) = 0;
  // Forgets the row of a copy whose bytes were just removed, for an image that keeps no data
  // (failed upload, deleted image); never used for a copy of an active image.
  virtual Status forget(const std::string& image_id, const std::string& node) = 0;
  virtual Expected<std::vector<ReplicaRow>> for_image(const std::string& image_id) = 0;
  virtual Expected<std::vector<ReplicaRow>> for_node(const std::string& node) = 0;
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
  // The queued or running job of `kind` with exactly this target, or a new one: for work that
  // may be asked for repeatedly (an auditor's cross-check of the same image) but must run once.
  virtual Expected<JobRow> ensure(const std::string& kind, const std::string& target,
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
  std::optional<uint64_t> backlog;  // work the pass knew was left (the updater: journal records)
};

class WorkerPassRepository {
 public:
  virtual ~WorkerPassRepository() = default;
  // Replaces the (node, worker) row.
  virtual Status record(const WorkerPassRow& r) = 0;
  // Ordered by node, then worker.
  virtual Expected<std::vector<WorkerPassRow>> list() = 0;
};

// The queries of the self-healing workers (auditor, replicator): change feed, checkpoints,
// orphans, verification times, the placement generation, flagged images. Every call is one
// short statement or transaction. Thread-safe.
class HealingRepository {
 public:
  virtual ~HealingRepository() = default;
  // The change feed (filled by triggers on replicas and images): entries after `after`, in
  // (xid, seq) order, at most `limit` — only entries whose writing transaction is older than
  // every transaction still running. Those are final: no entry can later appear before them, so
  // a reader that advances to the last one returned never skips a change (a seq taken by a
  // writer that commits late would otherwise be passed over).
  virtual Expected<std::vector<FeedEntry>> changes(FeedPosition after, size_t limit) = 0;
  // A position that every settled entry precedes and every entry still to settle follows: where
  // a full scan that starts now leaves its reader.
  virtual Expected<FeedPosition> feed_head() = 0;
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
  // These replicas on `node` (image id, row version as read) were read in full and matched (and
  // their os_hash too when `hash_checked`); one statement. Rows changed since are left alone.
  virtual Status mark_verified(const std::vector<std::pair<std::string, int64_t>>& seen, const std::string& node,
                               bool hash_checked) = 0;
  // Oldest verified_at among ok replicas on `node` (never verified counts as the epoch); nullopt
  // when the node holds none.
  virtual Expected<std::optional<Timestamp>> oldest_verification(const std::string& node) = 0;
  virtual Status record_orphan(const std::string& node, const std::string& image_id, uint64_t size) = 0;
  virtual Status clear_orphan(const std::string& node, const std::string& image_id) = 0;
  virtual Expected<std::optional<std::string>> checkpoint(const std::string& node, const std::string& worker) = 0;
  virtual Status save_checkpoint(const std::string& node, const std::string& worker, const std::string& position) = 0;
  // The rebalance generation: part of every replicator's cluster view, so a new one makes each
  // of them scan everything once. Empty until the first rebalance.
  virtual Expected<std::string> placement_generation() = 0;
  virtual Status set_placement_generation(const std::string& generation) = 0;
  // Images whose catalog digests disagree with every copy while the copies agree (flag_image is
  // idempotent; clear_flag when a copy matches again).
  virtual Status flag_image(const std::string& image_id, const std::string& reason) = 0;
  virtual Status clear_flag(const std::string& image_id) = 0;
  virtual Expected<bool> is_flagged(const std::string& image_id) = 0;
  virtual Expected<std::vector<ImageFlag>> flagged(size_t limit) = 0;
};

// A copy on a node whose image no longer needs it, as the reaper finds it.
struct Leftover {
  ReplicaRow replica;
  ImageStatus status = ImageStatus::queued;
  bool claimed = false;  // a pending_delete image the reaper claimed (no restore from then on)
};

struct OrphanRow {
  std::string node, image_id;
  uint64_t size = 0;
  Timestamp found_at{};
};

enum class RestoreOutcome { restored, being_reaped, not_pending_delete, not_found };

// What is overdue for the reaper (alert inputs).
struct ReapBacklog {
  int64_t due_deletes = 0;                  // pending_delete images past scrub_time, claimed or not
  int64_t leftovers = 0;                    // replica rows on the node that may go
  std::optional<Timestamp> oldest_due;      // deleted_at of the oldest due pending_delete image
};

// The reaper's queries. A delayed delete is claimed (a compare-and-set on the image) before any
// copy of it goes, and a restore succeeds only on an unclaimed image, in one statement each: the
// two can race freely and never leave a half-restored image. Every call is one short statement
// or transaction. Thread-safe.
// An active image whose derived metadata is missing (legacy or migrated rows), and the copy on
// this node to derive it from.
struct BackfillItem {
  std::string image_id;
  std::string disk_format;
  int64_t size = 0;
  std::optional<std::string> checksum;  // md5, when the catalog has one: the bytes must match it
  std::string digest;                    // XXH3-128 of this node's ok copy
  bool needs_virtual_size = false;
  bool needs_os_hash = false;
};

// The updater's back-fill of virtual_size and os_hash. Thread-safe.
class BackfillRepository {
 public:
  virtual ~BackfillRepository() = default;
  // Active, non-empty images after `after_id` (by id) lacking os_hash, or virtual_size where the
  // format has one, whose first ok copy (by node name) is on `node`: one node does each.
  virtual Expected<std::vector<BackfillItem>> lacking(const std::string& node, const std::string& after_id,
                                                      size_t limit) = 0;
  // Sets only what is still unset (never overwrites), only while the image is active with this
  // checksum. not_found when it no longer is.
  virtual Status backfill(const std::string& image_id, const std::optional<std::string>& checksum,
                          std::optional<int64_t> virtual_size, const std::optional<std::string>& os_hash_algo,
                          const std::optional<std::string>& os_hash_value) = 0;
};

class ReaperRepository {
 public:
  virtual ~ReaperRepository() = default;
  // Claims up to `limit` pending_delete images deleted before `before`; returns how many.
  virtual Expected<size_t> claim_due_deletes(Timestamp before, size_t limit) = 0;
  // Replica rows on `node` (after `after_id`, by image id) of images in a terminal state that
  // keeps no data (deleted, killed, or pending_delete and claimed) and excess rows of queued
  // images. A filter only: the reaper still asks reapable() / reapable_while_queued()
  // (shared/core/states.hpp) of each.
  virtual Expected<std::vector<Leftover>> leftovers(const std::string& node, const std::string& after_id,
                                                    size_t limit) = 0;
  // Deletes an excess copy of a queued image (reapable_while_queued): in one transaction the image
  // row is locked at queued (not waiting: false when an upload holds it or it left queued) and the
  // row as `seen` is taken, then `remove_file` runs and the row goes only if the file did. False
  // when the copy is no longer the reaper's; the file's error when it could not be deleted.
  virtual Expected<bool> remove_queued_excess(const ReplicaRow& seen, const std::function<Status()>& remove_file) = 0;
  // Removes the rows of copies whose files are gone, each only as `seen` (same version: a copy
  // made again meanwhile keeps its row), in one transaction; returns how many went.
  virtual Expected<size_t> remove_reaped(const std::vector<ReplicaRow>& seen) = 0;
  // Claimed pending_delete images with no replica row left become deleted; returns how many.
  virtual Expected<size_t> finish_reaped(size_t limit) = 0;
  // Orphans (files with no row) recorded on `node` before `found_before`.
  virtual Expected<std::vector<OrphanRow>> due_orphans(const std::string& node, Timestamp found_before,
                                                       size_t limit) = 0;
  // Takes the orphan's row only if no replica row of (image, node) exists at this moment (one
  // statement); false when the file has become a replica meanwhile, or is no orphan any more.
  virtual Expected<bool> take_orphan(const std::string& node, const std::string& image_id) = 0;
  // pending_delete -> active, only while the reaper has not claimed the image.
  virtual Expected<RestoreOutcome> restore(const std::string& image_id) = 0;
  // Purges up to `limit` rows of images deleted before `deleted_before` (no replica row left)
  // with their properties, tags, members, flags and cache rows; their ids stay taken
  // (purged_images). Returns how many (glance-manage db purge).
  virtual Expected<size_t> purge(Timestamp deleted_before, size_t limit) = 0;
  // saving images whose upload has not been heard from since `before` (its API died) go back to
  // queued, as Glance does after a failed upload; returns how many. Their copies were never
  // recorded (a replica row is written only at activation), and stores drop cut uploads.
  virtual Expected<size_t> requeue_stale_uploads(Timestamp before, size_t limit) = 0;
  virtual Expected<ReapBacklog> backlog(const std::string& node, Timestamp due_before) = 0;
};

// Cluster-wide counts for operators (glintctl status).
struct ClusterCounts {
  std::map<std::string, int64_t> images_by_status;  // deleted images excluded
  int64_t under_replicated = 0;  // active images with fewer than R ok replicas
  int64_t corrupt = 0;           // replica rows by state
  int64_t missing = 0;
  int64_t excess = 0;
  int64_t flagged = 0;           // images whose catalog disagrees with every (agreeing) copy
};
Expected<ClusterCounts> cluster_counts(Pool& pool, int replicas);

std::unique_ptr<JobRepository> make_job_repository(Pool& pool);
std::unique_ptr<WorkerPassRepository> make_worker_pass_repository(Pool& pool);
std::unique_ptr<HealingRepository> make_healing_repository(Pool& pool);
std::unique_ptr<NodeRepository> make_node_repository(Pool& pool);
std::unique_ptr<MemberRepository> make_member_repository(Pool& pool);
std::unique_ptr<ImageRepository> make_image_repository(Pool& pool);
std::unique_ptr<ReplicaRepository> make_replica_repository(Pool& pool);
std::unique_ptr<ReaperRepository> make_reaper_repository(Pool& pool);
std::unique_ptr<BackfillRepository> make_backfill_repository(Pool& pool);

}  // namespace glint::db
