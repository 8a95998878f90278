#!/usr/bin/env bash
# Self-healing on the quickstart layout (coordinator, glint-store + glint-auditor (quick and deep) +
# glint-replicator per node, glint-api), real processes and a real database: a deleted replica is
# found by the quick audit and repaired; a flipped byte is found by the deep audit, quarantined and
# repaired while downloads stay correct; a 4th node gets about R/4 of the replicas by rebalance; a
# killed node's images are re-replicated after the grace period and the excess is removed when it
# returns; a drained node ends empty; a replicator killed mid-copy leaves no partial replica counted
# and the next one completes at the configured rate; two replicators on one node cannot both run.
# Usage: [E2E_NODE_TLS=1] heal.sh BUILD_DIR   (the ctest fixture `pg` provides the database; with
# E2E_NODE_TLS=1 all of it runs over inter-node TLS)
source "$(dirname "$0")/lib.sh"
build=$1
bin=$build/bin
root=$(cd "$(dirname "$0")/../.." && pwd)
db=$(e2e_database "$build" "e2e_heal_$$")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
router=tcp://127.0.0.1:$(free_port)
pub=tcp://127.0.0.1:$(free_port)
bus="[bus]
router_endpoint = $router
pub_endpoint = $pub
heartbeat_interval = 500ms"
cluster="[cluster]
replicas = 3
write_quorum = 2
node_down_after = 3s"
copy_rate=$((16 * 1024 * 1024))
MiB=$((1024 * 1024))

section() { echo "== $*"; }
blob_path() { echo "${STORE_DIR[$1]}/objects/${2:0:2}/${2:2:2}/$2"; }  # NODE ID

section "cluster: coordinator, 3 stores, api"
printf '[DEFAULT]\nnode_name = coordinator\nlog_file = %s/coordinator.log\n[database]\nconnection = %s\n%s\n%s\n[coordinator]\nbind_port = 0\nport_file = %s/coordinator.port\nsweep_interval = 500ms\n' \
  "$E2E_DIR" "$db" "$bus" "$cluster" "$E2E_DIR" > "$E2E_DIR/coordinator.conf"
glint_start_service "$bin/glint-coordinator" "$E2E_DIR/coordinator.conf" coordinator "$E2E_DIR/coordinator.pid" \
  "$E2E_DIR/coordinator.out" "$E2E_DIR/coordinator.port"
E2E_PIDS+=("$(cat "$E2E_DIR/coordinator.pid")")
e2e_start_stores "$build" "$db" 3
e2e_start_api "$build" "$db" "$cluster
$bus
[api]
peer_timeout = 10s"
api=http://127.0.0.1:$API_PORT
if [ "${E2E_NODE_TLS:-}" = 1 ]; then  # every copy below then moves over verified TLS
  section "inter-node TLS: stores answer HTTPS only, to cluster members"
  port1=$(cat "$E2E_DIR/node1.port")
  curl -s -o /dev/null "http://127.0.0.1:$port1/healthcheck" && fail "node1 answered plain HTTP" || pass
  curl -s -o /dev/null --cacert "$E2E_DIR/node-certs/ca.pem" "https://localhost:$port1/healthcheck" &&
    fail "node1 answered a client without a certificate" || pass
fi

# Workers: the node's own config (data_dir, secret) plus the runtime's; schedules of seconds.
cat > "$E2E_DIR/schedules.conf" <<SCHED
[replicator]
interval = 1s
concurrency = 2
bytes_per_second = $copy_rate
[auditor]
interval = 2s
[auditor-deep]
interval = 3s
SCHED
declare -gA WORKER_PID=()
# start_worker NODE KIND (replicator | auditor | auditor-deep)
start_worker() {
  local node=$1 kind=$2 conf=$E2E_DIR/$1-$2.conf exe=glint-replicator args=()
  sed -e "s|^log_file = .*|log_file = $E2E_DIR/$node-$kind.log|" "$E2E_DIR/$node.conf" > "$conf"
  printf '%s\n%s\n[worker]\nschedule_defaults = %s/schedules.conf\nlock_dir = %s/locks\njob_lease = 3s\n[replicator]\nreplicate_after_down = 4s\npeer_timeout = 10s\n[auditor]\nnice = 0\n[journal]\ndir = %s/journal-%s\n' \
    "$bus" "$cluster" "$E2E_DIR" "$E2E_DIR" "$E2E_DIR" "$node" >> "$conf"
  [ "$kind" = replicator ] || exe=glint-auditor
  [ "$kind" = auditor-deep ] && args=(--deep)
  glint_start_worker "$bin/$exe" "$conf" "$node-$kind" "$E2E_DIR/$node-$kind.pid" "$E2E_DIR/$node-$kind.out" \
    "$E2E_DIR/$node-$kind.log" "${args[@]}" || return 1
  WORKER_PID[$node-$kind]=$(cat "$E2E_DIR/$node-$kind.pid")
  E2E_PIDS+=("${WORKER_PID[$node-$kind]}")
}
start_node_workers() { for k in replicator auditor auditor-deep; do start_worker "$1" "$k"; done; }
# The deep auditors start with their section: a deep pass also notices a missing file, and the
# first section is about the quick pass finding it.
for n in "${STORE_NODES[@]}"; do start_worker "$n" replicator; start_worker "$n" auditor; done

ctl() { "$bin/glintctl" --config-file "$E2E_DIR/coordinator.conf" "$@"; }
download_ok() { curl -sf "$api/v2/images/$1/file" -o "$E2E_DIR/dl.$1" && cmp -s "$E2E_DIR/dl.$1" "$2"; }  # ID FILE
ok_replicas() { e2e_psql "select count(*) from replicas where image_id = '$1' and state = 'ok'"; }
ok_on() { e2e_psql "select count(*) from replicas where image_id = '$1' and node = '$2' and state = 'ok'"; }
all_in_sync() {  # every image has exactly 3 ok replicas, all on up nodes
  [ "$(e2e_psql "select count(*) from images i where i.status = 'active' and 3 <> (select count(*) from replicas r
        join nodes n on n.name = r.node where r.image_id = i.id and r.state = 'ok' and n.state = 'up')")" = 0 ] &&
  [ "$(e2e_psql "select count(*) from replicas where state <> 'ok'")" = 0 ]
}

section "images"
declare -gA FILE=()
IDS=()
for i in $(seq 1 24); do
  head -c $((256 * 1024 + i)) /dev/urandom > "$E2E_DIR/img$i"
  id=$(e2e_upload "img$i" "$E2E_DIR/img$i")
  IDS+=("$id")
  FILE[$id]=$E2E_DIR/img$i
done
expect_eq "all uploaded in sync" "$(glint_wait_for 30 all_in_sync && echo yes || echo no)" yes
a=${IDS[0]} b=${IDS[1]}

section "quick audit: a deleted replica file is found and repaired"
rm -f "$(blob_path node1 "$a")" "$(blob_path node1 "$a").meta"
glint_wait_for 30 grep -q "event=audit.bad_replica.*image=$a.*state=missing" "$E2E_DIR/node1-auditor.log" &&
  pass || fail "quick audit did not report the missing replica of $a on node1"
expect_eq "repaired on node1" "$(glint_wait_for 30 eval "[ \"\$(ok_on $a node1)\" = 1 ] && [ -s $(blob_path node1 "$a") ]" && echo yes || echo no)" yes
cmp -s "$(blob_path node1 "$a")" "${FILE[$a]}" && pass || fail "repaired copy of $a on node1 differs"

section "deep audit: a flipped byte is quarantined and repaired; downloads stay correct"
for n in "${STORE_NODES[@]}"; do start_worker "$n" auditor-deep; done
target=$(blob_path node2 "$b")
# Invert the byte rather than write a fixed value: random data already holds that value 1 time in 256.
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(1000); b = f.read(1)[0]; f.seek(1000); f.write(bytes([b ^ 0xff]))' "$target"
if cmp -s "$target" "${FILE[$b]}"; then fail "the flip did not change $target"; else pass; fi
glint_wait_for 30 grep -q "event=audit.bad_replica.*image=$b.*state=corrupt" "$E2E_DIR/node2-auditor-deep.log" &&
  pass || fail "deep audit did not report the corrupt replica of $b on node2"
bad_downloads=0
for _ in $(seq 1 10); do download_ok "$b" "${FILE[$b]}" || bad_downloads=$((bad_downloads + 1)); done
expect_eq "downloads during repair" "$bad_downloads" 0
expect_ge "quarantined files on node2" "$(find "${STORE_DIR[node2]}/quarantine" -name "$b.*" ! -name '*.meta' ! -name '*.reason' | wc -l)" 1
expect_eq "repaired on node2" "$(glint_wait_for 30 eval "[ \"\$(ok_on $b node2)\" = 1 ]" && echo yes || echo no)" yes
cmp -s "$target" "${FILE[$b]}" && pass || fail "repaired copy of $b on node2 differs"
expect_eq "in sync again" "$(glint_wait_for 30 all_in_sync && echo yes || echo no)" yes

section "a 4th node: rebalance moves about R/4 of the replicas, everything downloadable throughout"
before=$(e2e_psql "select count(*) from replicas where state = 'ok'")
cp "$E2E_DIR/node3.conf" "$E2E_DIR/node4.conf.tmpl"
sed -e 's/node3/node4/g' -e 's/zone3/zone4/' "$E2E_DIR/node4.conf.tmpl" > "$E2E_DIR/node4.conf"
STORE_NODES+=(node4)
STORE_DIR[node4]=$E2E_DIR/nodes/node4
e2e_start_store node4
start_node_workers node4
( while :; do for id in "${IDS[@]}"; do download_ok "$id" "${FILE[$id]}" || echo "$id" >> "$E2E_DIR/bad-downloads"; done; done ) &
loop=$!
out=$(ctl --json rebalance 2>"$E2E_DIR/rebalance.err") || fail "glintctl rebalance: $(cat "$E2E_DIR/rebalance.err")"
expect_eq "rebalance job" "$(echo "$out" | json_get "d['state']" 2>/dev/null)" done
kill "$loop" 2>/dev/null; wait "$loop" 2>/dev/null || true
expect_eq "downloads during rebalance" "$(cat "$E2E_DIR/bad-downloads" 2>/dev/null | wc -l)" 0
expect_eq "in sync after rebalance" "$(glint_wait_for 30 all_in_sync && echo yes || echo no)" yes
on4=$(e2e_psql "select count(*) from replicas where node = 'node4' and state = 'ok'")
echo "moved to node4: $on4 of $before replica slots (ideal R/4 of them: $((before / 4)))"
expect_ge "moved to node4" "$on4" $((before / 8))
expect_le "moved to node4" "$on4" $((before * 3 / 8))

section "kill -9 a node: re-replicated after the grace period; back: excess removed"
copies_before=$(cat "$E2E_DIR"/node*-replicator.log | grep -c 'event=copy.done' || true)
e2e_stop_store node4 KILL
expect_eq "node4 marked down" "$(glint_wait_for 30 eval "[ \"\$(e2e_psql \"select state from nodes where name = 'node4'\")\" = down ]" && echo yes || echo no)" yes
expect_eq "re-replicated to live nodes" "$(glint_wait_for 60 all_in_sync && echo yes || echo no)" yes
copies_after=$(cat "$E2E_DIR"/node*-replicator.log | grep -c 'event=copy.done' || true)
expect_eq "copies made for node4's images" "$((copies_after - copies_before))" "$on4"
e2e_start_store node4
expect_eq "node4 back, excess removed" "$(glint_wait_for 60 eval "all_in_sync && [ \"\$(e2e_psql \"select count(*) from replicas where node = 'node4' and state = 'ok'\")\" = $on4 ]" && echo yes || echo no)" yes
expect_eq "exactly R copies each" "$(e2e_psql "select count(*) from (select image_id from replicas where state = 'ok' group by image_id having count(*) <> 3) x")" 0
lost=0
for id in "${IDS[@]}"; do download_ok "$id" "${FILE[$id]}" || lost=$((lost + 1)); done
expect_eq "images lost" "$lost" 0

section "drain a node until it is empty; undrain"
out=$(ctl --json drain node2 2>"$E2E_DIR/drain.err") || fail "glintctl drain: $(cat "$E2E_DIR/drain.err")"
expect_eq "drain job" "$(echo "$out" | json_get "d['state']" 2>/dev/null)" done
expect_eq "replica rows on node2" "$(e2e_psql "select count(*) from replicas where node = 'node2'")" 0
expect_eq "blobs on node2" "$(find "${STORE_DIR[node2]}/objects" -type f ! -name '*.meta' | wc -l)" 0
expect_eq "in sync without node2" "$(glint_wait_for 30 eval "[ \"\$(e2e_psql \"select count(*) from (select image_id from replicas where state = 'ok' group by image_id having count(*) = 3) x\")\" = ${#IDS[@]} ]" && echo yes || echo no)" yes
out=$(ctl --json undrain node2 2>"$E2E_DIR/undrain.err") || fail "glintctl undrain: $(cat "$E2E_DIR/undrain.err")"
expect_eq "undrain job" "$(echo "$out" | json_get "d['state']" 2>/dev/null)" done
expect_ge "replicas back on node2" "$(e2e_psql "select count(*) from replicas where node = 'node2' and state = 'ok'")" 1

section "repair IMAGE through glintctl"
out=$(ctl --json repair "$a" 2>"$E2E_DIR/repair.err") || fail "glintctl repair: $(cat "$E2E_DIR/repair.err")"
expect_eq "repair job" "$(echo "$out" | json_get "d['state']" 2>/dev/null)" done

section "kill -9 the replicator mid-copy: nothing partial counted; the next one completes at its rate"
head -c $((64 * MiB)) /dev/urandom > "$E2E_DIR/big"
big=$(e2e_upload big "$E2E_DIR/big")
FILE[$big]=$E2E_DIR/big
glint_wait_for 30 eval "[ \"\$(ok_replicas $big)\" = 3 ]" || fail "big image not in sync"
victim=$(e2e_psql "select node from replicas where image_id = '$big' and state = 'ok' order by node limit 1")
rm -f "$(blob_path "$victim" "$big")" "$(blob_path "$victim" "$big").meta"
e2e_psql "update replicas set state = 'missing' where image_id = '$big' and node = '$victim'" >/dev/null
glint_wait_for 30 grep -q "event=copy.source.*image=$big" "$E2E_DIR/$victim-replicator.log" ||
  fail "the replicator of $victim did not start copying $big"
kill -KILL "${WORKER_PID[$victim-replicator]}"
glint_wait_for 10 eval "! glint_alive ${WORKER_PID[$victim-replicator]}"
expect_eq "partial copy counted" "$(ok_on "$big" "$victim")" 0
glint_wait_for 10 eval "[ ! -e $(blob_path "$victim" "$big") ]" && pass || fail "a partial blob of $big is visible on $victim"
start_worker "$victim" replicator
expect_eq "copy completed" "$(glint_wait_for 60 eval "[ \"\$(ok_on $big $victim)\" = 1 ]" && echo yes || echo no)" yes
cmp -s "$(blob_path "$victim" "$big")" "$E2E_DIR/big" && pass || fail "copied $big differs"
ms=$(grep "event=copy.done.*image=$big" "$E2E_DIR/$victim-replicator.log" | tail -1 | sed -n 's/.* ms=\([0-9]*\).*/\1/p')
want=$((64 * MiB * 1000 / copy_rate))
echo "copy of 64 MiB at $copy_rate B/s: ${ms:-?} ms (ideal $want ms)"
expect_ge "copy time (rate limit, -10%)" "${ms:-0}" $((want * 90 / 100))
expect_le "copy time (rate limit, +10%)" "${ms:-0}" $((want * 110 / 100))

section "two replicators on one node cannot run at once"
set +e
"$bin/glint-replicator" --config-file "$E2E_DIR/node1-replicator.conf" > "$E2E_DIR/second.out" 2>&1
rc=$?
set -e
expect_eq "second replicator exit" "$rc" 1
grep -q -i "lock" "$E2E_DIR/second.out" && pass || fail "second replicator did not name the lock: $(cat "$E2E_DIR/second.out")"

e2e_finish
