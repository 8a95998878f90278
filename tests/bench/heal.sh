#!/usr/bin/env bash
# Self-healing speed, against baselines measured in the same run on the same disk. Prints
# `name value unit` lines (details on stderr as `# ...`), then the ratios.
#
#   repair_small   1,000 images of 1 MiB lose their copy on node1; `glint-replicator --once` on node1
#                  (unthrottled, concurrency 4) copies them back from node2/node3 through the stores
#                  -> seconds and MB/s, against `cp` of the same 1,000 files on the same disk + sync
#   repair_big     the same with 4 images of 256 MiB
#   deep_audit     `glint-auditor --deep --once` on node2 (unthrottled) over everything it holds
#                  -> MB/s, against `cat` of the same files to /dev/null; page cache dropped before
#                  both when /proc/sys/vm/drop_caches is writable (else both run as they find it)
#   idle_pass      100,000 more in-sync images (rows inserted directly), a first replicator pass
#                  (reads the 400,000 feed entries the inserts left), a full scan (a rebalance
#                  generation), then an idle pass -> ms (target <= 1 s)
#
# Targets (issue self-healing): repair >= 0.5 of cp, audit >= 0.6 of the plain read, idle <= 1 s.
# Knobs: BENCH_DIR (default build/bench-heal), BENCH_SMALL (1000), BENCH_BIG (4), BENCH_BIG_MIB
#   (256), BENCH_IDLE_IMAGES (100000), BENCH_FSYNC (true), BENCH_CONCURRENCY (replicator copies at once, 4),
#   BENCH_DIRECT_READS (false: the stores' [store] direct_reads).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/deploy/lib.sh"
source "$root/tests/bench/lib.sh"
bin=$root/build/bin
for b in glint-api glint-store glint-replicator glint-auditor; do
  [ -x "$bin/$b" ] || { echo "build first: cmake --build build" >&2; exit 1; }
done
dir=${BENCH_DIR:-$root/build/bench-heal}
small=${BENCH_SMALL:-1000}
big=${BENCH_BIG:-4}
big_mib=${BENCH_BIG_MIB:-256}
idle_images=${BENCH_IDLE_IMAGES:-100000}
fsync=${BENCH_FSYNC:-true}
direct_reads=${BENCH_DIRECT_READS:-false}
secret=bench-secret
nodes=(node1 node2 node3)
MiB=$((1024 * 1024))

bench_fresh_dir "$dir"
pg_started=""
cleanup() {
  glint_stop_pid "$dir/run/api.pid"
  for n in "${nodes[@]}"; do glint_stop_pid "$dir/run/$n.pid"; done
  [ -n "$pg_started" ] && "$root/tests/support/pg.sh" stop "$dir/pg" >/dev/null 2>&1
  rm -rf "$dir/nodes" "$dir/src" "$dir/cp"
}
trap cleanup EXIT
declare -A fig=()
put() { fig[$1]=$2; echo "$1 $2 $3"; }
ratio() { python3 -c "print('%.3f' % ($2 / $3))" 2>/dev/null | { read -r v; echo "$1 $v ratio"; }; }

# ------------------------------------------------------------------------------ cluster
bench_pg "$dir" glint_heal
cat > "$dir/etc/schedules.conf" <<SCHED
[replicator]
interval = 1h
concurrency = ${BENCH_CONCURRENCY:-4}
[auditor-deep]
interval = 1h
SCHED
zone=0
for n in "${nodes[@]}"; do
  zone=$((zone + 1))
  cat > "$dir/etc/$n.conf" <<CONF
[DEFAULT]
node_name = $n
log_file = $dir/log/$n.log
log_level = warn
[database]
connection = $db_url
[auth]
shared_secret = $secret
[bus]
router_endpoint =
[store]
data_dir = $dir/nodes/$n
zone = zone$zone
port_file = $dir/run/$n.port
reserve = 0
heartbeat_interval = 1s
fsync = $fsync
direct_reads = $direct_reads
[worker]
schedule_defaults = $dir/etc/schedules.conf
lock_dir = $dir/run/locks
[auditor]
nice = 0
CONF
  glint_start_service "$bin/glint-store" "$dir/etc/$n.conf" "$n" "$dir/run/$n.pid" "$dir/log/$n.out" "$dir/run/$n.port"
  sed -e "s|^log_file = .*|log_file = $dir/log/$n-worker.log|" -e 's/^log_level = warn/log_level = info/' \
    "$dir/etc/$n.conf" > "$dir/etc/$n-worker.conf"
done
cat > "$dir/etc/api.conf" <<CONF
[DEFAULT]
log_file = $dir/log/api.log
log_level = warn
[database]
connection = $db_url
[auth]
shared_secret = $secret
[bus]
router_endpoint =
[cluster]
replicas = 3
[api]
bind_port = 0
port_file = $dir/run/api.port
image_size_cap = 8G
CONF
glint_start_service "$bin/glint-api" "$dir/etc/api.conf" glint-api "$dir/run/api.pid" "$dir/log/api.out" "$dir/run/api.port"
api=http://127.0.0.1:$(cat "$dir/run/api.port")

upload() {  # upload FILE -> id
  local id
  id=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"disk_format": "raw", "container_format": "bare"}' \
    "$api/v2/images" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' -T "$1" \
        "$api/v2/images/$id/file")" = 204 ] || { echo "upload failed" >&2; exit 1; }
  echo "$id"
}
blob_path() { echo "$dir/nodes/$1/objects/${2:0:2}/${2:2:2}/$2"; }
# pass_ms NODE ARGS...: runs one worker pass (--once) and prints the ms of its pass.done line.
pass_ms() {
  local n=$1 exe=$2
  shift 2
  "$bin/$exe" --config-file "$dir/etc/$n-worker.conf" --once "$@" >>"$dir/log/$n-worker.out" 2>&1
  grep 'event=pass.done' "$dir/log/$n-worker.log" | tail -1 | sed -n 's/.* ms=\([0-9]*\).*/\1/p'
}

# repair PHASE COUNT SIZE: COUNT images of SIZE bytes, node1's copies dropped, replicator vs cp.
repair() {
  local phase=$1 count=$2 size=$3 i id ids=() files=() bytes ms cp_ms
  mkdir -p "$dir/src"
  for ((i = 0; i < count; i++)); do
    head -c "$size" /dev/urandom > "$dir/src/$phase.$i"
    ids+=("$(upload "$dir/src/$phase.$i")")
    rm -f "$dir/src/$phase.$i"
  done
  bytes=$((count * size))
  # Baseline: cp of the very same blob files (node2's copies) on the same disk, then sync.
  for id in "${ids[@]}"; do files+=("$(blob_path node2 "$id")"); done
  rm -rf "$dir/cp" && mkdir -p "$dir/cp"
  drop_caches
  local t0
  t0=$(now_ms)
  cp "${files[@]}" "$dir/cp/"
  sync
  cp_ms=$(( $(now_ms) - t0 ))
  rm -rf "$dir/cp"
  # node1 loses its copies (files gone, rows missing, as the quick audit would record).
  for id in "${ids[@]}"; do rm -f "$(blob_path node1 "$id")" "$(blob_path node1 "$id").meta"; done
  printf '%s\n' "${ids[@]}" > "$dir/ids"
  psql_q "update replicas set state = 'missing' where node = 'node1' and image_id in ($(sed "s/.*/'&'/" "$dir/ids" | paste -sd,))" >/dev/null
  drop_caches
  ms=$(pass_ms node1 glint-replicator)
  [ "$(psql_q "select count(*) from replicas where node = 'node1' and state = 'ok'")" -ge "$count" ] ||
    log "$phase: not every copy was repaired"
  log "$phase: $count x $size bytes: replicator ${ms} ms, cp ${cp_ms} ms"
  put "${phase}_seconds" "$(python3 -c "print('%.2f' % ($ms / 1000))")" s
  put "${phase}_mbps" "$(python3 -c "print('%.1f' % ($bytes / ($ms / 1000) / 1e6))")" MB/s
  put "${phase}_cp_mbps" "$(python3 -c "print('%.1f' % ($bytes / ($cp_ms / 1000) / 1e6))")" MB/s
  ratio "${phase}_vs_cp" "$cp_ms" "$ms"
}

repair repair_small "$small" "$MiB"
repair repair_big "$big" $((big_mib * MiB))

# ------------------------------------------------------------------------------ deep audit
files=()
while IFS= read -r f; do files+=("$f"); done < <(find "$dir/nodes/node2/objects" -type f ! -name '*.meta')
bytes=$(cat "${files[@]}" | wc -c)
drop_caches
t0=$(now_ms)
cat "${files[@]}" > /dev/null
read_ms=$(( $(now_ms) - t0 ))
drop_caches
audit_ms=$(pass_ms node2 glint-auditor --deep)
log "deep audit of ${#files[@]} files, $bytes bytes: auditor ${audit_ms} ms, cat ${read_ms} ms"
put deep_audit_mbps "$(python3 -c "print('%.1f' % ($bytes / ($audit_ms / 1000) / 1e6))")" MB/s
put plain_read_mbps "$(python3 -c "print('%.1f' % ($bytes / ($read_ms / 1000) / 1e6))")" MB/s
ratio deep_audit_vs_read "$read_ms" "$audit_ms"

# ------------------------------------------------------------------------------ idle pass
psql_q "insert into images (id, name, status, size, disk_format, container_format)
        select gen_random_uuid(), 'idle', 'active', 1, 'raw', 'bare' from generate_series(1, $idle_images)" >/dev/null
psql_q "insert into replicas (image_id, node, state, size, digest, verified_at)
        select i.id, n.name, 'ok', 1, 'x', now() from images i cross join nodes n where i.name = 'idle'" >/dev/null
feed_ms=$(pass_ms node1 glint-replicator)
psql_q "insert into placement_generation (id, generation) values (1, 'bench')
        on conflict (id) do update set generation = excluded.generation || '+'" >/dev/null
full_ms=$(pass_ms node1 glint-replicator)
idle_ms=$(pass_ms node1 glint-replicator)
log "replicator over $((idle_images + small + big)) images: feed ${feed_ms} ms, full scan ${full_ms} ms, idle ${idle_ms} ms"
put feed_pass_ms "$feed_ms" ms
put full_scan_ms "$full_ms" ms
put idle_pass_ms "$idle_ms" ms
python3 -c "print('idle_pass_target_ratio %.3f ratio' % ($idle_ms / 1000))"
