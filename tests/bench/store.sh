#!/usr/bin/env bash
# glint-store throughput and memory: PUT and GET of a 1 GiB blob over loopback, each against a
# baseline measured in the same run on the same filesystem:
#   PUT vs `dd bs=1M conv=fsync` of the same bytes;  GET vs nginx (sendfile) serving the same file
#   (the store's blob file) to the same client (curl), hot (page cache) and cold (dropped, as root). Prints `name value unit` lines. Targets: PUT >= 0.7, hot GET >= 0.8,
#   peak RSS <= 32 MiB.   Knobs: BENCH_DIR (default build/bench), BENCH_MIB (default 1024), BENCH_RUNS (5).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/deploy/lib.sh"
source "$root/tests/bench/lib.sh"
bin=$root/build/bin/glint-store
[ -x "$bin" ] || { echo "build first: cmake --build build --target glint-store" >&2; exit 1; }
dir=${BENCH_DIR:-$root/build/bench}
mib=${BENCH_MIB:-1024}
runs=${BENCH_RUNS:-5}
rm -rf "$dir" && mkdir -p "$dir/data" "$dir/nginx"
secret=bench-secret
store_pid="" nginx_pid=""
cleanup() {
  [ -n "$store_pid" ] && kill -TERM "$store_pid" 2>/dev/null && wait "$store_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill -TERM "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null || true
  rm -rf "$dir/data" "$dir/src" "$dir"/dd.* "$dir/nginx" "$dir/nginx-tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mbps() { python3 -c "print(f'{$1 / 1e6 / $2:.1f}')"; }
ratio() { python3 -c "print(f'{$1 / $2:.3f}')"; }
best() { sort -g | tail -n1; }  # highest throughput of the runs
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
now() { date +%s.%N; }

head -c $((mib << 20)) /dev/urandom > "$dir/src"
bytes=$(stat -c %s "$dir/src")

cat > "$dir/store.conf" <<CONF
[DEFAULT]
node_name = bench
log_level = warn
[database]
connection = postgresql://nobody@127.0.0.1:1/none
retry_budget = 100ms
[auth]
shared_secret = $secret
[store]
data_dir = $dir/data
port_file = $dir/store.port
reserve = 0
heartbeat_interval = 60s
CONF
"$bin" --config-file "$dir/store.conf" >"$dir/store.log" 2>&1 &
store_pid=$!
glint_wait_for 30 test -s "$dir/store.port"
port=$(cat "$dir/store.port")
glint_wait_for 30 curl -sf "http://127.0.0.1:$port/healthcheck"

# Baseline and subject alternate, run by run, so a noisy moment hits both; the ratio reported is
# the median of the per-run ratios, the MB/s figures the best run of each.
put_runs=() dd_runs=() put_ratios=() ids=()
for i in $(seq "$runs"); do
  # A new file each run, like each PUT: deleting right before writing (discard, freed extents)
  # would slow dd and flatter the ratio.
  sync
  t0=$(now); dd if="$dir/src" of="$dir/dd.$i" bs=1M conv=fsync status=none; t1=$(now)
  d=$(mbps "$bytes" "$(python3 -c "print($t1-$t0)")")
  sync
  id=$(python3 -c 'import uuid; print(uuid.uuid4())')
  t0=$(now)
  code=$(glint_curl -T "$dir/src" "$secret" bench PUT "http://127.0.0.1:$port/v1/blobs/$id" -o /dev/null -w '%{http_code}')
  t1=$(now)
  [ "$code" = 201 ] || { echo "PUT failed: HTTP $code" >&2; exit 1; }
  p=$(mbps "$bytes" "$(python3 -c "print($t1-$t0)")")
  dd_runs+=("$d"); put_runs+=("$p"); put_ratios+=("$(ratio "$p" "$d")"); ids+=("$id")
done
rss_put=$(awk '/VmHWM/ {print $2}' "/proc/$store_pid/status")
rm -f "$dir"/dd.*

# GET baseline: nginx with sendfile serving the same file: the store's own blob file of each run
# (nginx's root is the store's objects directory), fetched by the same client. Hot: both read it
# from the page cache (it is read once first: the store writes with O_DIRECT, so a new blob is
# not cached). Cold (when /proc/sys/vm/drop_caches is writable, i.e. as root): the page cache is
# dropped before each of the two downloads.
nport=$(free_port)
bench_nginx "$dir/nginx-tmp" "$dir/data/objects" "$nport"
glint_wait_for 30 curl -s -o /dev/null "http://127.0.0.1:$nport/"
blob_path() { echo "${1:0:2}/${1:2:2}/$1"; }
can_drop=0
{ sync && echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null && can_drop=1
nginx_runs=() get_runs=() get_ratios=() nginx_cold=() get_cold=() cold_ratios=()
for i in $(seq "$runs"); do
  id=${ids[$((i - 1))]}
  url="http://127.0.0.1:$port/v1/blobs/$id"
  if [ "$can_drop" = 1 ]; then
    sync; echo 3 > /proc/sys/vm/drop_caches
    s=$(curl -sS -o /dev/null -w '%{speed_download}' "http://127.0.0.1:$nport/$(blob_path "$id")")
    n=$(python3 -c "print(f'{$s/1e6:.1f}')")
    sync; echo 3 > /proc/sys/vm/drop_caches
    s=$(glint_curl "$secret" bench GET "$url" -o /dev/null -w '%{speed_download}')
    g=$(python3 -c "print(f'{$s/1e6:.1f}')")
    nginx_cold+=("$n"); get_cold+=("$g"); cold_ratios+=("$(ratio "$g" "$n")")
  fi
  cat "$dir/data/objects/$(blob_path "$id")" > /dev/null  # hot from here on, for both
  s=$(curl -sS -o /dev/null -w '%{speed_download}' "http://127.0.0.1:$nport/$(blob_path "$id")")
  n=$(python3 -c "print(f'{$s/1e6:.1f}')")
  s=$(glint_curl "$secret" bench GET "$url" -o /dev/null -w '%{speed_download}')
  g=$(python3 -c "print(f'{$s/1e6:.1f}')")
  nginx_runs+=("$n"); get_runs+=("$g"); get_ratios+=("$(ratio "$g" "$n")")
done
rss_all=$(awk '/VmHWM/ {print $2}' "/proc/$store_pid/status")

# Integrity: the stored blob reads back byte for byte.
got=$(glint_curl "$secret" bench GET "http://127.0.0.1:$port/v1/blobs/${ids[0]}" | md5sum | cut -d' ' -f1)
want=$(md5sum < "$dir/src" | cut -d' ' -f1)
[ "$got" = "$want" ] || { echo "GET returned different bytes" >&2; exit 1; }

echo "blob_size $mib MiB"
echo "dd_fsync_write $(printf '%s\n' "${dd_runs[@]}" | best) MB/s"
echo "store_put $(printf '%s\n' "${put_runs[@]}" | best) MB/s"
echo "store_put_vs_dd $(printf '%s\n' "${put_ratios[@]}" | median) ratio"
echo "nginx_sendfile_get $(printf '%s\n' "${nginx_runs[@]}" | best) MB/s"
echo "store_get $(printf '%s\n' "${get_runs[@]}" | best) MB/s"
echo "store_get_vs_nginx $(printf '%s\n' "${get_ratios[@]}" | median) ratio"
if [ "$can_drop" = 1 ]; then
  echo "nginx_sendfile_get_cold $(printf '%s\n' "${nginx_cold[@]}" | best) MB/s"
  echo "store_get_cold $(printf '%s\n' "${get_cold[@]}" | best) MB/s"
  echo "store_get_cold_vs_nginx $(printf '%s\n' "${cold_ratios[@]}" | median) ratio"
else
  echo "store_get_cold n/a (the page cache cannot be dropped: not root)"
fi
echo "store_rss_peak_after_put $(python3 -c "print(f'{$rss_put/1024:.1f}')") MiB"
echo "store_rss_peak $(python3 -c "print(f'{$rss_all/1024:.1f}')") MiB"
