# Helpers for end-to-end scripts (source it). Every process started here is stopped by PID on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../deploy/lib.sh"  # glint_start_service, glint_wait_for
E2E_PIDS=()
E2E_KEYSTONE=""  # set by e2e_own_keystone
E2E_OWN_PG=""    # set by e2e_own_database
e2e_cleanup() {
  [ -n "$E2E_KEYSTONE" ] && "$(dirname "${BASH_SOURCE[0]}")/../support/keystone.sh" stop "$E2E_KEYSTONE" >/dev/null 2>&1
  for pid in "${E2E_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${E2E_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  E2E_PIDS=()
  [ -n "$E2E_OWN_PG" ] && "$(dirname "${BASH_SOURCE[0]}")/../support/pg.sh" stop "$E2E_OWN_PG" >/dev/null 2>&1
  [ -n "${E2E_DIR:-}" ] && rm -rf "$E2E_DIR"
}
trap e2e_cleanup EXIT
E2E_DIR=$(mktemp -d /tmp/glint-e2e.XXXXXX)
FAILS=0
PASSES=0

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { PASSES=$((PASSES + 1)); }
expect_eq() {  # expect_eq WHAT ACTUAL EXPECTED
  if [ "$2" = "$3" ]; then pass; else fail "$1: got '$2', want '$3'"; fi
}
expect_ge() { if [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ]; then pass; else fail "$1: got '$2', want >= $3"; fi; }
expect_le() { if [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -le "$3" ]; then pass; else fail "$1: got '$2', want <= $3"; fi; }

# e2e_database BUILD_DIR NAME -> prints the URL of a fresh database on the test cluster.
e2e_database() {
  local env=$1/pg/env admin bin
  admin=$(sed -n 's/^GLINT_TEST_DATABASE_URL=//p' "$env")
  bin=$(sed -n 's/^GLINT_PG_BIN=//p' "$env")
  "$bin/psql" -q "$admin" -c "create database $2" >/dev/null
  echo "${admin%/postgres}/$2"
}

# Inter-node TLS: with E2E_NODE_TLS=1 every store serves HTTPS with its node's certificate and
# asks clients for one; glint-api and the workers (their config is the node's) verify stores by
# name. Certificates for node1..node9 and api are made once per run in $E2E_DIR/node-certs.
e2e_node_tls() {  # e2e_node_tls NAME -> prints the [tls] section for NAME (nothing without E2E_NODE_TLS)
  [ "${E2E_NODE_TLS:-}" = 1 ] || return 0
  local certs=$E2E_DIR/node-certs
  [ -s "$certs/ca.pem" ] || "$(dirname "${BASH_SOURCE[0]}")/../support/make_certs.sh" "$certs" api node{1..9} >&2
  printf '[tls]\nca_file = %s/ca.pem\ncert_file = %s/%s.pem\nkey_file = %s/%s.key\n' "$certs" "$certs" "$1" "$certs" "$1"
}

# e2e_start_api BUILD_DIR DB_URL [EXTRA_INI] -> starts glint-api on a free port; sets API_PORT.
# EXTRA_INI is appended to its config (a section may appear again; an option may not be set twice).
# Its log is $E2E_DIR/api.log.
e2e_start_api() {
  local conf=$E2E_DIR/api.conf
  [ -n "${E2E_SECRET:-}" ] || E2E_SECRET=$(openssl rand -hex 16)
  printf '[DEFAULT]\nlog_file = %s/api.log\n[database]\nconnection = %s\n[auth]\nshared_secret = %s\n[api]\nbind_port = 0\nport_file = %s/api.port\n' \
    "$E2E_DIR" "$2" "$E2E_SECRET" "$E2E_DIR" > "$conf"
  if [ -n "${3:-}" ]; then printf '%s\n' "$3" >> "$conf"; fi
  e2e_node_tls api >> "$conf"
  if ! glint_start_service "$1/bin/glint-api" "$conf" glint-api "$E2E_DIR/api.pid" "$E2E_DIR/api.out" "$E2E_DIR/api.port"; then
    [ -s "$E2E_DIR/api.pid" ] && E2E_PIDS+=("$(cat "$E2E_DIR/api.pid")")
    cat "$E2E_DIR/api.out" "$E2E_DIR/api.log" >&2 2>/dev/null
    return 1
  fi
  E2E_PIDS+=("$(cat "$E2E_DIR/api.pid")")
  API_PORT=$(cat "$E2E_DIR/api.port")
}

# e2e_forget_pid PID: drops PID from E2E_PIDS (after the test itself stopped and reaped it).
e2e_forget_pid() {
  local keep=() p
  for p in "${E2E_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  E2E_PIDS=("${keep[@]}")
}

# Storage nodes. e2e_start_stores fills these: STORE_NODES (node1..nodeN), STORE_DIR[node] (its
# data_dir), STORE_PID[node] (empty while stopped), E2E_SECRET (the shared secret), E2E_DB_URL and
# E2E_PG_BIN (for e2e_psql). Node files: $E2E_DIR/<node>.conf, .log, .out, .port, .pid.
declare -gA STORE_DIR=() STORE_PID=()
STORE_NODES=()

# e2e_psql SQL: runs SQL on the test database (after e2e_start_stores) and prints bare rows.
e2e_psql() { "$E2E_PG_BIN/psql" -qAtX "$E2E_DB_URL" -c "$1"; }

# e2e_start_stores BUILD_DIR DB_URL N: configures and starts N glint-store processes node1..nodeN in
# zones zone1..zoneN on free ports, and waits until each is registered and up in the nodes table.
e2e_start_stores() {
  local build=$1 i node
  E2E_BUILD=$build E2E_DB_URL=$2
  E2E_PG_BIN=$(sed -n 's/^GLINT_PG_BIN=//p' "$build/pg/env")
  [ -n "${E2E_SECRET:-}" ] || E2E_SECRET=$(openssl rand -hex 16)
  for ((i = 1; i <= $3; i++)); do
    node=node$i
    STORE_NODES+=("$node")
    STORE_DIR[$node]=$E2E_DIR/nodes/$node
    cat > "$E2E_DIR/$node.conf" <<CONF
[DEFAULT]
node_name = $node
log_file = $E2E_DIR/$node.log
[database]
connection = $E2E_DB_URL
[auth]
shared_secret = $E2E_SECRET
[store]
data_dir = ${STORE_DIR[$node]}
zone = zone$i
bind_port = 0
port_file = $E2E_DIR/$node.port
reserve = 0
heartbeat_interval = 1s
fsync = false
CONF
    e2e_node_tls "$node" >> "$E2E_DIR/$node.conf"
    e2e_start_store "$node" || return 1
  done
}

# e2e_start_store NODE: (re)starts a store configured by e2e_start_stores with its config and
# waits until its nodes row carries the new address with a fresh heartbeat.
e2e_start_store() {
  local node=$1 port certs=$E2E_DIR/node-certs
  # A store serving TLS is health-checked as a cluster member: the CA, a client certificate.
  local GLINT_HEALTH_BASE=${GLINT_HEALTH_BASE:-} GLINT_HEALTH_CURL_OPTS=${GLINT_HEALTH_CURL_OPTS:-}
  if [ "${E2E_NODE_TLS:-}" = 1 ]; then
    GLINT_HEALTH_BASE=https://localhost
    GLINT_HEALTH_CURL_OPTS="--cacert $certs/ca.pem --cert $certs/$node.pem --key $certs/$node.key"
  fi
  if ! glint_start_service "$E2E_BUILD/bin/glint-store" "$E2E_DIR/$node.conf" "$node" "$E2E_DIR/$node.pid" \
         "$E2E_DIR/$node.out" "$E2E_DIR/$node.port"; then
    [ -s "$E2E_DIR/$node.pid" ] && E2E_PIDS+=("$(cat "$E2E_DIR/$node.pid")")
    cat "$E2E_DIR/$node.out" "$E2E_DIR/$node.log" >&2 2>/dev/null
    return 1
  fi
  STORE_PID[$node]=$(cat "$E2E_DIR/$node.pid")
  E2E_PIDS+=("${STORE_PID[$node]}")
  port=$(cat "$E2E_DIR/$node.port")
  glint_wait_for 30 e2e_node_registered "$node" "127.0.0.1:$port" ||
    { echo "$node did not register as up at 127.0.0.1:$port; see $E2E_DIR/$node.log" >&2; return 1; }
}

# e2e_node_registered NODE ADDRESS: true if the nodes row of NODE is up at ADDRESS and heartbeating.
e2e_node_registered() {
  [ "$(e2e_psql "select count(*) from nodes where name = '$1' and address = '$2' and state = 'up'
                 and last_heartbeat > now() - interval '5 seconds'")" = 1 ]
}

# e2e_stop_store NODE SIGNAL: sends SIGNAL (KILL, TERM) to the store, waits until it is gone (else
# SIGKILL after 30 s), reaps it and forgets its PID.
e2e_stop_store() {
  local node=$1 pid=${STORE_PID[$1]:-}
  [ -n "$pid" ] || return 0
  kill "-$2" "$pid" 2>/dev/null || true
  if ! glint_wait_for 30 eval "! glint_alive $pid"; then
    echo "$node (pid $pid) ignored SIG$2 for 30 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    glint_wait_for 10 eval "! glint_alive $pid" || true
  fi
  wait "$pid" 2>/dev/null || true
  e2e_forget_pid "$pid"
  STORE_PID[$node]=
}

# The clients cache the image schema in ~/.glanceclient (and glanceclient 4.1 then trips over
# Glance 25's own schema), so every call gets a fresh HOME. stdin is closed: glanceclient
# uploads a non-TTY stdin.
glance_cli() { HOME=$(mktemp -d -p "$E2E_DIR") glance --os-image-url "http://127.0.0.1:$API_PORT" --os-auth-token dummy "$@" <&-; }
openstack_cli() { HOME=$(mktemp -d -p "$E2E_DIR") openstack --os-auth-type none --os-endpoint "http://127.0.0.1:$API_PORT" "$@" <&-; }
json_get() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {'d': d}))" "$1"; }

# e2e_upload NAME FILE: a raw image created and uploaded through the API at $api; prints its id.
e2e_upload() {
  local id
  id=$(curl -sf -X POST -H 'Content-Type: application/json' \
    -d "{\"name\": \"$1\", \"disk_format\": \"raw\", \"container_format\": \"bare\"}" "$api/v2/images" | json_get "d['id']")
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' -T "$2" \
        "$api/v2/images/$id/file")" = 204 ] || { echo "upload of $1 failed" >&2; return 1; }
  echo "$id"
}

e2e_finish() {
  echo "$PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}

# e2e_own_database BUILD_DIR: for scripts run outside ctest's pg fixture (tempest, benchmarks): a
# PostgreSQL of their own in $E2E_DIR/pg, stopped on exit. Sets E2E_BUILD to a build directory
# whose bin/ is BUILD_DIR's and whose pg/ is that database, for e2e_database and e2e_start_*.
e2e_own_database() {
  E2E_OWN_PG=$E2E_DIR/pg
  "$(dirname "${BASH_SOURCE[0]}")/../support/pg.sh" start "$E2E_OWN_PG" > /dev/null
  mkdir -p "$E2E_DIR/build"
  ln -s "$1/bin" "$E2E_DIR/build/bin"
  ln -s "$E2E_OWN_PG" "$E2E_DIR/build/pg"
  E2E_BUILD=$E2E_DIR/build
}

# e2e_own_keystone: a loopback Keystone in $E2E_DIR/keystone (tests/support/keystone.sh), stopped
# on exit; its env (KEYSTONE_URL, passwords) and admin OS_* variables are sourced.
e2e_own_keystone() {
  E2E_KEYSTONE=$E2E_DIR/keystone
  "$(dirname "${BASH_SOURCE[0]}")/../support/keystone.sh" start "$E2E_KEYSTONE" > /dev/null
  source "$E2E_KEYSTONE/env"
  source "$E2E_KEYSTONE/admin-openrc"
}
