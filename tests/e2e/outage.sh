#!/usr/bin/env bash
# A database outage on the quickstart layout (real processes, its own PostgreSQL): PostgreSQL is
# stopped for OUTAGE_SECONDS (60) while node1's deep audit finds a flipped byte and node2's
# replicator copies an image it lacks. What they learn cannot reach the database, so it goes to
# their nodes' journals; once PostgreSQL is back the updaters replay it: the bad replica is marked
# corrupt and repaired, the copy is counted, every journal ends empty and nothing is lost (both
# images download byte-identical, every image has R ok copies).
# Usage: outage.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
outage=${OUTAGE_SECONDS:-60}
chmod 755 "$E2E_DIR"  # the postgres user must reach $GLINT_VAR/pg
export GLINT_VAR=$E2E_DIR/var GLINT_QUICKSTART_NO_BUILD=1 GLINT_BUILD_DIR=$build GLINT_AUTH=noauth
qs="$root/deploy/quickstart.sh"
pgsh="$root/tests/support/pg.sh"
# OUTAGE_LOG_DIR: where the logs and journals go when a check fails.
keep() { if [ "$FAILS" != 0 ] && [ -n "${OUTAGE_LOG_DIR:-}" ]; then mkdir -p "$OUTAGE_LOG_DIR" && cp -r "$GLINT_VAR/log" "$GLINT_VAR/journal" "$E2E_DIR/pg.log" "$OUTAGE_LOG_DIR/"; fi; }
trap 'keep; "$qs" destroy >/dev/null 2>&1 || true; e2e_cleanup' EXIT

# Passes only when asked for (glintctl), copies and hashing slow enough (4 MiB/s) that each is
# still under way when the database goes; the updaters look at their journals every 2 s.
python3 - "$root/schedules/default.conf" "$E2E_DIR/schedules.conf" <<'PY'
import re, sys
out, section = [], None
for line in open(sys.argv[1]):
    m = re.match(r"\[(.+)\]", line)
    if m:
        section = m.group(1)
        out.append(line)
        extra = {"replicator": "bytes_per_second = 4M\n", "auditor-deep": "interval = 1h\nbytes_per_second = 4M\n",
                 "updater": "interval = 2s\n"}.get(section, "")
        out.append("jitter = 0s\n" + extra)
        continue
    key = line.split("=")[0].strip()
    if key in ("jitter", "cron", "window", "bytes_per_second") or (key == "interval" and section in ("updater", "auditor-deep")):
        continue
    if key == "interval":
        line = "interval = 1h\n"
    out.append(line)
open(sys.argv[2], "w").write("".join(out))
PY
mkdir -p "$GLINT_VAR/etc"
printf '[worker]\nschedule_defaults = %s\n' "$E2E_DIR/schedules.conf" > "$GLINT_VAR/etc/local.conf"
"$qs" > "$E2E_DIR/quickstart.out" 2>&1 || { cat "$E2E_DIR/quickstart.out"; fail "quickstart failed"; e2e_finish; exit 1; }
api=http://127.0.0.1:$(cat "$GLINT_VAR/run/api.port")
log=$GLINT_VAR/log
qs_pg=$(sed -n 's/^GLINT_PG_BIN=//p' "$GLINT_VAR/pg/env")
qs_db=$(sed -n 's/^GLINT_TEST_DATABASE_URL=//p' "$GLINT_VAR/pg/env")
sql() { "$qs_pg/psql" -qAt "${qs_db%/postgres}/glint" -c "$1"; }
ctl() { "$build/bin/glintctl" --config-file "$GLINT_VAR/etc/glintctl.conf" "$@"; }
blob() { echo "$GLINT_VAR/nodes/$1/objects/${2:0:2}/${2:2:2}/$2"; }
pending() { find "$GLINT_VAR/journal/$1" -name '*.jnl' -size +0 2>/dev/null | wc -l; }  # files with records

echo "== two images of 32 MiB, three copies each"
head -c 32M /dev/urandom > "$E2E_DIR/a"
head -c 32M /dev/urandom > "$E2E_DIR/b"
a=$(e2e_upload a "$E2E_DIR/a") && pass || fail "upload a"
b=$(e2e_upload b "$E2E_DIR/b") && pass || fail "upload b"
expect_eq "ok copies of a" "$(sql "select count(*) from replicas where image_id = '$a' and state = 'ok'")" 3
# node2 lost its copy of b (file and row): its replicator has one to make.
rm -f "$(blob node2 "$b")" "$(blob node2 "$b").meta"
sql "delete from replicas where image_id = '$b' and node = 'node2'" > /dev/null
# Invert a byte near the end of node1's copy of a, so the deep audit reaches it well into the outage.
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(-1000, 2); b = f.read(1)[0]; f.seek(-1000, 2); f.write(bytes([b ^ 0xff]))' "$(blob node1 "$a")"
cmp -s "$(blob node1 "$a")" "$E2E_DIR/a" && fail "the flip did not change node1's copy" || pass

echo "== the deep audit and the copy start; PostgreSQL stops for ${outage}s"
ctl audit --deep --no-wait --node node1 > "$E2E_DIR/audit.out" 2>&1 && pass || fail "glintctl audit --deep: $(cat "$E2E_DIR/audit.out")"
ctl run replicator --no-wait --node node2 > "$E2E_DIR/run.out" 2>&1 && pass || fail "glintctl run replicator: $(cat "$E2E_DIR/run.out")"
glint_wait_for 30 grep -q "event=job.claimed" "$log/node1-auditor-deep.log" && pass || fail "the deep audit did not start"
glint_wait_for 30 grep -q "event=copy.source.*image=$b" "$log/node2-replicator.log" && pass || fail "the copy did not start"
# The quickstart's database is the durable one: stopped and started again on its data and port.
"$pgsh" --durable stop "$GLINT_VAR/pg" >> "$E2E_DIR/pg.log" 2>&1 && pass || fail "pg.sh stop: $(tail -3 "$E2E_DIR/pg.log")"
down_at=$(date +%s)
glint_wait_for 45 grep -q "event=audit.bad_replica.*image=$a.*state=corrupt" "$log/node1-auditor-deep.log" &&
  pass || fail "the deep audit did not find the flipped byte during the outage"
glint_wait_for 45 grep -q "event=copy.done.*image=$b" "$log/node2-replicator.log" && pass || fail "the copy did not finish during the outage"
expect_ge "journal files with records on node1" "$(pending node1)" 1
expect_ge "journal files with records on node2" "$(pending node2)" 1
[ -s "$(blob node2 "$b")" ] && pass || fail "node2 has no copy of b"
[ -e "$(blob node1 "$a")" ] && fail "node1 still serves its corrupt copy of a" || pass
api_code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$api/v2/images/$a")
expect_eq "the API while the database is down" "$api_code" 503
left=$((down_at + outage - $(date +%s)))
[ "$left" -gt 0 ] && sleep "$left"  # the outage's length is the scenario, not a synchronisation
"$pgsh" --durable start "$GLINT_VAR/pg" >> "$E2E_DIR/pg.log" 2>&1 && pass || fail "pg.sh start: $(tail -3 "$E2E_DIR/pg.log")"
echo "database down for $(( $(date +%s) - down_at ))s"

echo "== the updaters replay; the bad replica is repaired"
state_of() { sql "select state from replicas where image_id = '$1' and node = '$2'"; }
# An updater pass that finished after the restart with nothing left pending, having replayed some.
replayed() {
  [ "$(sql "select count(*) from worker_passes where worker = 'updater' and node = '$1' and ok and backlog = 0
             and finished_at > to_timestamp($up_at)")" = 1 ]
}
up_at=$(date +%s)
for n in node1 node2; do
  glint_wait_for 60 replayed "$n" && pass || fail "$n's updater did not replay its journal: $(grep 'pass\.' "$log/$n-updater.log" | tail -2)"
  grep "event=pass.done" "$log/$n-updater.log" | grep -q "replayed=[1-9]" && pass || fail "$n's updater replayed nothing"
done
# Marked corrupt by the replay (or already repaired by a replicator the finding's event woke).
st=$(state_of "$a" node1)
[ "$st" = corrupt ] || { [ "$st" = ok ] && cmp -s "$(blob node1 "$a")" "$E2E_DIR/a"; } && pass ||
  fail "node1's copy of a after the replay: $st"
expect_eq "node2's copy of b, from its journal" "$(state_of "$b" node2)" ok
# The stores heartbeat again within their interval; until then node1's replicator sees no live source.
fresh_nodes() { [ "$(sql "select count(*) from nodes where last_heartbeat > to_timestamp($up_at)")" = 3 ]; }
glint_wait_for 60 fresh_nodes && pass || fail "the stores did not heartbeat after the restart"
ctl run replicator --node node1 > "$E2E_DIR/run1.out" 2>&1 && pass || fail "glintctl run replicator --node node1"
glint_wait_for 60 eval '[ "$(state_of "$a" node1)" = ok ] && cmp -s "$(blob node1 "$a")" "$E2E_DIR/a"' && pass ||
  fail "node1's copy of a not repaired (row $(state_of "$a" node1))"
grep -q "event=audit.bad_replica.*image=$a" "$log/node1-auditor-deep.log" && pass || fail "no finding logged"
expect_eq "corrupt copies counted once repaired" "$(sql "select count(*) from replicas where state <> 'ok'")" 0
expect_eq "images without 3 ok copies" "$(sql "select count(*) from images i where status = 'active' and 3 <> (select count(*) from replicas r where r.image_id = i.id and r.state = 'ok')")" 0
for id in "$a" "$b"; do
  f=$E2E_DIR/a; [ "$id" = "$b" ] && f=$E2E_DIR/b
  curl -sf -o "$E2E_DIR/dl" "$api/v2/images/$id/file" && cmp -s "$E2E_DIR/dl" "$f" && pass || fail "download of $id differs"
done
expect_eq "journal backlog in worker_passes" "$(sql "select coalesce(sum(backlog), 0) from worker_passes where worker = 'updater'")" 0
e2e_finish
