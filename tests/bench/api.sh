#!/usr/bin/env bash
# glint-api against the real OpenStack Glance, both measured in this run on this machine through the
# same client code (each phase is one function taking a base URL; glint and Glance alternate run by
# run so a noisy moment hits both). Prints `name value unit` lines (per-run details go to stderr as
# `# ...`), then each glint/Glance ratio. A phase that fails prints `n/a` and the run goes on.
#
#   upload     POST /v2/images, then PUT /v2/images/ID/file (curl -T, BENCH_MIB MiB of random bytes)
#              -> MB/s (10^6 bytes) from curl's time_total; glint writes 3 replicas (quorum 2)
#   download   GET /v2/images/ID/file to /dev/null -> MB/s (bytes verified by md5 once per server)
#   create     BENCH_CREATES sequential POST /v2/images on one keep-alive connection -> p50 (and p99)
#   list       10,000 images (topped up directly in each server's database, see seed_*), then
#              `wrk -t1 -c4 -d10s --latency /v2/images?limit=25` -> req/s and p99
#   rss        peak RSS during each phase: glint-api; for Glance the largest of its processes
#              (parent + workers). Peak = max(VmRSS sampled every 20 ms, VmHWM after a reset via
#              /proc/PID/clear_refs at the start of the phase).
#   big        glint only: glint-api peak RSS during a 256 MiB and a BENCH_BIG_MIB upload.
#   hot        (glint with [cache]) the image downloaded again: glint from its cache entry, Glance
#              from its file in the page cache; nginx sendfile of glint's cache file as a floor
#   cold       the page cache dropped before each download: glint through a glint-api without a
#              cache that reads node1's copy in place ([api] local_store_node; part 5); cold_remote:
#              one without a cache reading from a store over HTTP; cold_miss: glint's cached API
#              node after its entry was removed (a miss, served while it fills the cache)
#   storm      BENCH_STORM_CLIENTS (50) concurrent downloads of a cold BENCH_STORM_MIB (256) MiB
#              image: glint's wall time vs that many of Glance's single cold downloads, the bytes
#              the stores sent / image size, glint-api peak RSS
#   r1         upload like for like: a second glint-api with replicas = 1, write_quorum = 1 over the
#              stores restarted with fsync = false, against Glance; and glint's 3-replica upload as
#              bytes written per second against `dd conv=fsync` of the same total bytes
#
# Targets (issue glint-api): upload >= 1.3x Glance while writing 3 replicas; download >= 0.8x Glance
# while verifying every block; create p50 <= 1 ms; list >= 30x Glance req/s with p99 <= 10 ms;
# glint-api RSS <= 48 MiB in every phase, also for the 256 MiB and 4 GiB uploads. Issue 13: hot
# >= 1.0x Glance and >= 0.9x nginx; cold >= 1.0x Glance; storm bytes/image <= 1.1, RSS <= 64 MiB;
# r1 upload >= 1.5x Glance; 3-replica bytes written >= 0.8x dd conv=fsync.
# Glance as measured on this 2-core machine: 340-370 MB/s upload, 2.3-3.3 GB/s download, 10-12 ms
# create, 60-90 list req/s with p99 ~180 ms, ~150 MiB per process.
#
# Durability is not equal: glance_store's filesystem driver (glance_store/_drivers/filesystem.py,
# FilesystemStore.add) open()s, write()s 64 KiB chunks and closes the file, with no fsync, so its
# 204 can precede the data reaching the disk. glint-store fsyncs every replica before it
# acknowledges (`[store] fsync = true`, the default, kept here; BENCH_FSYNC=false to see the cost).
#
# Knobs: BENCH_DIR (default build/bench-api), BENCH_MIB (1024), BENCH_RUNS (3, upload/download and
#   list runs per server), BENCH_CREATES (500), BENCH_LIST_IMAGES (10000), BENCH_WRK_DURATION (10s),
#   BENCH_COLD_RUNS (7), BENCH_BIG_MIB (4096; 0 skips the big upload, skipped too when the disk lacks room),
#   BENCH_FSYNC (true), BENCH_DIRECT_IO (true: stores bypass the page cache), BENCH_SKIP_GLANCE=1, GLANCE_SCRIPTS (dir of start-glance.sh and
#   stop-glance.sh, default /work/shared/reference), GLANCE_WORKERS (passed on; unset = Glance's
#   default, one worker per CPU).
# Needs: curl, python3, openssl, wrk (list phase), PostgreSQL server binaries (tests/support/pg.sh),
#   sqlite3 and Debian's glance-api (Glance half), built build/bin/glint-api and glint-store.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/deploy/lib.sh"
source "$root/tests/bench/lib.sh"
bin=$root/build/bin
for b in glint-api glint-store; do
  [ -x "$bin/$b" ] || { echo "build first: cmake --build build --target glint-api glint-store" >&2; exit 1; }
done
dir=${BENCH_DIR:-$root/build/bench-api}
mib=${BENCH_MIB:-1024}
runs=${BENCH_RUNS:-3}
creates=${BENCH_CREATES:-500}
list_images=${BENCH_LIST_IMAGES:-10000}
wrk_duration=${BENCH_WRK_DURATION:-10s}
big_mib=${BENCH_BIG_MIB:-4096}
fsync=${BENCH_FSYNC:-true}
direct_io=${BENCH_DIRECT_IO:-true}
glance_scripts=${GLANCE_SCRIPTS:-/work/shared/reference}
replicas=3
secret=bench-secret
nodes=(node1 node2 node3)

# Leftovers of an interrupted run in the same BENCH_DIR are stopped (by their recorded pids) first.
[ -s "$dir/glance/glance-api.pid" ] && [ -x "$glance_scripts/stop-glance.sh" ] && "$glance_scripts/stop-glance.sh" "$dir/glance" >/dev/null
bench_fresh_dir "$dir"
src=$dir/src

# ------------------------------------------------------------------------------------ cleanup
declare -A sampler=()
pg_started="" glance_started=""
cleanup() {
  local k
  for k in "${!sampler[@]}"; do kill -TERM "${sampler[$k]}" 2>/dev/null || true; done
  glint_stop_pid "$dir/run/api.pid"
  glint_stop_pid "$dir/run/api1.pid"
  glint_stop_pid "$dir/run/api2.pid"
  for n in "${nodes[@]}"; do glint_stop_pid "$dir/run/$n.pid"; done
  [ -n "$glance_started" ] && "$glance_scripts/stop-glance.sh" "$dir/glance" >/dev/null 2>&1
  [ -n "$pg_started" ] && "$root/tests/support/pg.sh" stop "$dir/pg" >/dev/null 2>&1
  # The bulky parts go; configs and logs stay for a look afterwards.
  rm -rf "$dir/nodes" "$dir/glance/images" "$dir/glance/staging" "$src" "$dir"/big.* "$dir"/rss.* "$dir/put.body"
}
trap cleanup EXIT

# ------------------------------------------------------------------------------------ helpers
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { python3 -c 'import sys,statistics; print("%.2f" % statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
mbps() { python3 -c "print('%.1f' % ($1 / $2 / 1e6))"; }
mib_of_kib() { python3 -c "print('%.1f' % ($1 / 1024))"; }

declare -A res=()
order=()
put() {  # put NAME VALUE UNIT: records a figure and prints it
  res[$1]=$2
  order+=("$1")
  echo "$1 $2 $3"
}
ratio() {  # ratio NAME A B: A/B, n/a unless both are numbers
  local a=${res[$2]:-n/a} b=${res[$3]:-n/a} r=n/a
  if [ "$a" != n/a ] && [ "$b" != n/a ]; then r=$(python3 -c "print('%.3f' % ($a / $b))"); fi
  echo "$1 $r ratio"
}
# summary NAME UNIT VALUES...: the median, or n/a if any run failed (or none ran)
summary() {
  local name=$1 unit=$2
  shift 2
  local v
  for v in "$@"; do [ "$v" != n/a ] || { put "$name" n/a "$unit"; return; }; done
  if [ $# -eq 0 ]; then put "$name" n/a "$unit"; else put "$name" "$(median "$@")" "$unit"; fi
}
# peak RSS of a phase: rss_begin KEY PID..., then rss_end KEY sets rss[KEY] (MiB, or n/a) and
# rss_at_start[KEY] (the RSS the phase started from: a rising start means memory kept between phases).
cat > "$dir/rss.py" <<'PY'
import os, signal, sys, time
out, roots = sys.argv[1], {int(p) for p in sys.argv[2:]}
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
def tree():  # the roots and all their descendants (Glance's workers)
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    kids.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    seen, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(kids.get(p, []))
    return seen
def kib(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
pids = tree()
for p in pids:  # "5" resets VmHWM to the current RSS (Linux >= 4.0), so VmHWM becomes this phase's peak
    try:
        with open("/proc/%d/clear_refs" % p, "w") as f:
            f.write("5")
    except OSError:
        pass
start = max([kib(p, "VmRSS:") for p in pids] or [0])
peak, n = {}, 0
open(out + ".ready", "w").close()
while not stop:
    if n % 50 == 0:
        pids |= tree()
    for p in pids:
        peak[p] = max(peak.get(p, 0), kib(p, "VmRSS:"))
    n += 1
    time.sleep(0.02)  # sampling period, not synchronisation
for p in pids:
    peak[p] = max(peak.get(p, 0), kib(p, "VmHWM:"))
with open(out, "w") as f:
    f.write("%d %d\n" % (max(peak.values() or [0]), start))
PY
declare -A rss=() rss_at_start=()
rss_begin() {
  local key=$1
  shift
  rm -f "$dir/rss.$key" "$dir/rss.$key.ready"
  python3 "$dir/rss.py" "$dir/rss.$key" "$@" &
  sampler[$key]=$!
  glint_wait_for 10 test -e "$dir/rss.$key.ready" || log "RSS sampler $key did not start"
}
rss_end() {
  local key=$1
  kill -TERM "${sampler[$key]}" 2>/dev/null || true
  wait "${sampler[$key]}" 2>/dev/null || true
  unset "sampler[$key]"
  local peak=0 start=0
  [ -s "$dir/rss.$key" ] && read -r peak start < "$dir/rss.$key"
  if [ "$peak" != 0 ]; then
    rss[$key]=$(mib_of_kib "$peak") rss_at_start[$key]=$(mib_of_kib "$start")
  else
    rss[$key]=n/a rss_at_start[$key]=n/a
  fi
}
if_ok() {  # if_ok FIGURE CMD...: CMD's output, or n/a if FIGURE is n/a
  if [ "${res[$1]:-n/a}" = n/a ]; then echo n/a; else "${@:2}"; fi
}
max_of() { printf '%s\n' "$@" | grep -vx 'n/a' | sort -g | tail -n1 | grep . || echo n/a; }

# ------------------------------------------------------------------------------------ setup
log "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
need_mib=$((mib * (replicas + 2) + 1024))  # source + 3 glint replicas + Glance's copy + margin
avail_mib=$(( $(df --output=avail -B1M "$dir" | tail -n1) ))
[ "$avail_mib" -ge "$need_mib" ] || { echo "need ${need_mib} MiB free in $dir, have ${avail_mib}" >&2; exit 1; }
log "generating ${mib} MiB of random bytes"
head -c $((mib << 20)) /dev/urandom > "$src"
bytes=$(stat -c %s "$src")
src_md5=$(md5sum < "$src" | cut -d' ' -f1)

servers=(glint)
declare -A base=() pids=()

# glint: its own PostgreSQL, 3 stores in 3 zones, glint-api.
bench_pg "$dir" glint_bench
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
[store]
data_dir = $dir/nodes/$n
zone = zone$zone
port_file = $dir/run/$n.port
reserve = 0
heartbeat_interval = 1s
fsync = $fsync
direct_io = $direct_io
CONF
  glint_start_service "$bin/glint-store" "$dir/etc/$n.conf" "$n" "$dir/run/$n.pid" "$dir/log/$n.out" "$dir/run/$n.port"
done
nodes_up() { [ "$(psql_q "select count(*) from nodes where state='up'")" = "${#nodes[@]}" ]; }
glint_wait_for 30 nodes_up || { echo "the ${#nodes[@]} stores did not all come up in the nodes table" >&2; exit 1; }

# Options the data path adds ([cluster], image_size_cap); written only if this glint-api knows them
# (unknown options stop it), so the script also runs against a build from before the data path.
api_extra=""
sample=$("$bin/glint-api" --print-sample-config)
grep -q '^#replicas =' <<<"$sample" && api_extra+=$'[cluster]\nreplicas = 3\nwrite_quorum = 2\n'
api_cap=""
if grep -q '^#image_size_cap =' <<<"$sample"; then api_cap=$'image_size_cap = 8G\n'; else log "glint-api has no image_size_cap option yet"; fi
[ -n "$api_extra" ] || log "glint-api has no [cluster] options yet"
api_cache=""
grep -q '^\[cache\]' <<<"$sample" && api_cache=$'[cache]\ndir = '"$dir/cache"$'\nmax_size = 8G\n'
cat > "$dir/etc/api.conf" <<CONF
[DEFAULT]
log_file = $dir/log/api.log
log_level = warn
[database]
connection = $db_url
[auth]
shared_secret = $secret
${api_extra}[api]
bind_port = 0
port_file = $dir/run/api.port
${api_cap}
${api_cache}
CONF
glint_start_service "$bin/glint-api" "$dir/etc/api.conf" glint-api "$dir/run/api.pid" "$dir/log/api.out" "$dir/run/api.port"
base[glint]=http://127.0.0.1:$(cat "$dir/run/api.port")
pids[glint]=$(cat "$dir/run/api.pid")
log "glint-api pid ${pids[glint]} at ${base[glint]}, stores: $(psql_q "select string_agg(name || '@' || address || '/' || zone, ' ' order by name) from nodes")"
# More glint-api processes over the same stores, without a cache. glint_r1 reads over HTTP from the
# stores (the cold download from a remote store) and takes the like-for-like upload (replicas = 1,
# write_quorum = 1). glint_local reads node1's copies in place ([api] local_store_node: the API on
# a storage node, as Glance's API reads its own disk): the cold download of part 5.
api_variant() {  # api_variant NAME KEY SED-SCRIPT: starts one from api.conf edited by SED-SCRIPT; sets base[KEY]
  local name=$1 key=$2
  sed -e "s#$dir/run/api.port#$dir/run/$name.port#" -e "s#$dir/log/api.log#$dir/log/$name.log#" \
      -e '/^\[cache\]/,$d' -e "$3" "$dir/etc/api.conf" > "$dir/etc/$name.conf"
  glint_start_service "$bin/glint-api" "$dir/etc/$name.conf" "glint-api-$name" "$dir/run/$name.pid" \
    "$dir/log/$name.out" "$dir/run/$name.port"
  base[$key]=http://127.0.0.1:$(cat "$dir/run/$name.port")
}
if [ -n "$api_extra" ]; then
  api_variant api1 glint_r1 's/^replicas = .*/replicas = 1/; s/^write_quorum = .*/write_quorum = 1/'
  if grep -q '^#local_store_node =' <<<"$sample"; then
    api_variant api2 glint_local "/^\[api\]/a local_store_node = node1\nlocal_store_dir = $dir/nodes/node1"
  fi
fi

# Glance: Debian's glance-api through the reference scripts (no Keystone, SQLite, file store).
if [ "${BENCH_SKIP_GLANCE:-0}" = 1 ]; then
  log "Glance skipped (BENCH_SKIP_GLANCE=1)"
elif ! command -v glance-api >/dev/null || ! command -v sqlite3 >/dev/null || [ ! -x "$glance_scripts/start-glance.sh" ]; then
  log "Glance skipped: needs glance-api and sqlite3 (apt-get install glance-api sqlite3) and $glance_scripts/start-glance.sh"
else
  gport=$(free_port)
  glance_started=1
  if gpid=$(GLANCE_WORKDIR=$dir/glance GLANCE_PORT=$gport GLANCE_FRESH=1 "$glance_scripts/start-glance.sh"); then
    servers+=(glance)
    base[glance]=http://127.0.0.1:$gport
    pids[glance]=$gpid
    log "glance-api pid $gpid (+ workers) at ${base[glance]}"
  else
    log "Glance did not start (see $dir/glance/log); measuring glint only"
  fi
fi

# ------------------------------------------------------------------------------------ client side
create_image() {  # create_image BASE NAME -> id
  curl -sSf -X POST -H 'Content-Type: application/json' "$1/v2/images" \
    -d "{\"name\": \"$2\", \"disk_format\": \"raw\", \"container_format\": \"bare\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
delete_image() { curl -s -X DELETE -o /dev/null "$1/v2/images/$2" || true; }
image_field() {  # image_field BASE ID FIELD
  curl -sSf "$1/v2/images/$2" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$3'))"
}

# upload BASE FILE NAME: sets up_id and up_mbs (n/a and a message on failure).
upload() {
  local b=$1 file=$2 size r code t n
  size=$(stat -c %s "$file")
  up_mbs=n/a
  up_id=$(create_image "$b" "$3") || { log "create for upload failed"; up_id=""; return 1; }
  r=$(curl -sS -X PUT -H 'Content-Type: application/octet-stream' -H 'Expect:' -T "$file" \
        -o "$dir/put.body" -w '%{http_code} %{time_total} %{size_upload}' "$b/v2/images/$up_id/file") || r="000 0 0"
  read -r code t n <<<"$r"
  if [ "$code" != 204 ] || [ "$n" != "$size" ]; then
    log "upload: HTTP $code after $n of $size bytes: $(head -c 160 "$dir/put.body" | tr -s '\n' ' ')"
    return 1
  fi
  [ "$(image_field "$b" "$up_id" status)" = active ] || { log "upload: image not active afterwards"; return 1; }
  [ "$(image_field "$b" "$up_id" size)" = "$size" ] || { log "upload: image size is not $size"; return 1; }
  up_mbs=$(mbps "$n" "$t")
}

# download BASE ID: sets down_mbs.
download() {
  local r code t n
  down_mbs=n/a
  r=$(curl -sS -o /dev/null -w '%{http_code} %{time_total} %{size_download}' "$1/v2/images/$2/file") || r="000 0 0"
  read -r code t n <<<"$r"
  if [ "$code" != 200 ] || [ "$n" != "$bytes" ]; then log "download: HTTP $code, $n of $bytes bytes"; return 1; fi
  down_mbs=$(mbps "$n" "$t")
}

# create_latency BASE: BENCH_CREATES sequential creates after 20 unmeasured ones; sets create_p50/p99.
create_latency() {
  local out
  create_p50=n/a create_p99=n/a
  out=$(python3 - "$1" "$creates" <<'PY'
import http.client, json, statistics, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
n = int(sys.argv[2])
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
body = json.dumps({"name": "bench-create", "disk_format": "raw", "container_format": "bare"})
hdr = {"Content-Type": "application/json"}
lat = []
for i in range(20 + n):
    t0 = time.perf_counter()
    conn.request("POST", "/v2/images", body, hdr)
    r = conn.getresponse()
    r.read()
    t1 = time.perf_counter()
    if r.status != 201:
        sys.exit("POST /v2/images answered %d" % r.status)
    if i >= 20:
        lat.append((t1 - t0) * 1000)
lat.sort()
print("%.3f %.3f" % (statistics.median(lat), lat[min(len(lat) - 1, int(len(lat) * 0.99))]))
PY
  ) || { log "create: failed"; return 1; }
  read -r create_p50 create_p99 <<<"$out"
}

count_images() {  # count_images BASE: pages through the whole list
  python3 - "$1" <<'PY'
import json, sys, urllib.request
base, url, n = sys.argv[1], "/v2/images?limit=1000", 0
while url:
    d = json.load(urllib.request.urlopen(base + url, timeout=120))
    n += len(d["images"])
    url = d.get("next")
print(n)
PY
}

# Seeding 10,000 images through Glance's API would take ~2.5 min (60-80 creates/s); rows written
# straight into each server's database look exactly like the ones its API writes for a create
# (queued, shared, raw/bare, no owner: noauth), with distinct created_at seconds in the past.
seed_glint() {  # seed_glint N
  psql_q "insert into images (id, name, status, visibility, protected, os_hidden, owner, disk_format,
            container_format, min_disk, min_ram, created_at, updated_at)
          select gen_random_uuid(), 'bench-list-' || g, 'queued', 'shared', false, false, null, 'raw', 'bare',
            0, 0, now() - g * interval '1 second', now() - g * interval '1 second'
          from generate_series(1, $1) g" >/dev/null
  # autovacuum would analyze after a bulk insert this size soon anyway; do it now, not mid-wrk.
  psql_q "analyze images" >/dev/null
}
seed_glance() {  # seed_glance N (SQLite, as glance-manage created it; Glance writes UTC, 6-digit fractions)
  sqlite3 "$dir/glance/glance.sqlite" <<SQL
.timeout 30000
with recursive g(i) as (select 1 union all select i + 1 from g where i < $1)
insert into images (id, name, size, status, created_at, updated_at, deleted_at, deleted, disk_format,
  container_format, checksum, owner, min_disk, min_ram, protected, virtual_size, visibility, os_hidden)
select lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2)
         || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(lower(hex(randomblob(2))), 2) || '-'
         || lower(hex(randomblob(6))),
       'bench-list-' || i, null, 'queued', strftime('%Y-%m-%d %H:%M:%S.000000', 'now', '-' || i || ' seconds'),
       strftime('%Y-%m-%d %H:%M:%S.000000', 'now', '-' || i || ' seconds'), null, 0, 'raw', 'bare', null, null,
       0, 0, 0, null, 'shared', 0
from g;
SQL
}

# list_run BASE: one wrk run; sets list_rps and list_p99.
list_run() {
  local out
  list_rps=n/a list_p99=n/a
  out=$(wrk -t1 -c4 -d"$wrk_duration" --latency "$1/v2/images?limit=25" 2>&1) || { log "wrk failed: $out"; return 1; }
  if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then log "list: errors: $(grep -E 'Non-2xx|Socket errors' <<<"$out")"; return 1; fi
  read -r list_rps list_p99 < <(python3 -c '
import re, sys
s = sys.stdin.read()
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)$", v)
    x = float(m.group(1))
    return x / 1000 if m.group(2) == "us" else x * 1000 if m.group(2) == "s" else x
p99 = re.search(r"^\s+99%\s+(\S+)", s, re.M).group(1)
print(re.search(r"Requests/sec:\s+([\d.]+)", s).group(1), "%.2f" % ms(p99))' <<<"$out") || true
  if [ -z "$list_rps" ] || [ -z "$list_p99" ]; then log "list: cannot parse wrk's output: $out"; list_rps=n/a list_p99=n/a; return 1; fi
}

# ------------------------------------------------------------------------------------ upload / download
declare -A ups=() downs=() rss_up=() rss_down=() broken=() verified=()
for i in $(seq "$runs"); do
  for s in "${servers[@]}"; do
    [ -n "${broken[$s]:-}" ] && continue  # a server that failed once is not retried
    b=${base[$s]}
    sync  # the previous run's dirty pages are not this run's to write back
    rss_begin "up-$s" "${pids[$s]}"
    upload "$b" "$src" "bench-upload-$i" || true
    rss_end "up-$s"
    ups[$s]+="$up_mbs "
    if [ "$up_mbs" = n/a ]; then  # no RSS figure from a failed transfer
      downs[$s]+="n/a " broken[$s]=1
      [ -n "$up_id" ] && delete_image "$b" "$up_id"
      continue
    fi
    rss_up[$s]+="${rss[up-$s]} "
    rss_begin "down-$s" "${pids[$s]}"
    download "$b" "$up_id" || true
    rss_end "down-$s"
    downs[$s]+="$down_mbs "
    rss_down[$s]+="${rss[down-$s]} "
    log "$s run $i: upload $up_mbs MB/s (rss ${rss_at_start[up-$s]} -> ${rss[up-$s]} MiB)," \
      "download $down_mbs MB/s (rss ${rss_at_start[down-$s]} -> ${rss[down-$s]} MiB)"
    if [ -z "${verified[$s]:-}" ] && [ "$down_mbs" != n/a ]; then  # once per server, not timed
      sum=$(image_field "$b" "$up_id" checksum) || sum=n/a
      got=$(curl -sS "$b/v2/images/$up_id/file" | md5sum | cut -d' ' -f1) || got=n/a
      if [ "$sum" != "$src_md5" ] || [ "$got" != "$src_md5" ]; then
        log "$s: image checksum $sum, md5 of the download $got, of the upload $src_md5: MISMATCH"
        ups[$s]+="n/a " downs[$s]+="n/a " broken[$s]=1
      fi
      verified[$s]=1
    fi
    delete_image "$b" "$up_id"
  done
done
for s in "${servers[@]}"; do
  # shellcheck disable=SC2086  # the lists are space-separated on purpose
  summary "${s}_upload_${mib}MiB" MB/s ${ups[$s]}
  # shellcheck disable=SC2086
  summary "${s}_download_${mib}MiB" MB/s ${downs[$s]}
  # The RSS of a phase that failed says nothing: n/a with it.
  # shellcheck disable=SC2086
  put "${s}_rss_peak_upload" "$(if_ok "${s}_upload_${mib}MiB" max_of ${rss_up[$s]:-})" MiB
  # shellcheck disable=SC2086
  put "${s}_rss_peak_download" "$(if_ok "${s}_download_${mib}MiB" max_of ${rss_down[$s]:-})" MiB
done

# ------------------------------------------------------------------------------------ cache (issue 13)
# hot:   the image downloaded again (glint: from its cache, filled by the upload; Glance:
#        from its file in the page cache); also nginx sendfile of glint's cache file.
# cold:  the page cache dropped before each run (glint: its cache entry removed too).
# storm: BENCH_STORM_CLIENTS (50) concurrent downloads of a cold BENCH_STORM_MIB (256) MiB image:
#        glint's wall time against that many single cold downloads by Glance, the bytes the stores
#        sent over the image size, and glint-api's peak RSS.
storm_mib=${BENCH_STORM_MIB:-256}
cold_runs=${BENCH_COLD_RUNS:-7}
storm_clients=${BENCH_STORM_CLIENTS:-50}
stores_sent() {  # bytes sent by the three stores so far
  local t=0 n v
  for n in "${nodes[@]}"; do
    v=$(curl -sf "http://127.0.0.1:$(cat "$dir/run/$n.port")/metrics" | awk '/^glint_store_sent_bytes_total/ {print $2}')
    t=$(python3 -c "print(int($t + float('${v:-0}')))")
  done
  echo "$t"
}
uncache() {  # uncache SERVER ID: glint forgets its cached copy (waits until it is gone)
  [ "$1" = glint ] || return 0
  curl -s -o /dev/null -X DELETE "${base[glint]}/v2/cache/$2"
  glint_wait_for 10 bash -c "[ ! -e '$dir/cache/objects/${2:0:2}/${2:2:2}/$2' ]"
}
declare -A hot=() cold=() cache_id=()
if [ -n "$api_cache" ]; then
  for s in "${servers[@]}"; do
    upload "${base[$s]}" "$src" "bench-cache" || continue
    cache_id[$s]=$up_id
    download "${base[$s]}" "$up_id" || true  # glint: from the copy its upload left in the cache
    [ "$s" = glint ] && glint_wait_for 30 test -e "$dir/cache/objects/${up_id:0:2}/${up_id:2:2}/$up_id"
  done
  for i in $(seq "$runs"); do
    for s in "${!cache_id[@]}"; do
      download "${base[$s]}" "${cache_id[$s]}" || true
      hot[$s]+="$down_mbs "
    done
  done
  nginx_hot=""
  if command -v nginx >/dev/null && [ -n "${cache_id[glint]:-}" ]; then
    nport=$(free_port)
    bench_nginx "$dir/nginx" "$dir/cache/objects" "$nport"
    id=${cache_id[glint]}
    for i in $(seq "$runs"); do
      r=$(curl -sS -o /dev/null -w '%{http_code} %{time_total} %{size_download}' "http://127.0.0.1:$nport/${id:0:2}/${id:2:2}/$id")
      read -r code t n <<<"$r"
      nginx_hot+="$(mbps "$n" "$t") "
    done
    kill "$nginx_pid" 2>/dev/null; wait "$nginx_pid" 2>/dev/null || true
  fi
  cold_miss="" cold_remote=""
  # Cold reads here vary 2-3x from one run to the next (the VM's disk): more runs, alternated.
  for i in $(seq "$cold_runs"); do
    for s in "${!cache_id[@]}"; do
      if [ "$s" = glint ]; then  # a miss: served while it fills the cache
        uncache glint "${cache_id[glint]}"
        drop_caches
        download "${base[glint]}" "${cache_id[glint]}" || true
        cold_miss+="$down_mbs "
        log "cold run $i: glint miss $down_mbs MB/s"
        if [ -n "${base[glint_r1]:-}" ]; then  # without a cache, from a store over HTTP
          drop_caches
          download "${base[glint_r1]}" "${cache_id[glint]}" || true
          cold_remote+="$down_mbs "
          log "cold run $i: glint remote $down_mbs MB/s"
        fi
        [ -n "${base[glint_local]:-}" ] || { cold[glint]+="n/a "; continue; }
      fi
      drop_caches  # glint: without a cache, node1's copy read in place (part 5)
      download "${base[${s/glint/glint_local}]}" "${cache_id[$s]}" || true
      cold[$s]+="$down_mbs "
      log "cold run $i: $s $down_mbs MB/s"
    done
  done
  # shellcheck disable=SC2086
  [ -n "$cold_miss" ] && summary "glint_cold_miss_download_${mib}MiB" MB/s $cold_miss
  # shellcheck disable=SC2086
  [ -n "$cold_remote" ] && summary "glint_cold_remote_download_${mib}MiB" MB/s $cold_remote
  for s in "${!cache_id[@]}"; do
    # shellcheck disable=SC2086
    summary "${s}_hot_download_${mib}MiB" MB/s ${hot[$s]}
    # shellcheck disable=SC2086
    summary "${s}_cold_download_${mib}MiB" MB/s ${cold[$s]}
    delete_image "${base[$s]}" "${cache_id[$s]}"
  done
  # shellcheck disable=SC2086
  [ -n "$nginx_hot" ] && summary "nginx_sendfile_${mib}MiB" MB/s $nginx_hot

  head -c $((storm_mib << 20)) "$src" > "$dir/storm.src"
  storm_bytes=$(stat -c %s "$dir/storm.src")
  for s in "${servers[@]}"; do
    bytes_saved=$bytes; bytes=$storm_bytes
    upload "${base[$s]}" "$dir/storm.src" "bench-storm" || { bytes=$bytes_saved; continue; }
    id=$up_id
    [ "$s" = glint ] && uncache glint "$id"  # cold: not the copy its upload left in the cache
    drop_caches
    if [ "$s" = glint ]; then
      sent0=$(stores_sent)
      rss_begin storm "${pids[glint]}"
      t0=$(now_ms)
      spids=()
      for c in $(seq "$storm_clients"); do
        curl -s -o /dev/null -w '%{http_code} %{size_download}\n' "${base[glint]}/v2/images/$id/file" > "$dir/storm.$c" & spids+=($!)
      done
      wait "${spids[@]}"
      t1=$(now_ms)
      rss_end storm
      sent1=$(stores_sent)
      full=$(cat "$dir"/storm.* 2>/dev/null | grep -c "^200 $storm_bytes\$" || true)
      log "glint storm: $full of $storm_clients complete in $((t1 - t0)) ms, stores sent $((sent1 - sent0)) bytes"
      if [ "$full" = "$storm_clients" ]; then
        put glint_storm_wall "$((t1 - t0))" ms
        put glint_storm_store_bytes_per_image "$(python3 -c "print(f'{($sent1 - $sent0) / $storm_bytes:.3f}')")" ratio
        put glint_rss_peak_storm "${rss[storm]}" MiB
      else
        put glint_storm_wall n/a ms
      fi
      rm -f "$dir"/storm.[0-9]*
    else
      download "${base[$s]}" "$id" || true
      [ "$down_mbs" != n/a ] && put "${s}_storm_single_x${storm_clients}" \
        "$(python3 -c "print(int($storm_clients * $storm_bytes / ($down_mbs * 1e6) * 1000))")" ms
    fi
    bytes=$bytes_saved
    delete_image "${base[$s]}" "$id"
  done
  rm -f "$dir/storm.src"
fi

# ------------------------------------------------------------------------------------ create
for s in "${servers[@]}"; do
  rss_begin "create-$s" "${pids[$s]}"
  create_latency "${base[$s]}" || true
  rss_end "create-$s"
  log "$s create: rss ${rss_at_start[create-$s]} -> ${rss[create-$s]} MiB"
  put "${s}_create_p50" "$create_p50" ms
  put "${s}_create_p99" "$create_p99" ms
  put "${s}_rss_peak_create" "$(if_ok "${s}_create_p50" echo "${rss[create-$s]}")" MiB
done

# ------------------------------------------------------------------------------------ list
declare -A rps=() p99s=() rss_list=()
if ! command -v wrk >/dev/null; then
  log "list skipped: wrk is not installed (apt-get install wrk)"
  for s in "${servers[@]}"; do rps[$s]="n/a" p99s[$s]="n/a"; done
else
  for s in "${servers[@]}"; do
    have=$(count_images "${base[$s]}") || have=n/a
    if [ "$have" = n/a ]; then log "$s: cannot count images"; broken[list-$s]=1; continue; fi
    [ "$have" -lt "$list_images" ] && { "seed_$s" $((list_images - have)) || log "$s: seeding failed"; }
    have=$(count_images "${base[$s]}") || have=n/a
    log "$s: $have images listed"
    [ "$have" = "$list_images" ] || { log "$s: expected $list_images images, the API lists $have"; broken[list-$s]=1; }
  done
  for i in $(seq "$runs"); do
    for s in "${servers[@]}"; do
      if [ -n "${broken[list-$s]:-}" ]; then rps[$s]+="n/a " p99s[$s]+="n/a "; continue; fi
      rss_begin "list-$s" "${pids[$s]}"
      list_run "${base[$s]}" || broken[list-$s]=1
      rss_end "list-$s"
      rps[$s]+="$list_rps " p99s[$s]+="$list_p99 " rss_list[$s]+="${rss[list-$s]} "
      log "$s list run $i: $list_rps req/s, p99 $list_p99 ms, rss ${rss_at_start[list-$s]} -> ${rss[list-$s]} MiB"
    done
  done
fi
for s in "${servers[@]}"; do
  # shellcheck disable=SC2086
  summary "${s}_list25_at_${list_images}_rps" req/s ${rps[$s]}
  # shellcheck disable=SC2086
  summary "${s}_list25_at_${list_images}_p99" ms ${p99s[$s]}
  # shellcheck disable=SC2086
  put "${s}_rss_peak_list" "$(if_ok "${s}_list25_at_${list_images}_rps" max_of ${rss_list[$s]:-})" MiB
done

# ------------------------------------------------------------------------------------ big uploads (glint)
make_src() {  # make_src MIB FILE: the first MIB MiB of the random source, repeated as needed
  local want=$(($1 << 20)) j
  for ((j = 0; j < ($1 + mib - 1) / mib; j++)); do cat "$src"; done | head -c "$want" > "$2" || true
  [ "$(stat -c %s "$2")" = "$want" ]
}
big_sizes=(256)
[ "$big_mib" -gt 0 ] && [ "$big_mib" != 256 ] && big_sizes+=("$big_mib")
for m in "${big_sizes[@]}"; do
  name=glint_rss_peak_upload_${m}MiB
  avail_mib=$(( $(df --output=avail -B1M "$dir" | tail -n1) ))
  if [ "$avail_mib" -lt $((m * (replicas + 1) + 1024)) ]; then
    log "upload of $m MiB skipped: needs $((m * (replicas + 1) + 1024)) MiB free in $dir, have $avail_mib"
    put "$name" n/a MiB
    continue
  fi
  make_src "$m" "$dir/big.$m" || { put "$name" n/a MiB; continue; }
  sync
  rss_begin "big-$m" "${pids[glint]}"
  upload "${base[glint]}" "$dir/big.$m" "bench-big-$m" || true
  rss_end "big-$m"
  log "glint upload of $m MiB: $up_mbs MB/s, rss ${rss_at_start[big-$m]} -> ${rss[big-$m]} MiB"
  [ -n "$up_id" ] && delete_image "${base[glint]}" "$up_id"
  rm -f "$dir/big.$m"
  if [ "$up_mbs" = n/a ]; then put "$name" n/a MiB; else put "$name" "${rss[big-$m]}" MiB; fi
done

# ------------------------------------------------------------------------------------ upload like for like (issue 13)
# The upload above compares 3 fsynced copies with Glance's one unsynced copy, so on one disk it
# mostly measures the disk. Two fairer figures:
#   r1:   the stores restarted (same ports) with `[store] fsync = false` and a second glint-api with
#         replicas = 1, write_quorum = 1 and no cache (Glance has none), against Glance, run by run;
#   disk: glint's 3-replica upload as bytes written per second (MB/s x replicas) against
#         `dd conv=fsync` of the same total bytes into the same directory.
declare -A ups_r1=()
if [ -n "${base[glint_r1]:-}" ]; then
  sync
  t0=$(now_ms)
  dd if=/dev/zero of="$dir/nodes/dd.out" bs=1M count=$((mib * replicas)) conv=fsync status=none || true
  t1=$(now_ms)
  dd_bytes=$(stat -c %s "$dir/nodes/dd.out" 2>/dev/null || echo 0)
  rm -f "$dir/nodes/dd.out"
  if [ "$dd_bytes" = $(((mib * replicas) << 20)) ] && [ "$t1" -gt "$t0" ]; then
    put "dd_fsync_$((mib * replicas))MiB" "$(python3 -c "print('%.1f' % ($dd_bytes / (($t1 - $t0) / 1000) / 1e6))")" MB/s
  else
    put "dd_fsync_$((mib * replicas))MiB" n/a MB/s
  fi
  put glint_upload_bytes_written "$(if_ok "glint_upload_${mib}MiB" python3 -c "print('%.1f' % (${res[glint_upload_${mib}MiB]} * $replicas))")" MB/s

  for n in "${nodes[@]}"; do  # same ports: the nodes table keeps its addresses
    port=$(cat "$dir/run/$n.port")
    glint_stop_pid "$dir/run/$n.pid"
    sed -i 's/^fsync = .*/fsync = false/' "$dir/etc/$n.conf"
    grep -q '^bind_port' "$dir/etc/$n.conf" || echo "bind_port = $port" >> "$dir/etc/$n.conf"
    glint_start_service "$bin/glint-store" "$dir/etc/$n.conf" "$n" "$dir/run/$n.pid" "$dir/log/$n.out" "$dir/run/$n.port"
  done
  glint_wait_for 30 nodes_up || log "r1: the stores did not all come back up"
  r1_servers=(glint_r1)
  [ -n "${base[glance]:-}" ] && [ -z "${broken[glance]:-}" ] && r1_servers+=(glance)
  for i in $(seq "$runs"); do
    for s in "${r1_servers[@]}"; do
      sync
      upload "${base[$s]}" "$src" "bench-upload-r1-$i" || true
      ups_r1[$s]+="$up_mbs "
      log "$s like-for-like run $i: upload $up_mbs MB/s"
      [ -n "$up_id" ] && delete_image "${base[$s]}" "$up_id"
    done
  done
  # shellcheck disable=SC2086
  summary "glint_r1_nofsync_upload_${mib}MiB" MB/s ${ups_r1[glint_r1]}
  # shellcheck disable=SC2086
  [ -n "${ups_r1[glance]:-}" ] && summary "glance_upload_again_${mib}MiB" MB/s ${ups_r1[glance]}
fi

# ------------------------------------------------------------------------------------ ratios
if [ -n "${base[glance]:-}" ]; then
  ratio upload_glint_vs_glance "glint_upload_${mib}MiB" "glance_upload_${mib}MiB"
  ratio download_glint_vs_glance "glint_download_${mib}MiB" "glance_download_${mib}MiB"
  ratio create_p50_glint_vs_glance glint_create_p50 glance_create_p50
  ratio list_rps_glint_vs_glance "glint_list25_at_${list_images}_rps" "glance_list25_at_${list_images}_rps"
  ratio list_p99_glint_vs_glance "glint_list25_at_${list_images}_p99" "glance_list25_at_${list_images}_p99"
  for p in upload download create list; do ratio "rss_${p}_glint_vs_glance" "glint_rss_peak_$p" "glance_rss_peak_$p"; done
  ratio hot_download_glint_vs_glance "glint_hot_download_${mib}MiB" "glance_hot_download_${mib}MiB"
  ratio cold_download_glint_vs_glance "glint_cold_download_${mib}MiB" "glance_cold_download_${mib}MiB"
  ratio cold_remote_download_glint_vs_glance "glint_cold_remote_download_${mib}MiB" "glance_cold_download_${mib}MiB"
  ratio cold_miss_download_glint_vs_glance "glint_cold_miss_download_${mib}MiB" "glance_cold_download_${mib}MiB"
  ratio storm_wall_glint_vs_glance_x${storm_clients} glint_storm_wall "glance_storm_single_x${storm_clients}"
  ratio upload_r1_nofsync_glint_vs_glance "glint_r1_nofsync_upload_${mib}MiB" "glance_upload_again_${mib}MiB"
fi
ratio upload_bytes_written_glint_vs_dd_fsync glint_upload_bytes_written "dd_fsync_$((mib * replicas))MiB"
ratio hot_download_glint_vs_nginx "glint_hot_download_${mib}MiB" "nginx_sendfile_${mib}MiB"
log "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
