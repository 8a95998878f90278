#!/usr/bin/env bash
# Lifecycle speed, against baselines measured in the same run on the same disk. Prints
# `name value unit` lines (details on stderr as `# ...`), then the ratios.
#
#   reap          BENCH_REAP (10,000) pending_delete images of 1 MiB on one node (copies of one
#                 uploaded blob, rows inserted directly), `glint-reaper --once` (unthrottled) deletes
#                 them all -> images/s and MB/s reclaimed, against `rm` of as many 1 MiB files on
#                 the same disk + sync (target >= 0.5)
#   journal       BENCH_APPENDS (2,000) appends with fdatasync each -> p50/p99 latency; replay of
#                 BENCH_RECORDS (100,000) records by `glint-updater --once` into PostgreSQL ->
#                 records/s (target >= 5,000/s), and the journal alone (no database)
# Knobs: BENCH_DIR (default build/bench-lifecycle), BENCH_REAP, BENCH_APPENDS, BENCH_RECORDS, BENCH_FSYNC
#   (true), BENCH_CONCURRENCY (the reaper's, 8).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/deploy/lib.sh"
source "$root/tests/bench/lib.sh"
bin=$root/build/bin
for b in glint-api glint-store glint-reaper glint-updater journal_bench; do
  [ -x "$bin/$b" ] || { echo "build first: cmake --build build" >&2; exit 1; }
done
dir=${BENCH_DIR:-$root/build/bench-lifecycle}
reap=${BENCH_REAP:-10000}
appends=${BENCH_APPENDS:-2000}
records=${BENCH_RECORDS:-100000}
secret=bench-secret
MiB=$((1024 * 1024))

bench_fresh_dir "$dir"
pg_started=""
cleanup() {
  glint_stop_pid "$dir/run/api.pid"
  glint_stop_pid "$dir/run/node1.pid"
  [ -n "$pg_started" ] && "$root/tests/support/pg.sh" stop "$dir/pg" >/dev/null 2>&1
  rm -rf "$dir/nodes" "$dir/rm" "$dir/journal"*
}
trap cleanup EXIT
put() { echo "$1 $2 $3"; }
ratio() { python3 -c "print('%s %.3f ratio' % ('$1', $2 / $3))"; }

# ------------------------------------------------------------------------------ one node, R=1
bench_pg "$dir" glint_lifecycle
cat > "$dir/etc/schedules.conf" <<SCHED
[reaper]
interval = 1h
concurrency = ${BENCH_CONCURRENCY:-8}
[updater]
interval = 1h
SCHED
common="[database]
connection = $db_url
[auth]
shared_secret = $secret
[bus]
router_endpoint =
[cluster]
replicas = 1
write_quorum = 1"
cat > "$dir/etc/node1.conf" <<CONF
[DEFAULT]
node_name = node1
log_file = $dir/log/node1.log
log_level = warn
$common
[store]
data_dir = $dir/nodes/node1
zone = zone1
port_file = $dir/run/node1.port
reserve = 0
heartbeat_interval = 1s
fsync = ${BENCH_FSYNC:-true}
[worker]
schedule_defaults = $dir/etc/schedules.conf
lock_dir = $dir/run/locks
[journal]
dir = $dir/journal
[reaper]
scrub_time = 0s
CONF
glint_start_service "$bin/glint-store" "$dir/etc/node1.conf" node1 "$dir/run/node1.pid" "$dir/log/node1.out" "$dir/run/node1.port"
sed -e "s|^log_file = .*|log_file = $dir/log/worker.log|" -e 's/^log_level = warn/log_level = info/' \
  "$dir/etc/node1.conf" > "$dir/etc/worker.conf"
cat > "$dir/etc/api.conf" <<CONF
[DEFAULT]
log_file = $dir/log/api.log
log_level = warn
$common
[api]
bind_port = 0
port_file = $dir/run/api.port
CONF
glint_start_service "$bin/glint-api" "$dir/etc/api.conf" glint-api "$dir/run/api.pid" "$dir/log/api.out" "$dir/run/api.port"
api=http://127.0.0.1:$(cat "$dir/run/api.port")
pass_ms() {  # pass_ms EXE: one --once pass of the worker, the ms of its pass.done line
  "$bin/$1" --config-file "$dir/etc/worker.conf" --once >>"$dir/log/worker.out" 2>&1
  grep 'event=pass.done' "$dir/log/worker.log" | tail -1 | sed -n 's/.* ms=\([0-9]*\).*/\1/p'
}

# ------------------------------------------------------------------------------ reap
head -c "$MiB" /dev/urandom > "$dir/one"
id0=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"disk_format": "raw", "container_format": "bare"}' \
  "$api/v2/images" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' -T "$dir/one" \
  "$api/v2/images/$id0/file")" = 204 ] || { echo "upload failed" >&2; exit 1; }
digest=$(psql_q "select digest from replicas where image_id = '$id0'")
log "copying $reap blobs of 1 MiB (and as many plain files for rm)"
python3 - "$dir" "$id0" "$reap" <<'PY'
import os, shutil, sys, uuid
d, id0, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
src = f"{d}/nodes/node1/objects/{id0[:2]}/{id0[2:4]}/{id0}"
os.makedirs(f"{d}/rm", exist_ok=True)
with open(f"{d}/ids", "w") as ids:
    for i in range(n):
        u = str(uuid.uuid4())
        dst = f"{d}/nodes/node1/objects/{u[:2]}/{u[2:4]}"
        os.makedirs(dst, exist_ok=True)
        shutil.copyfile(src, f"{dst}/{u}")
        shutil.copyfile(src + ".meta", f"{dst}/{u}.meta")
        shutil.copyfile(src, f"{d}/rm/{i}")
        ids.write(u + "\n")
PY
psql_q "create temp table ids (id uuid); copy ids from '$dir/ids';
        insert into images (id, name, status, size, disk_format, container_format, deleted_at)
          select id, 'reap', 'pending_delete', $MiB, 'raw', 'bare', now() - interval '1 hour' from ids;
        insert into replicas (image_id, node, state, size, digest)
          select id, 'node1', 'ok', $MiB, '$digest' from ids;" >/dev/null
drop_caches
t0=$(now_ms)
rm -rf "$dir/rm"
sync
rm_ms=$(( $(now_ms) - t0 ))
drop_caches
reap_ms=$(pass_ms glint-reaper)
left=$(psql_q "select count(*) from images where name = 'reap' and status <> 'deleted'")
files=$(find "$dir/nodes/node1/objects" -type f ! -name '*.meta' | wc -l)
[ "$left" = 0 ] && [ "$files" = 1 ] || log "reap: $left images not deleted, $files blob files left (1 expected)"
log "reap of $reap x 1 MiB: reaper ${reap_ms} ms, rm ${rm_ms} ms"
put reap_images_per_s "$(python3 -c "print('%.0f' % ($reap / ($reap_ms / 1000)))")" images/s
put reap_mbps "$(python3 -c "print('%.1f' % ($reap * $MiB / ($reap_ms / 1000) / 1e6))")" MB/s
put rm_mbps "$(python3 -c "print('%.1f' % ($reap * $MiB / ($rm_ms / 1000) / 1e6))")" MB/s
reap_ratio=$(ratio reap_vs_rm "$rm_ms" "$reap_ms")

# ------------------------------------------------------------------------------ journal
mkdir -p "$dir/journal-append"
"$bin/journal_bench" append "$dir/journal-append" "$appends" | while read -r k v; do put "$k" "$v" us; done
mkdir -p "$dir/journal-nodb" "$dir/journal"
"$bin/journal_bench" fill "$dir/journal-nodb" "$records" >/dev/null
"$bin/journal_bench" replay "$dir/journal-nodb" | while read -r k v; do put "$k" "$v" records; done
"$bin/journal_bench" fill "$dir/journal" "$records" >/dev/null
replay_ms=$(pass_ms glint-updater)
replayed=$(psql_q "select count(*) from orphans")
[ "$replayed" = "$records" ] || log "replay: $replayed of $records records reached the database"
log "replay of $records records into PostgreSQL: ${replay_ms} ms"
put replay_records_per_s "$(python3 -c "print('%.0f' % ($records / ($replay_ms / 1000)))")" records/s

echo "$reap_ratio"
python3 -c "print('replay_vs_target %.3f ratio' % ($records / ($replay_ms / 1000) / 5000))"
