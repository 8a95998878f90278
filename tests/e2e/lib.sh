# Helpers for end-to-end scripts (source it). Every process started here is stopped by PID on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../deploy/lib.sh"  # glint_start_service, glint_wait_for
E2E_PIDS=()
e2e_cleanup() {
  for pid in "${E2E_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${E2E_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
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

# e2e_database BUILD_DIR NAME -> prints the URL of a fresh database on the test cluster.
e2e_database() {
  local env=$1/pg/env admin bin
  admin=$(sed -n 's/^GLINT_TEST_DATABASE_URL=//p' "$env")
  bin=$(sed -n 's/^GLINT_PG_BIN=//p' "$env")
  "$bin/psql" -q "$admin" -c "create database $2" >/dev/null
  echo "${admin%/postgres}/$2"
}

# e2e_start_api BUILD_DIR DB_URL -> starts glint-api on a free port; sets API_PORT.
e2e_start_api() {
  local conf=$E2E_DIR/api.conf
  printf '[DEFAULT]\nlog_file = %s/api.log\n[database]\nconnection = %s\n[api]\nbind_port = 0\nport_file = %s/api.port\n' \
    "$E2E_DIR" "$2" "$E2E_DIR" > "$conf"
  glint_start_service "$1/bin/glint-api" "$conf" glint-api "$E2E_DIR/api.pid" "$E2E_DIR/api.out" "$E2E_DIR/api.port" ||
    { cat "$E2E_DIR/api.out" "$E2E_DIR/api.log" >&2; return 1; }
  E2E_PIDS+=("$(cat "$E2E_DIR/api.pid")")
  API_PORT=$(cat "$E2E_DIR/api.port")
}

# The clients cache the image schema in ~/.glanceclient (and glanceclient 4.1 then trips over
# Glance 25's own schema), so every call gets a fresh HOME. stdin is closed: glanceclient
# uploads a non-TTY stdin.
glance_cli() { HOME=$(mktemp -d -p "$E2E_DIR") glance --os-image-url "http://127.0.0.1:$API_PORT" --os-auth-token dummy "$@" <&-; }
openstack_cli() { HOME=$(mktemp -d -p "$E2E_DIR") openstack --os-auth-type none --os-endpoint "http://127.0.0.1:$API_PORT" "$@" <&-; }
json_get() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {'d': d}))" "$1"; }

e2e_finish() {
  echo "$PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}
