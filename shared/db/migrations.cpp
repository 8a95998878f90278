#include "shared/db/migrations.hpp"

#include <pqxx/pqxx>

#include "shared/db/pg_util.hpp"

namespace glint::db {

namespace {

// Advisory lock key shared by every glint process migrating a database ("glint" in ASCII).
constexpr long long kMigrationLock = 0x676c696e74LL;

constexpr const char* kCreateLedger = R"sql(
CREATE TABLE schema_migrations (
  version    int PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))sql";

// Migration 1: the data model of design.md.
constexpr const char* kInitialSchema = R"sql(
CREATE TABLE images (
  id               uuid PRIMARY KEY,
  name             text,
  status           text NOT NULL CHECK (status IN ('queued','saving','active','killed','deleted',
                     'pending_delete','deactivated','uploading','importing')),
  visibility       text NOT NULL DEFAULT 'shared'
                     CHECK (visibility IN ('private','shared','community','public')),
  protected        boolean NOT NULL DEFAULT false,
  os_hidden        boolean NOT NULL DEFAULT false,
  owner            text,
  size             bigint,
  virtual_size     bigint,
  checksum         text,
  os_hash_algo     text,
  os_hash_value    text,
  disk_format      text,
  container_format text,
  min_disk         int NOT NULL DEFAULT 0,
  min_ram          int NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  deleted_at       timestamptz
);
CREATE INDEX images_status_idx ON images (status);
CREATE INDEX images_owner_idx ON images (owner);
CREATE INDEX images_created_at_idx ON images (created_at);

CREATE TABLE image_properties (
  image_id uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  name     text NOT NULL,
  value    text NOT NULL,
  PRIMARY KEY (image_id, name)
);

CREATE TABLE image_tags (
  image_id uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  tag      text NOT NULL,
  PRIMARY KEY (image_id, tag)
);

CREATE TABLE image_members (
  image_id   uuid NOT NULL REFERENCES images (id) ON DELETE CASCADE,
  member     text NOT NULL,
  status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','accepted','rejected')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (image_id, member)
);

CREATE TABLE nodes (
  name           text PRIMARY KEY,
  address        text NOT NULL,
  zone           text NOT NULL,
  weight         double precision NOT NULL DEFAULT 1,
  capacity       bigint NOT NULL DEFAULT 0,
  free           bigint NOT NULL DEFAULT 0,
  state          text NOT NULL DEFAULT 'up' CHECK (state IN ('up','down','draining')),
  state_since    timestamptz NOT NULL DEFAULT now(),
  last_heartbeat timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE replicas (
  image_id    uuid NOT NULL REFERENCES images (id),
  node        text NOT NULL REFERENCES nodes (name),
  state       text NOT NULL CHECK (state IN ('writing','ok','missing','corrupt','excess')),
  size        bigint,
  digest      text,
  verified_at timestamptz,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (image_id, node)
);
CREATE INDEX replicas_node_state_idx ON replicas (node, state);
CREATE INDEX replicas_not_ok_idx ON replicas (state) WHERE state <> 'ok';

CREATE TABLE jobs (
  id            uuid PRIMARY KEY,
  kind          text NOT NULL,
  target        text,
  state         text NOT NULL CHECK (state IN ('queued','running','done','failed','cancelled')),
  progress      double precision NOT NULL DEFAULT 0,
  result        jsonb,
  requested_by  text,
  lease_owner   text,
  lease_expires timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_state_created_idx ON jobs (state, created_at);

CREATE TABLE cache_entries (
  node        text NOT NULL,
  image_id    uuid NOT NULL,
  size        bigint,
  hits        bigint NOT NULL DEFAULT 0,
  last_access timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (node, image_id)
);

CREATE TABLE cache_queue (
  image_id  uuid PRIMARY KEY,
  queued_at timestamptz NOT NULL DEFAULT now(),
  queued_by text
);
)sql";

// Migration 2: the last pass of every worker on every node (glintctl status, operators' first look).
constexpr const char* kWorkerPasses = R"sql(
CREATE TABLE worker_passes (
  node        text NOT NULL,
  worker      text NOT NULL,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  ok          boolean NOT NULL,
  items       bigint NOT NULL DEFAULT 0,
  failed      bigint NOT NULL DEFAULT 0,
  bytes       bigint NOT NULL DEFAULT 0,
  note        text,
  PRIMARY KEY (node, worker)
);
)sql";

// Migration 3: self-healing. replication_log is the replicators' change feed (filled by triggers,
// so no writer can forget it): an idle pass reads only what changed since its checkpoint.
constexpr const char* kHealing = R"sql(
ALTER TABLE replicas ADD COLUMN hash_verified_at timestamptz;
CREATE INDEX replicas_node_verified_idx ON replicas (node, verified_at NULLS FIRST);

CREATE TABLE orphans (
  node     text NOT NULL,
  image_id text NOT NULL,
  size     bigint,
  found_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (node, image_id)
);

CREATE TABLE checkpoints (
  node       text NOT NULL,
  worker     text NOT NULL,
  position   text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (node, worker)
);

CREATE TABLE replication_log (
  seq      bigserial PRIMARY KEY,
  image_id uuid NOT NULL,
  at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX replication_log_at_idx ON replication_log (at);

CREATE FUNCTION glint_replication_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'images' THEN
    INSERT INTO replication_log (image_id) VALUES (NEW.id);
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO replication_log (image_id) VALUES (OLD.image_id);
  ELSE
    INSERT INTO replication_log (image_id) VALUES (NEW.image_id);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER replicas_added_or_removed AFTER INSERT OR DELETE ON replicas
  FOR EACH ROW EXECUTE FUNCTION glint_replication_changed();
CREATE TRIGGER replicas_state_changed AFTER UPDATE OF state ON replicas
  FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION glint_replication_changed();
CREATE TRIGGER images_status_changed AFTER UPDATE OF status ON images
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION glint_replication_changed();
)sql";

// Migration 4: data safety.
//  - replicas.version: every write of a row takes a new value from one sequence, so writers
//    compare-and-set on what they read (a row removed and written again never repeats a version).
//  - replication_log.xid: the writing transaction's id. Readers take only entries older than every
//    running transaction (pg_snapshot_xmin), which are final, and advance by (xid, seq): a seq
//    taken by a writer that commits late can no longer be skipped.
//  - placement_generation: the rebalance generation, in its own row (it was a fake node's
//    checkpoint).
//  - image_flags: images whose catalog disagrees with every copy while the copies agree.
constexpr const char* kDataSafety = R"sql(
CREATE SEQUENCE replica_version_seq;
ALTER TABLE replicas ADD COLUMN version bigint NOT NULL DEFAULT nextval('replica_version_seq');
ALTER TABLE replication_log ADD COLUMN xid bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX replication_log_xid_idx ON replication_log (xid, seq);

CREATE TABLE placement_generation (
  id         int PRIMARY KEY CHECK (id = 1),
  generation text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO placement_generation (id, generation)
  SELECT 1, position FROM checkpoints WHERE node = '*' AND worker = 'rebalance';
DELETE FROM checkpoints WHERE node = '*' AND worker = 'rebalance';

CREATE TABLE image_flags (
  image_id   uuid PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,
  reason     text NOT NULL,
  flagged_at timestamptz NOT NULL DEFAULT now()
);
)sql";

// Migration 5: the reaper. reap_claimed_at: set when the reaper claims a pending_delete image,
// before any copy goes; a restore needs it NULL (one compare-and-set against the other).
// purged_images: the ids of rows purged long after their delete.
constexpr const char* kLifecycle = R"sql(
ALTER TABLE images ADD COLUMN reap_claimed_at timestamptz;
CREATE INDEX images_pending_delete_idx ON images (deleted_at) WHERE status = 'pending_delete';
CREATE INDEX orphans_found_idx ON orphans (node, found_at);
-- Ids of purged images: never reused, as if their rows were still there.
CREATE TABLE purged_images (
  id        uuid PRIMARY KEY,
  purged_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX images_deleted_idx ON images (deleted_at) WHERE status = 'deleted';
-- Set by glint-api while an upload runs, so the reaper can tell a dead upload from a slow one.
ALTER TABLE images ADD COLUMN upload_heartbeat_at timestamptz;
)sql";

// Migration 6: the journal. A pass's backlog (the updater's: journal records not yet replayed)
// for glintctl status.
constexpr const char* kJournal = R"sql(
ALTER TABLE worker_passes ADD COLUMN backlog bigint;
)sql";

// Migration 7: the image cache on API nodes. The cache tables of migration 1 were never used;
// they become per node: the nodes that keep a cache, their entries (only complete, verified
// files are recorded) and a queue per node, so one request warms every node.
constexpr const char* kImageCache = R"sql(
DROP TABLE cache_queue;
DROP TABLE cache_entries;
CREATE TABLE cache_nodes (
  node          text PRIMARY KEY,
  url           text NOT NULL DEFAULT '',
  registered_at timestamptz NOT NULL DEFAULT now(),
  last_seen     timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE cache_entries (
  node        text NOT NULL REFERENCES cache_nodes (node) ON DELETE CASCADE,
  image_id    uuid NOT NULL,
  size        bigint NOT NULL,
  digest      text NOT NULL,
  hits        bigint NOT NULL DEFAULT 0,
  last_access timestamptz NOT NULL DEFAULT now(),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (node, image_id)
);
CREATE INDEX cache_entries_image_idx ON cache_entries (image_id);
CREATE TABLE cache_queue (
  node      text NOT NULL REFERENCES cache_nodes (node) ON DELETE CASCADE,
  image_id  uuid NOT NULL,
  queued_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (node, image_id)
);
)sql";

// Migration 8: a node's cache queue also carries evictions (glintctl cache clear asks every node;
// the files are on their disks, so their prefetchers do it).
constexpr const char* kCacheWork = R"sql(
ALTER TABLE cache_queue ADD COLUMN work text NOT NULL DEFAULT 'fetch' CHECK (work IN ('fetch', 'evict'));
)sql";

}  // namespace

const std::vector<Migration>& migrations() {
  // Immutable after first use (thread-safe static initialisation).
  static const std::vector<Migration> all = {
      {1, "initial schema", kInitialSchema},
      {2, "worker passes", kWorkerPasses},
      {3, "self-healing", kHealing},
      {4, "data safety", kDataSafety},
      {5, "lifecycle", kLifecycle},
      {6, "journal", kJournal},
      {7, "image cache", kImageCache},
      {8, "cache evictions", kCacheWork},
  };
  return all;
}

Expected<int> migrate(Pool& pool) {
  int applied = 0;
  for (const Migration& m : migrations()) {
    bool did = false;
    // One transaction per migration: the advisory lock is held until it commits, so a concurrent
    // starter blocks, then re-checks the ledger inside the lock and skips what was just applied.
    Status s = pool.run([&](pqxx::connection_base& c) {
      did = false;
      pqxx::work w(c);
      w.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
      // Checked first rather than IF NOT EXISTS, which sends a NOTICE that libpqxx prints to stderr.
      if (!w.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL")[0].as<bool>()) w.exec(kCreateLedger);
      if (!w.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", m.version).empty()) return;
      w.exec(m.sql);
      w.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name);
      w.commit();
      did = true;
    });
    if (!s) {
      return Error{s.code(), "migration " + std::to_string(m.version) + " (" + m.name + "): " + s.message()};
    }
    if (did) ++applied;
  }
  return applied;
}

Expected<int> schema_version(Pool& pool) {
  return pool.query<int>([](pqxx::connection_base& c) {
    pqxx::read_transaction t(c);
    if (!t.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL")[0].as<bool>()) return 0;
    return t.exec1("SELECT coalesce(max(version), 0) FROM schema_migrations")[0].as<int>();
  });
}

}  // namespace glint::db
