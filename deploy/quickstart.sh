#!/usr/bin/env bash
# glint quickstart: installs what is missing, builds, and runs a local cluster under $GLINT_VAR
# (default ./var): its own PostgreSQL, glint-coordinator, 3 glint-store nodes in 3 zones (each with
# its glint-auditor, quick and deep, and glint-replicator) and glint-api on free loopback ports.
# Re-running restarts only what is not running; the catalog (a durable PostgreSQL in $GLINT_VAR/pg)
# and the blobs survive restarts.
#   deploy/quickstart.sh down      stops what it started, keeps every image
#   deploy/quickstart.sh destroy   stops it and removes everything under $GLINT_VAR
# GLINT_AUTH=keystone (the default) also runs a loopback Keystone (in $GLINT_VAR/keystone) with a
# demo project and user, and writes $GLINT_VAR/etc/openrc for the openstack and glance clients;
# GLINT_AUTH=noauth runs glint-api without identity (Glance's noauth).
# Every API node keeps an image cache ($GLINT_VAR/cache/<name>) kept by its glint-prefetcher;
# GLINT_APIS=2 starts two API nodes (api, api2), each with its own cache of GLINT_CACHE_MAX_SIZE
# (default 2G; soft, the prefetcher prunes down to it).
# $GLINT_VAR/etc/local.conf, when it exists, is given to every process after its generated file.
# GLINT_QUICKSTART_NO_BUILD=1 skips installing and building (tests that built already);
# GLINT_BUILD_DIR (default ./build) is where the binaries are.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=deploy/lib.sh
source "$root/deploy/lib.sh"
var=${GLINT_VAR:-$root/var}
mkdir -p "$var" "$var/pg"  # traversable by the postgres user, which owns $var/pg/data
var=$(cd "$var" && pwd)
# Everything written from here on is private: config files hold the shared secret.
umask 077
run=$var/run log=$var/log etc=$var/etc
build=${GLINT_BUILD_DIR:-$root/build}
nodes=(node1 node2 node3)
auth=${GLINT_AUTH:-keystone}
apis=(api)
for ((i = 2; i <= ${GLINT_APIS:-1}; i++)); do apis+=("api$i"); done
case $auth in keystone | noauth) ;; *) echo "GLINT_AUTH must be keystone or noauth, not $auth" >&2; exit 1 ;; esac

down() {
  for a in "${apis[@]}"; do glint_stop_pid "$run/$a-prefetcher.pid"; glint_stop_pid "$run/$a.pid"; done
  for a in "$run"/api*.pid; do [ -e "$a" ] && glint_stop_pid "$a"; done  # also from an earlier GLINT_APIS
  for n in "${nodes[@]}"; do
    for w in replicator auditor auditor-deep reaper updater; do glint_stop_pid "$run/$n-$w.pid"; done
    glint_stop_pid "$run/$n.pid"
  done
  glint_stop_pid "$run/coordinator.pid"
  [ -d "$var/keystone" ] && "$root/tests/support/keystone.sh" down "$var/keystone"
  "$root/tests/support/pg.sh" --durable stop "$var/pg" >/dev/null
  echo "glint quickstart cluster stopped (catalog and blobs kept in $var)"
}
if [ "${1:-}" = "down" ]; then down; exit 0; fi
if [ "${1:-}" = "destroy" ]; then
  down
  # Only a directory that looks like ours: its secret file or nothing but our layout.
  if [ -f "$var/etc/secret" ] || [ -z "$(ls -A "$var" | grep -vxE 'pg|run|log|etc|nodes|journal|keystone|cache|demo.qcow2' || true)" ]; then
    rm -rf -- "$var"
    echo "removed $var"
  else
    echo "not removing $var: it does not look like a glint quickstart directory" >&2
    exit 1
  fi
  exit 0
fi

mkdir -p "$run" "$log" "$etc" "$var/nodes"
# A user's own overrides for every process, read after the generated files (so they win and
# survive re-runs), e.g. [api] delayed_delete = true.
export GLINT_EXTRA_CONFIG=$etc/local.conf
if [ "${GLINT_QUICKSTART_NO_BUILD:-0}" != 1 ]; then
  "$root/deploy/install-deps.sh"
  echo "== building"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j "$(nproc)" --target glint-store glint-api glint-coordinator glintctl glint-auditor glint-replicator glint-reaper glint-updater glint-prefetcher >"$log/build.log" 2>&1 || { tail -n 40 "$log/build.log"; exit 1; }
fi
bin=$build/bin

echo "== PostgreSQL (durable, in $var/pg)"
"$root/tests/support/pg.sh" --durable start "$var/pg" >>"$log/pg.log"
admin_url=$(sed -n 's/^GLINT_TEST_DATABASE_URL=//p' "$var/pg/env")
db_url=${admin_url%/postgres}/glint
pg_bin=$(sed -n 's/^GLINT_PG_BIN=//p' "$var/pg/env")
"$pg_bin/psql" -q "$admin_url" -tc "select 1 from pg_database where datname='glint'" | grep -q 1 ||
  "$pg_bin/psql" -q "$admin_url" -c "create database glint" >/dev/null

[ -s "$etc/secret" ] || (umask 077 && openssl rand -hex 32 > "$etc/secret")
secret=$(cat "$etc/secret")

# ensure_running NAME BIN CONF: starts NAME (pid, port and output files named after it)
# unless it already runs; re-runs of the quickstart leave running processes alone.
ensure_running() {
  local name=$1 bin=$2 conf=$3
  if glint_pid_alive "$run/$name.pid"; then
    echo "$name: running (pid $(cat "$run/$name.pid"))"
  else
    glint_start_service "$bin" "$conf" "$name" "$run/$name.pid" "$log/$name.out" "$run/$name.port"
    echo "$name: started (pid $(cat "$run/$name.pid"), port $(cat "$run/$name.port"))"
  fi
}

# The control plane's two ZeroMQ ports, chosen free once and kept for later re-runs.
if [ ! -s "$etc/bus.env" ]; then
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
  printf 'router=tcp://127.0.0.1:%s\npub=tcp://127.0.0.1:%s\n' "$(free_port)" "$(free_port)" > "$etc/bus.env"
fi
bus_router=$(sed -n 's/^router=//p' "$etc/bus.env")
bus_pub=$(sed -n 's/^pub=//p' "$etc/bus.env")
# The bus is authenticated with CURVE: a key pair per process role (made once by glintctl keys,
# 0600), and the coordinator admits only the public keys listed in $etc/authorized_keys, each
# bound to its role and node (a worker's key cannot send a store's heartbeat or an operator's
# command). glintctl speaks with the operator key through $etc/glintctl.conf.
key_pub() { sed -n 's/^public = //p' "$etc/$1.key"; }
make_key() { [ -s "$etc/$1.key" ] || "$bin/glintctl" keys --out "$etc/$1.key" >/dev/null; }
for k in coordinator operator; do make_key "$k"; done
for a in "${apis[@]}"; do make_key "$a"; make_key "worker-$a"; done
for n in "${nodes[@]}"; do make_key "store-$n"; make_key "worker-$n"; done
{
  echo "# ROLE NAME PUBLIC_KEY: who may speak on the quickstart's bus"
  for a in "${apis[@]}"; do
    echo "api $a $(key_pub "$a")"
    echo "worker $a $(key_pub "worker-$a")"
  done
  echo "operator quickstart $(key_pub operator)"
  for n in "${nodes[@]}"; do
    echo "store $n $(key_pub "store-$n")"
    echo "worker $n $(key_pub "worker-$n")"
  done
} > "$etc/authorized_keys"
bus_section() {  # bus_section KEY: the [bus] section of a process that holds key pair KEY
  printf '[bus]\nrouter_endpoint = %s\npub_endpoint = %s\ncurve_key_file = %s\ncurve_server_key = %s\n' \
    "$bus_router" "$bus_pub" "$etc/$1.key" "$(key_pub coordinator)"
}

echo "== coordinator"
cat > "$etc/coordinator.conf" <<CONF
[DEFAULT]
node_name = coordinator
log_file = $log/coordinator.log

[database]
connection = $db_url

$(bus_section coordinator)

[coordinator]
bind_port = 0
port_file = $run/coordinator.port
curve_authorized_keys = $etc/authorized_keys
CONF
cat > "$etc/glintctl.conf" <<CONF
# glintctl --config-file $etc/glintctl.conf status (the operator's key)
[DEFAULT]
node_name = operator

[database]
connection = $db_url

$(bus_section operator)
CONF
ensure_running coordinator "$bin/glint-coordinator" "$etc/coordinator.conf"

echo "== storage nodes"
zone=0
for n in "${nodes[@]}"; do
  zone=$((zone + 1))
  conf=$etc/$n.conf
  cat > "$conf" <<CONF
[DEFAULT]
node_name = $n
log_file = $log/$n.log

[database]
connection = $db_url

[auth]
shared_secret = $secret

$(bus_section "store-$n")

[store]
data_dir = $var/nodes/$n
zone = zone$zone
port_file = $run/$n.port
reserve = 256M
CONF
  ensure_running "$n" "$bin/glint-store" "$conf"
done

echo "== workers (auditor, deep auditor, replicator, reaper and updater per node)"
# ensure_worker NAME BIN CONF [ARGS...]: like ensure_running for a worker daemon (no port).
ensure_worker() {
  local name=$1 bin=$2 conf=$3
  shift 3
  if glint_pid_alive "$run/$name.pid"; then
    echo "$name: running (pid $(cat "$run/$name.pid"))"
  else
    glint_start_worker "$bin" "$conf" "$name" "$run/$name.pid" "$log/$name.out" "$log/$name.log" "$@"
    echo "$name: started (pid $(cat "$run/$name.pid"))"
  fi
}
for n in "${nodes[@]}"; do
  for w in replicator auditor auditor-deep reaper updater; do
    # The node's own settings (data_dir, secret, bus) plus the worker runtime's.
    sed -e "s|^log_file = .*|log_file = $log/$n-$w.log|" -e "s|/store-$n.key$|/worker-$n.key|" "$etc/$n.conf" > "$etc/$n-$w.conf"
    cat >> "$etc/$n-$w.conf" <<CONF

[worker]
schedule_defaults = $root/schedules/default.conf
lock_dir = $run/locks

[journal]
dir = $var/journal/$n

[cluster]
replicas = 3
CONF
    case $w in
      replicator) ensure_worker "$n-$w" "$bin/glint-replicator" "$etc/$n-$w.conf" ;;
      auditor) ensure_worker "$n-$w" "$bin/glint-auditor" "$etc/$n-$w.conf" ;;
      auditor-deep) ensure_worker "$n-$w" "$bin/glint-auditor" "$etc/$n-$w.conf" --deep ;;
      reaper) ensure_worker "$n-$w" "$bin/glint-reaper" "$etc/$n-$w.conf" ;;
      updater) ensure_worker "$n-$w" "$bin/glint-updater" "$etc/$n-$w.conf" ;;
    esac
  done
done

identity=""
if [ "$auth" = keystone ]; then
  echo "== Keystone (loopback, in $var/keystone)"
  "$root/tests/support/keystone.sh" start "$var/keystone" > /dev/null
  # shellcheck disable=SC1091
  source "$var/keystone/admin-openrc"
  if [ ! -s "$etc/openrc" ]; then
    demo_pw=$(openssl rand -hex 12)
    "$root/tests/support/keystone_admin.py" user demo demo "$demo_pw" member
    cat > "$etc/openrc" <<RC
# the quickstart's demo user (project demo, role member): source it, then openstack image list
export OS_AUTH_URL=$OS_AUTH_URL OS_IDENTITY_API_VERSION=3 OS_IMAGE_API_VERSION=2 OS_AUTH_TYPE=password
export OS_USERNAME=demo OS_PASSWORD=$demo_pw OS_PROJECT_NAME=demo OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default OS_REGION_NAME=RegionOne OS_INTERFACE=public
RC
    cp "$var/keystone/admin-openrc" "$etc/admin-openrc"
  fi
  identity="$(cat "$var/keystone/authtoken.ini")
[api]
auth_mode = keystone"
fi

echo "== API nodes (${apis[*]}), each with its image cache and glint-prefetcher"
for a in "${apis[@]}"; do
  cat > "$etc/$a.conf" <<CONF
[DEFAULT]
node_name = $a
log_file = $log/$a.log

[database]
connection = $db_url

[auth]
shared_secret = $secret

$(bus_section "$a")

[cluster]
replicas = 3
write_quorum = 2

$identity

[api]
bind_port = 0
port_file = $run/$a.port

[cache]
dir = $var/cache/$a
max_size = ${GLINT_CACHE_MAX_SIZE:-2G}
CONF
  ensure_running "$a" "$bin/glint-api" "$etc/$a.conf"
  sed -e "s|^log_file = .*|log_file = $log/$a-prefetcher.log|" -e "s|/$a.key$|/worker-$a.key|" "$etc/$a.conf" > "$etc/$a-prefetcher.conf"
  printf '\n[worker]\nschedule_defaults = %s\nlock_dir = %s\n\n[journal]\ndir = %s\n' \
    "$root/schedules/default.conf" "$run/locks" "$var/journal/$a" >> "$etc/$a-prefetcher.conf"
  ensure_worker "$a-prefetcher" "$bin/glint-prefetcher" "$etc/$a-prefetcher.conf"
done

echo "== cluster status"
glint_wait_for 15 bash -c "[ \"\$('$pg_bin/psql' -qAt '$db_url' -c \"select count(*) from nodes where state='up' and last_heartbeat > now() - interval '30 seconds'\" 2>/dev/null)\" = ${#nodes[@]} ]" ||
  echo "warning: not every storage node is up yet" >&2
api_port=$(cat "$run/api.port")
api=http://127.0.0.1:$api_port
token=()
if [ "$auth" = keystone ]; then
  "$root/tests/support/keystone_admin.py" endpoint "$api"  # where the clients find the image service
  # shellcheck disable=SC1091
  (source "$etc/openrc" && "$root/tests/support/keystone_admin.py" token "$OS_USERNAME" "$OS_PASSWORD" "$OS_PROJECT_NAME") > "$run/demo-token"
  token=(-H "X-Auth-Token: $(cat "$run/demo-token")")
fi

echo "== demo image"
demo=$var/demo.qcow2
[ -s "$demo" ] || qemu-img create -q -f qcow2 "$demo" 64M
demo_id=$(cat "$etc/demo-id" 2>/dev/null || true)
demo_status=""
[ -n "$demo_id" ] && demo_status=$(curl -sf "${token[@]}" "$api/v2/images/$demo_id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null || true)
if [ "$demo_status" = active ]; then
  echo "demo image $demo_id: active"
else
  # Through the Images API like any client: create the record, then upload the bytes (fanned out
  # to 3 nodes by glint-api).
  demo_id=$(curl -sf "${token[@]}" -X POST "$api/v2/images" -H 'Content-Type: application/json' \
    -d '{"name": "cirros-demo", "disk_format": "qcow2", "container_format": "bare"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || { echo "creating the demo image failed" >&2; exit 1; }
  echo "$demo_id" > "$etc/demo-id"
  code=$(curl -s "${token[@]}" -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary @"$demo" "$api/v2/images/$demo_id/file")
  [ "$code" = 204 ] || { echo "uploading the demo image failed: HTTP $code (see $log/api.log)" >&2; exit 1; }
  echo "demo image $demo_id: uploaded ($(stat -c %s "$demo") bytes, 3 replicas)"
fi

echo "== nodes"
"$pg_bin/psql" -q "$db_url" -c "select name, address, zone, state, pg_size_pretty(free) as free, last_heartbeat from nodes order by name"
for n in "${nodes[@]}"; do
  echo "store $n: http://127.0.0.1:$(cat "$run/$n.port")  (data $var/nodes/$n, log $log/$n.log)"
done
echo "database: $db_url"
echo "logs: $log   pids: $run   stop: deploy/quickstart.sh down"
"$pg_bin/psql" -q "$db_url" -c "select i.name, i.status, i.size, count(r.*) filter (where r.state = 'ok') as ok_replicas from images i left join replicas r on r.image_id = i.id where i.status <> 'deleted' group by i.id order by i.created_at"
echo "api: $api"
for a in "${apis[@]:1}"; do echo "$a: http://127.0.0.1:$(cat "$run/$a.port")"; done
if [ "$auth" = keystone ]; then
  echo "keystone: $OS_AUTH_URL"
  echo "openrc: $etc/openrc"
  echo "try: source $etc/openrc && openstack image list && glance image-list <&-"
else
  echo "try: glance --os-image-url $api --os-auth-token dummy image-list <&-"
fi
echo "     $bin/glintctl --config-file $etc/glintctl.conf status"
