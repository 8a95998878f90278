#!/usr/bin/env bash
# OpenStack's own Images v2 API tests (tempest.api.image.v2, Debian's python3-tempest) against a
# fresh glint cluster in keystone mode: its own PostgreSQL, a loopback Keystone, 3 stores and
# glint-api, all on free ports and all stopped (by PID) on exit. Tests for features glint does not
# have yet are excluded by tests/tempest-excluded.txt, each with its reason.
# Usage: tests/tempest.sh [BUILD_DIR]   (default: build). Ends with
#   tempest-images: N passed, N failed, N skipped
# Exit 0 when nothing failed. Knobs: TEMPEST_CONCURRENCY (2), TEMPEST_REGEX, TEMPEST_KEEP=DIR
# (copy the run's logs there).
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
source "$here/e2e/lib.sh"
py=/usr/bin/python3
tempest_cleanup() {
  local rc=$?
  [ -n "${TEMPEST_KEEP:-}" ] && mkdir -p "$TEMPEST_KEEP" && cp -r "$E2E_DIR/run" "$E2E_DIR"/*.log "$TEMPEST_KEEP/" 2>/dev/null
  e2e_cleanup
  exit $rc
}
trap tempest_cleanup EXIT
for b in tempest stestr subunit2csv keystone-manage uwsgi; do
  command -v "$b" >/dev/null || { echo "tempest.sh: $b not found (see the README's test packages)" >&2; exit 2; }
done

echo "== PostgreSQL, Keystone"
e2e_own_database "$build"
e2e_own_keystone
ks_dir=$E2E_KEYSTONE

echo "== glint: 3 stores, api (auth_mode = keystone)"
db=$(e2e_database "$E2E_BUILD" glint_tempest)
e2e_start_stores "$E2E_BUILD" "$db" 3
# The API node keeps an image cache with its glint-prefetcher (tempest's ImageCachingTest);
# without a bus the prefetcher polls its queue, every second here.
cache_conf="[DEFAULT]
node_name = api
[cache]
dir = $E2E_DIR/cache
# ImageCachingTest expects an image it queues right after uploading it in queued_images, as in
# Glance, whose API nodes do not keep what they take.
fill_on_upload = false"
e2e_start_api "$E2E_BUILD" "$db" "$(cat "$ks_dir/authtoken.ini")
[api]
auth_mode = keystone
$cache_conf"
endpoint=http://127.0.0.1:$API_PORT
printf '[prefetcher]\ninterval = 1s\n' > "$E2E_DIR/schedules.conf"
sed -e "s|^log_file = .*|log_file = $E2E_DIR/prefetcher.log|" "$E2E_DIR/api.conf" > "$E2E_DIR/prefetcher.conf"
printf '[worker]\nschedule_defaults = %s/schedules.conf\nlock_dir = %s/locks\n[journal]\ndir = %s/journal\n' \
  "$E2E_DIR" "$E2E_DIR" "$E2E_DIR" >> "$E2E_DIR/prefetcher.conf"
glint_start_worker "$E2E_BUILD/bin/glint-prefetcher" "$E2E_DIR/prefetcher.conf" prefetcher "$E2E_DIR/prefetcher.pid" \
  "$E2E_DIR/prefetcher.out" "$E2E_DIR/prefetcher.log" || exit 2
E2E_PIDS+=("$(cat "$E2E_DIR/prefetcher.pid")")

# The image service in Keystone's catalog, where tempest looks for it.
"$here/support/keystone_admin.py" endpoint "$endpoint" || { echo "tempest.sh: registering the image endpoint failed" >&2; exit 2; }

echo "== tempest"
ws=$E2E_DIR/ws
mkdir -p "$E2E_DIR/run"
(cd "$E2E_DIR/run" && tempest init --workspace-path "$E2E_DIR/workspace.yaml" --name glint "$ws") > "$E2E_DIR/run/init.log" 2>&1 ||
  { cat "$E2E_DIR/run/init.log" >&2; exit 2; }
rm -f "$ws/etc/logging.conf" "$E2E_DIR/run/tempest.log"  # workers would truncate each other's ./tempest.log
cat > "$ws/etc/tempest.conf" <<CONF
[DEFAULT]
log_dir = $E2E_DIR/run
log_file = tempest.log
debug = True
use_stderr = False
[auth]
use_dynamic_credentials = True
create_isolated_networks = False
admin_username = admin
admin_password = $OS_PASSWORD
admin_project_name = admin
admin_domain_name = Default
default_credentials_domain_name = Default
[identity]
auth_version = v3
uri_v3 = $OS_AUTH_URL
region = RegionOne
v3_endpoint_type = public
[identity-feature-enabled]
api_v2 = False
api_v3 = True
[service_available]
glance = True
nova = False
neutron = False
cinder = False
swift = False
horizon = False
[image]
image_caching_enabled = True
catalog_type = image
region = RegionOne
endpoint_type = public
http_image = http://127.0.0.1:9/tempest-image.img
build_timeout = 120
build_interval = 1
# Uploads are checked against disk_format (as Glance 2024+ does) and tempest uploads random
# bytes: only formats that are not compared, and raw, are offered to it.
disk_formats = ami,ari,aki,raw,ploop
[image-feature-enabled]
api_v1 = False
api_v2 = True
import_image = True
os_glance_reserved = True
manage_locations = False
[enforce_scope]
glance = False
[validation]
run_validation = False
CONF
start=$(date +%s)
set +e  # tempest's own status and the counts are what this script reports
(cd "$ws" && tempest run --workspace-path "$E2E_DIR/workspace.yaml" --regex "${TEMPEST_REGEX:-^tempest\.api\.image\.v2\.}" \
   --exclude-list "$here/tempest-excluded.txt" --concurrency "${TEMPEST_CONCURRENCY:-2}") > "$E2E_DIR/run/console.log" 2>&1
rc=$?
(cd "$ws" && stestr last --subunit) > "$E2E_DIR/run/results.subunit" 2>/dev/null
subunit2csv < "$E2E_DIR/run/results.subunit" > "$E2E_DIR/run/results.csv" 2>/dev/null
# One result per test (a class whose set-up skipped or failed counts once, as "setUpClass (…)").
read -r P F S < <("$py" - "$E2E_DIR/run/results.csv" <<'PY'
import csv, re, sys
status = {}
for r in csv.DictReader(open(sys.argv[1])):
    status[re.sub(r"\[.*\]$", "", r["test"])] = r["status"]
c = {"success": 0, "fail": 0, "skip": 0}
for n, s in sorted(status.items()):
    k = s if s in ("success", "skip") else "fail"
    c[k] += 1
    if k != "success":
        print("%-7s %s" % (k, n), file=sys.stderr)
print(c["success"], c["fail"], c["skip"])
PY
)
excluded=$(grep -cE '^[^#[:space:]]' "$here/tempest-excluded.txt")
echo "wall: $(( $(date +%s) - start ))s   tempest rc: $rc   excluded (tests/tempest-excluded.txt): $excluded patterns"
if [ "${F:-1}" != 0 ]; then
  echo "== failures (tracebacks)"
  grep -E -A25 '^(FAIL|ERROR):|^\{[0-9]+\} .* \[[0-9.]+s\] \.\.\. FAILED' "$E2E_DIR/run/console.log" | head -n 400
fi
echo "tempest-images: ${P:-0} passed, ${F:-0} failed, ${S:-0} skipped"
[ "${P:-0}${F:-0}${S:-0}" != 000 ] || exit 2
[ "${F:-1}" = 0 ] && [ "$rc" = 0 ]
