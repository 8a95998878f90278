#!/usr/bin/env bash
# HTTPS against plain HTTP: upload and download of BENCH_MIB MiB (default 1024). Part 1, the
# Image API: two APIs on the same cluster (3 stores), one with [api] tls_cert_file, alternating run
# by run. Part 2, between nodes: the same cluster layout again (a new database and stores) with
# [tls] on every store and the API (mutual TLS, stores verified by node name), measured with plain
# HTTP at the API against part 1's plain figures. Prints `name value unit` lines and the ratios
# TLS / plain (with AES-NI the target is >= 0.7). Knobs: BENCH_MIB (1024), BENCH_RUNS (3).
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build
source "$root/tests/e2e/lib.sh"
mib=${BENCH_MIB:-1024}
runs=${BENCH_RUNS:-3}
e2e_own_database "$build"
"$root/tests/support/make_certs.sh" "$E2E_DIR/certs" localhost
db=$(e2e_database "$E2E_BUILD" glint_bench_tls)
e2e_start_stores "$E2E_BUILD" "$db" 3
e2e_start_api "$E2E_BUILD" "$db" ""
plain=http://127.0.0.1:$API_PORT
GLINT_HEALTH_BASE=https://localhost GLINT_HEALTH_CURL_OPTS="--cacert $E2E_DIR/certs/ca.pem" e2e_start_api "$E2E_BUILD" "$db" "[api]
tls_cert_file = $E2E_DIR/certs/localhost.pem
tls_key_file = $E2E_DIR/certs/localhost.key"
tls=https://localhost:$API_PORT
head -c $((mib * 1024 * 1024)) /dev/urandom > "$E2E_DIR/image"
c=(curl -s --cacert "$E2E_DIR/certs/ca.pem")

# upload BASE -> MB/s (and leaves the image id in $E2E_DIR/last-id); download BASE ID -> MB/s
upload() {
  local id t
  id=$("${c[@]}" -X POST -H 'Content-Type: application/json' -d '{"name": "bench", "disk_format": "raw", "container_format": "bare"}' \
    "$1/v2/images" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  t=$("${c[@]}" -o /dev/null -w '%{http_code} %{time_total}' -X PUT -H 'Content-Type: application/octet-stream' -T "$E2E_DIR/image" "$1/v2/images/$id/file")
  [ "${t%% *}" = 204 ] || { echo "# upload to $1 answered ${t%% *}" >&2; echo n/a; return; }
  echo "$id" > "$E2E_DIR/last-id"
  python3 -c "print('%.1f' % ($mib * 1048576 / ${t#* } / 1e6))"
}
download() {
  local t
  t=$("${c[@]}" -o /dev/null -w '%{http_code} %{time_total} %{size_download}' "$1/v2/images/$2/file")
  set -- $t
  [ "$1" = 200 ] && [ "$3" = $((mib * 1048576)) ] || { echo "# download answered $1 with $3 bytes" >&2; echo n/a; return; }
  python3 -c "print('%.1f' % ($3 / $2 / 1e6))"
}
median() { python3 -c 'import sys,statistics; xs=[float(x) for x in sys.argv[1:] if x != "n/a"]; print("%.1f" % statistics.median(xs) if xs else "n/a")' "$@"; }
up_p=() up_t=() down_p=() down_t=()
for r in $(seq 1 "$runs"); do
  up_p+=("$(upload "$plain")"); ip=$(cat "$E2E_DIR/last-id")
  up_t+=("$(upload "$tls")"); it=$(cat "$E2E_DIR/last-id")
  down_p+=("$(download "$plain" "$ip")"); down_t+=("$(download "$tls" "$it")")
  echo "# run $r: upload plain ${up_p[-1]} tls ${up_t[-1]} MB/s; download plain ${down_p[-1]} tls ${down_t[-1]} MB/s" >&2
  "${c[@]}" -o /dev/null -X DELETE "$plain/v2/images/$ip"; "${c[@]}" -o /dev/null -X DELETE "$plain/v2/images/$it"
done
a=$(median "${up_p[@]}") b=$(median "${up_t[@]}") d=$(median "${down_p[@]}") e=$(median "${down_t[@]}")

# Part 2: stop part 1's processes, start the same layout with inter-node TLS.
for pid in "${E2E_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${E2E_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
E2E_PIDS=() STORE_NODES=()
rm -rf "$E2E_DIR/nodes"
export E2E_NODE_TLS=1
db2=$(e2e_database "$E2E_BUILD" glint_bench_tls_nodes)
e2e_start_stores "$E2E_BUILD" "$db2" 3
e2e_start_api "$E2E_BUILD" "$db2" ""
inter=http://127.0.0.1:$API_PORT
up_i=() down_i=()
for r in $(seq 1 "$runs"); do
  up_i+=("$(upload "$inter")"); ii=$(cat "$E2E_DIR/last-id")
  down_i+=("$(download "$inter" "$ii")")
  echo "# run $r: inter-node TLS upload ${up_i[-1]} download ${down_i[-1]} MB/s" >&2
  "${c[@]}" -o /dev/null -X DELETE "$inter/v2/images/$ii"
done
f=$(median "${up_i[@]}") g=$(median "${down_i[@]}")
echo "upload_plain $a MB/s"
echo "upload_tls $b MB/s"
echo "upload_internode_tls $f MB/s"
echo "download_plain $d MB/s"
echo "download_tls $e MB/s"
echo "download_internode_tls $g MB/s"
python3 -c "print('ratio_upload_tls_vs_plain %.2f x (target >= 0.7)' % ($b / $a))"
python3 -c "print('ratio_download_tls_vs_plain %.2f x (target >= 0.7)' % ($e / $d))"
python3 -c "print('ratio_upload_internode_tls_vs_plain %.2f x (target >= 0.7)' % ($f / $a))"
python3 -c "print('ratio_download_internode_tls_vs_plain %.2f x (target >= 0.7)' % ($g / $d))"
grep -q aes /proc/cpuinfo && echo "aes_ni yes" || echo "aes_ni no"
