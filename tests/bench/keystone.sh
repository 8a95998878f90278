#!/usr/bin/env bash
# What Keystone mode costs on the hot path: GET /v2/images/{id} latency on glint-api in noauth
# mode and in keystone mode with a warm token cache (the target: p50 within 1.2x of noauth), plus
# keystone mode with the cache off (token_cache_time = 0: one Keystone round trip per request),
# all against the same database, measured in this run, alternating run by run.
# Prints `name value unit` lines and the ratios; per-run details go to stderr as `# ...`.
# Knobs: BENCH_RUNS (3), BENCH_WRK_DURATION (10s). Needs wrk and the test packages (keystone).
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build
source "$root/tests/e2e/lib.sh"
runs=${BENCH_RUNS:-3}
duration=${BENCH_WRK_DURATION:-10s}
command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }
e2e_own_database "$build"
e2e_own_keystone
ks_dir=$E2E_KEYSTONE
db=$(e2e_database "$E2E_BUILD" glint_bench_keystone)

# Three APIs on the same database (not in a subshell: their PIDs must reach the cleanup).
e2e_start_api "$E2E_BUILD" "$db" ""
noauth=$API_PORT
e2e_start_api "$E2E_BUILD" "$db" "$(cat "$ks_dir/authtoken.ini")
[api]
auth_mode = keystone"
warm=$API_PORT
e2e_start_api "$E2E_BUILD" "$db" "$(cat "$ks_dir/authtoken.ini")
token_cache_time = 0s
[api]
auth_mode = keystone"
cold=$API_PORT

token=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' "$KEYSTONE_URL/v3/auth/tokens?nocatalog" -d "{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": {\"user\": {\"name\": \"admin\", \"domain\": {\"id\": \"default\"}, \"password\": \"$KEYSTONE_ADMIN_PASSWORD\"}}}, \"scope\": {\"project\": {\"name\": \"admin\", \"domain\": {\"id\": \"default\"}}}}}" |
  tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p')
[ -n "$token" ] || { echo "no token from Keystone" >&2; exit 1; }
id=$(curl -s -X POST -H "X-Auth-Token: $token" -H 'Content-Type: application/json' -d '{"name": "bench"}' \
  "http://127.0.0.1:$warm/v2/images" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

# p50 PORT [TOKEN] -> milliseconds (wrk, one connection, keep-alive)
p50() {
  local args=() out
  [ -n "${2:-}" ] && args=(-H "X-Auth-Token: $2")
  out=$(wrk -t1 -c1 -d"$duration" --latency "${args[@]}" "http://127.0.0.1:$1/v2/images/$id")
  echo "$out" | grep -q 'Non-2xx' && { echo "# non-2xx answers on port $1" >&2; echo n/a; return; }
  echo "$out" | awk '$1 == "50%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.3f\n", v }'
}
median() { python3 -c 'import sys,statistics; xs=[float(x) for x in sys.argv[1:] if x != "n/a"]; print("%.3f" % statistics.median(xs) if xs else "n/a")' "$@"; }
a=() b=() c=()
for r in $(seq 1 "$runs"); do
  a+=("$(p50 "$noauth")"); b+=("$(p50 "$warm" "$token")"); c+=("$(p50 "$cold" "$token")")
  echo "# run $r: noauth ${a[-1]} ms, keystone warm ${b[-1]} ms, keystone uncached ${c[-1]} ms" >&2
done
na=$(median "${a[@]}"); kw=$(median "${b[@]}"); kc=$(median "${c[@]}")
echo "get_p50_noauth $na ms"
echo "get_p50_keystone_warm $kw ms"
echo "get_p50_keystone_uncached $kc ms"
python3 -c "print('ratio_keystone_warm_vs_noauth %.2f x (target <= 1.2)' % ($kw / $na))"
python3 -c "print('ratio_keystone_uncached_vs_noauth %.2f x' % ($kc / $na))"
