#!/usr/bin/env bash
# The chaos suite: a quickstart-layout cluster (noauth, its own PostgreSQL, node3's data on a small
# loop-mounted filesystem when root can make one), a mixed workload and a seeded fault schedule for
# CHAOS_MINUTES (default 2), then the invariant checker (tests/chaos/chaos.py). Exits non-zero on
# any violation. The long run: CHAOS_MINUTES=30 CHAOS_MAX_MIB=256 tests/chaos/chaos.sh build
# Knobs: CHAOS_MINUTES, CHAOS_SEED (1), CHAOS_MAX_MIB (8), CHAOS_WORKERS (3), CHAOS_CONVERGE (420 s),
# CHAOS_LOG_DIR (where the logs are copied when a run fails).
# Usage: chaos.sh BUILD_DIR
source "$(dirname "$0")/../e2e/lib.sh"
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
chmod 755 "$E2E_DIR"  # the postgres user must reach $GLINT_VAR/pg
export GLINT_VAR=$E2E_DIR/var GLINT_QUICKSTART_NO_BUILD=1 GLINT_BUILD_DIR=$build GLINT_AUTH=noauth
qs="$root/deploy/quickstart.sh"
mnt=""
stop_all() {
  "$qs" down >/dev/null 2>&1 || true
  if [ -n "$mnt" ]; then umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true; fi
  "$qs" destroy >/dev/null 2>&1 || true
}
trap 'stop_all; e2e_cleanup' EXIT

mkdir -p "$GLINT_VAR/etc" "$GLINT_VAR/nodes/node3"
if [ "$(id -u)" = 0 ] && truncate -s 20G "$E2E_DIR/node3.img" && mkfs.ext4 -q -F "$E2E_DIR/node3.img" 2>/dev/null &&
  mount -o loop "$E2E_DIR/node3.img" "$GLINT_VAR/nodes/node3" 2>/dev/null; then
  mnt=$GLINT_VAR/nodes/node3
  rmdir "$mnt/lost+found" 2>/dev/null || true
else
  echo "chaos: no loop-mounted filesystem (not root, or no loop device): the disk-full fault is left out"
fi
sed -e 's/^interval = .*/interval = 5s/' "$root/schedules/default.conf" > "$E2E_DIR/chaos-schedules.conf"
cat > "$GLINT_VAR/etc/local.conf" <<CONF
[api]
delayed_delete = true
[reaper]
scrub_time = 20s
stale_upload_after = 2m
[worker]
schedule_defaults = $E2E_DIR/chaos-schedules.conf
CONF

"$qs" > "$E2E_DIR/quickstart.out" 2>&1 || { cat "$E2E_DIR/quickstart.out"; echo "chaos: quickstart failed"; exit 1; }
rc=0
python3 "$root/tests/chaos/chaos.py" --var "$GLINT_VAR" --build "$build" --quickstart "$qs" \
  --minutes "${CHAOS_MINUTES:-2}" --seed "${CHAOS_SEED:-1}" --max-mib "${CHAOS_MAX_MIB:-8}" \
  --workers "${CHAOS_WORKERS:-3}" --converge-seconds "${CHAOS_CONVERGE:-420}" ${mnt:+--full-disk "$mnt"} || rc=$?
if [ "$rc" != 0 ] && [ -n "${CHAOS_LOG_DIR:-}" ]; then mkdir -p "$CHAOS_LOG_DIR" && cp -r "$GLINT_VAR/log" "$GLINT_VAR/etc" "$CHAOS_LOG_DIR/"; fi
if [ "$rc" != 0 ]; then
  for f in "$GLINT_VAR"/log/*.log; do echo "--- $(basename "$f")"; grep -E 'level=(error|warn)' "$f" | tail -n 5; done
fi
exit "$rc"
