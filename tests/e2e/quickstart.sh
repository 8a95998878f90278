#!/usr/bin/env bash
# The quickstart as a user runs it, on a directory of its own: the cluster comes up with a demo
# image; its config files are private (0600) and no process warns about them; `down` stops every
# process it started and keeps the catalog; the next run starts the same database again and the
# demo image is still active with the same bytes; `destroy` removes everything. Identity is the
# default, Keystone: the printed openrc works with the real openstack and glance clients, and the
# API refuses requests without a token. $GLINT_VAR/etc/local.conf ([api] delayed_delete) is read
# by every process: a delete waits for the reapers, glintctl restore undoes it until they run.
# An API killed with -9 mid-upload leaves the image saving until the reapers put it back to
# queued, with no partial copy left on any node.
# Usage: quickstart.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
build=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
chmod 755 "$E2E_DIR"  # the postgres user must reach $GLINT_VAR/pg, as it reaches ./var
export GLINT_VAR=$E2E_DIR/var GLINT_QUICKSTART_NO_BUILD=1 GLINT_BUILD_DIR=$build
qs="$root/deploy/quickstart.sh"
stop_all() { "$qs" destroy >/dev/null 2>&1 || true; }
trap 'stop_all; e2e_cleanup' EXIT

echo "== first start"
"$qs" > "$E2E_DIR/first.out" 2>&1 || { cat "$E2E_DIR/first.out"; fail "quickstart failed"; e2e_finish; exit 1; }
demo=$(cat "$GLINT_VAR/etc/demo-id")
api=http://127.0.0.1:$(cat "$GLINT_VAR/run/api.port")
tok() { echo "X-Auth-Token: $(cat "$GLINT_VAR/run/demo-token")"; }
grep -q "^openrc: $GLINT_VAR/etc/openrc" "$E2E_DIR/first.out" && pass || fail "no openrc line in the quickstart's output"
expect_eq "no token" "$(curl -s -o /dev/null -w '%{http_code}' "$api/v2/images")" 401
listed=$(source "$GLINT_VAR/etc/openrc" && openstack image list -f value -c ID 2>&1)
[[ $listed == *"$demo"* ]] && pass || fail "openstack image list with the openrc: $listed"
listed=$(source "$GLINT_VAR/etc/openrc" && glance image-list 2>&1 <&-)
[[ $listed == *"$demo"* ]] && pass || fail "glance image-list with the openrc: $listed"
expect_eq "demo image active" "$(curl -sf -H "$(tok)" "$api/v2/images/$demo" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" active
curl -sf -H "$(tok)" -o "$E2E_DIR/before.bin" "$api/v2/images/$demo/file" && pass || fail "download before restart"
for f in "$GLINT_VAR"/etc/*; do
  expect_eq "mode of $(basename "$f")" "$(stat -c %a "$f")" 600
done
if grep -l "warning: .*holds a secret" "$GLINT_VAR"/log/*.out 2>/dev/null; then fail "a process warned about its config file"; else pass; fi
# The bus is authenticated: glintctl with the operator key sees every process as a member; the
# coordinator refused nobody the quickstart started.
status=$("$build/bin/glintctl" --config-file "$GLINT_VAR/etc/glintctl.conf" --json status 2>&1) && pass || fail "glintctl status: $status"
echo "$status" > "$E2E_DIR/status.json"
members=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["coordinator"]["members"]))' "$E2E_DIR/status.json" 2>/dev/null || echo "?")
expect_ge "bus members seen by glintctl" "$members" 16  # api, 3 stores, 12 workers
grep -q "curve_authorized_keys" "$GLINT_VAR/etc/coordinator.conf" && pass || fail "the quickstart's bus is not authenticated"
if grep -q "event=bus.key_refused\|event=bus.sender_refused" "$GLINT_VAR/log/coordinator.log"; then
  fail "the coordinator refused a quickstart process: $(grep -m3 'refused' "$GLINT_VAR/log/coordinator.log")"
else pass; fi
pids="$(cat "$GLINT_VAR"/run/*.pid) $(sed -n 's/^KEYSTONE_PID=//p' "$GLINT_VAR/keystone/env")"

echo "== down keeps the catalog"
"$qs" down > "$E2E_DIR/down.out" 2>&1 && pass || fail "down failed: $(cat "$E2E_DIR/down.out")"
for pid in $pids; do
  if glint_alive "$pid"; then fail "process $pid still runs after down"; else pass; fi
done
[ -f "$GLINT_VAR/pg/data/PG_VERSION" ] && pass || fail "the database files are gone after down"

# The user's own overrides: read by every process after its generated file, kept across runs.
printf '[api]\ndelayed_delete = true\n' > "$GLINT_VAR/etc/local.conf"

echo "== second start: same database, same image"
"$qs" > "$E2E_DIR/second.out" 2>&1 || { cat "$E2E_DIR/second.out"; fail "second quickstart failed"; }
grep -q "demo image $demo: active" "$E2E_DIR/second.out" && pass || fail "demo image not found active after restart: $(grep demo "$E2E_DIR/second.out")"
api=http://127.0.0.1:$(cat "$GLINT_VAR/run/api.port")
curl -sf -H "$(tok)" -o "$E2E_DIR/after.bin" "$api/v2/images/$demo/file" && pass || fail "download after restart"
cmp -s "$E2E_DIR/before.bin" "$E2E_DIR/after.bin" && pass || fail "the demo image's bytes changed across the restart"

echo "== local.conf's delayed delete: restore, then the reapers (glintctl run reaper --node N)"
ctl() { "$build/bin/glintctl" --config-file "$GLINT_VAR/etc/glintctl.conf" "$@"; }
img_status() { ctl --json image "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'; }
head -c 200000 /dev/urandom > "$E2E_DIR/doomed"
doomed=$(curl -sf -H "$(tok)" -X POST "$api/v2/images" -H 'Content-Type: application/json' \
  -d '{"name": "doomed", "disk_format": "raw", "container_format": "bare"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
expect_eq "upload" "$(curl -s -o /dev/null -w '%{http_code}' -H "$(tok)" -X PUT -H 'Content-Type: application/octet-stream' \
  --data-binary @"$E2E_DIR/doomed" "$api/v2/images/$doomed/file")" 204
expect_eq "delete" "$(curl -s -o /dev/null -w '%{http_code}' -H "$(tok)" -X DELETE "$api/v2/images/$doomed")" 204
expect_eq "status after a delayed delete" "$(img_status "$doomed")" pending_delete
ctl restore "$doomed" > "$E2E_DIR/restore.out" 2>&1 && pass || fail "glintctl restore: $(cat "$E2E_DIR/restore.out")"
expect_eq "status after restore" "$(img_status "$doomed")" active
curl -sf -H "$(tok)" -o "$E2E_DIR/restored.bin" "$api/v2/images/$doomed/file" && cmp -s "$E2E_DIR/restored.bin" "$E2E_DIR/doomed" &&
  pass || fail "the restored image's bytes"
expect_eq "delete again" "$(curl -s -o /dev/null -w '%{http_code}' -H "$(tok)" -X DELETE "$api/v2/images/$doomed")" 204
for n in node1 node2 node3; do
  ctl run reaper --node "$n" > "$E2E_DIR/reap-$n.out" 2>&1 && pass || fail "glintctl run reaper --node $n: $(cat "$E2E_DIR/reap-$n.out")"
done
expect_eq "status once every node's reaper ran" "$(img_status "$doomed")" deleted
for n in node1 node2 node3; do
  [ -e "$GLINT_VAR/nodes/$n/objects/${doomed:0:2}/${doomed:2:2}/$doomed" ] && fail "$n still holds $doomed" || pass
done
expect_eq "restore of a reaped image" "$(ctl restore "$doomed" > /dev/null 2>&1; echo $?)" 1

echo "== kill -9 of the API mid-upload: the reapers put the image back to queued"
head -c 64M /dev/urandom > "$E2E_DIR/cut"
cut=$(curl -sf -H "$(tok)" -X POST "$api/v2/images" -H 'Content-Type: application/json' \
  -d '{"name": "cut", "disk_format": "raw", "container_format": "bare"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -s -o /dev/null -H "$(tok)" -X PUT -H 'Content-Type: application/octet-stream' --limit-rate 4M \
  -T "$E2E_DIR/cut" "$api/v2/images/$cut/file" &
up=$!
E2E_PIDS+=("$up")
saving() { [ "$(img_status "$cut")" = saving ]; }
glint_wait_for 30 saving && pass || fail "the upload did not start"
api_pid=$(cat "$GLINT_VAR/run/api.pid")
kill -9 "$api_pid"
api_gone() { ! glint_alive "$api_pid"; }
glint_wait_for 10 api_gone && pass || fail "the API survived kill -9"
wait "$up" 2>/dev/null || true
expect_eq "status right after the API died" "$(img_status "$cut")" saving
# Its last sign of life ages past [reaper] stale_upload_after (15 min by default, 2 min at least):
# aged in the catalog rather than waited for.
qs_pg=$(sed -n 's/^GLINT_PG_BIN=//p' "$GLINT_VAR/pg/env")
qs_db=$(sed -n 's/^GLINT_TEST_DATABASE_URL=//p' "$GLINT_VAR/pg/env")
"$qs_pg/psql" -qAt "${qs_db%/postgres}/glint" -c "update images set upload_heartbeat_at = now() - interval '16 minutes',
  updated_at = now() - interval '16 minutes' where id = '$cut'" > /dev/null
for n in node1 node2 node3; do
  ctl run reaper --node "$n" > "$E2E_DIR/requeue-$n.out" 2>&1 || fail "glintctl run reaper --node $n: $(cat "$E2E_DIR/requeue-$n.out")"
done
expect_eq "status after the reapers ran" "$(img_status "$cut")" queued
left=$(find "$GLINT_VAR"/nodes/*/objects "$GLINT_VAR"/nodes/*/tmp -name "$cut*" 2>/dev/null | wc -l)
expect_eq "partial copies of the cut upload" "$left" 0
"$qs" > "$E2E_DIR/third.out" 2>&1 && pass || fail "quickstart did not bring the API back: $(tail -5 "$E2E_DIR/third.out")"
api=http://127.0.0.1:$(cat "$GLINT_VAR/run/api.port")
expect_eq "the requeued image takes a new upload" "$(curl -s -o /dev/null -w '%{http_code}' -H "$(tok)" -X PUT \
  -H 'Content-Type: application/octet-stream' --data-binary @"$E2E_DIR/doomed" "$api/v2/images/$cut/file")" 204

echo "== destroy removes everything"
"$qs" destroy > "$E2E_DIR/destroy.out" 2>&1 && pass || fail "destroy failed: $(cat "$E2E_DIR/destroy.out")"
[ ! -e "$GLINT_VAR" ] && pass || fail "$GLINT_VAR still exists"
e2e_finish
