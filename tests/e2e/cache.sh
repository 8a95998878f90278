#!/usr/bin/env bash
# The image cache on the quickstart layout with two API nodes (real processes, its own PostgreSQL,
# the real glance client): an upload is in its API node's cache at once; queue once and both API
# nodes cache the image; downloads from cache are
# byte-identical, also with every store stopped (an uncached image is then 503); a flipped byte in
# a cache file is never served and the entry is fetched again; 50 parallel downloads of a cold
# 256 MiB image read it from the stores about once; a deleted image is served by neither node and
# leaves both caches; over max_size the least recently used entry is pruned; glintctl cache sees
# both nodes and clears both.
# Usage: cache.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
chmod 755 "$E2E_DIR"  # the postgres user must reach $GLINT_VAR/pg
export GLINT_VAR=$E2E_DIR/var GLINT_QUICKSTART_NO_BUILD=1 GLINT_BUILD_DIR=$build GLINT_AUTH=noauth GLINT_APIS=2
export GLINT_CACHE_MAX_SIZE=300M  # the 256 MiB storm image and one 30 MiB image fit; two do not
qs="$root/deploy/quickstart.sh"
trap '"$qs" destroy >/dev/null 2>&1 || true; e2e_cleanup' EXIT
"$qs" > "$E2E_DIR/quickstart.out" 2>&1 || { cat "$E2E_DIR/quickstart.out"; fail "quickstart failed"; e2e_finish; exit 1; }
run=$GLINT_VAR/run
api=http://127.0.0.1:$(cat "$run/api.port")
api1=$api api2=http://127.0.0.1:$(cat "$run/api2.port")
g() { local u=$1; shift; HOME=$(mktemp -d -p "$E2E_DIR") glance --os-image-url "$u" --os-auth-token dummy "$@" <&-; }
entry() { echo "$GLINT_VAR/cache/$1/objects/${2:0:2}/${2:2:2}/$2"; }
cached_on() { [ -s "$(entry "$1" "$2")" ]; }
code() { curl -s -o "${2:-/dev/null}" -w '%{http_code}' "$1"; }
sent_by_stores() {  # total glint_store_sent_bytes_total of the three stores
  local t=0 n v
  for n in node1 node2 node3; do
    v=$(curl -sf "http://127.0.0.1:$(cat "$run/$n.port")/metrics" | awk '/^glint_store_sent_bytes_total/ {print $2}')
    t=$(python3 -c "print(int($t + float('${v:-0}')))")
  done
  echo "$t"
}

echo "== 1. queue once on api: both API nodes cache it"
head -c 24M /dev/urandom > "$E2E_DIR/a"
a=$(e2e_upload a "$E2E_DIR/a") && pass || fail "upload a"
head -c 4M /dev/urandom > "$E2E_DIR/cold"
cold=$(e2e_upload cold "$E2E_DIR/cold") && pass || fail "upload cold"
# api keeps what it takes ([cache] fill_on_upload): both are cached there at once.
cached_on api "$a" && cached_on api "$cold" && pass || fail "1: the uploads are not in api's cache"
expect_eq "1: make cold cold again (DELETE /v2/cache/ID)" "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$api1/v2/cache/$cold")" 204
g "$api1" cache-queue "$a" && pass || fail "glance cache-queue exited $?"
glint_wait_for 30 bash -c "[ -s '$(entry api "$a")' ] && [ -s '$(entry api2 "$a")' ]" && pass || fail "1: not cached on both nodes"
glint_wait_for 10 bash -c "HOME=\$(mktemp -d -p '$E2E_DIR') glance --os-image-url '$api2' --os-auth-token dummy cache-list <&- | grep -q '$a'" &&
  pass || fail "1: glance cache-list on api2 does not list it"
expect_eq "1: nodes caching a" "$(curl -s "$api1/v2/cache/nodes/$a" | json_get "','.join(d['nodes'])")" "api,api2"

echo "== 2. downloads from cache are byte-identical"
for u in "$api1" "$api2"; do
  expect_eq "2: download from $u" "$(code "$u/v2/images/$a/file" "$E2E_DIR/got")" 200
  cmp -s "$E2E_DIR/a" "$E2E_DIR/got" && pass || fail "2: bytes from $u differ"
done

echo "== 3. every store stopped: the cached image still downloads, an uncached one is 503"
for n in node1 node2 node3; do kill -STOP "$(cat "$run/$n.pid")"; done
for u in "$api1" "$api2"; do
  expect_eq "3: cached download from $u" "$(code "$u/v2/images/$a/file" "$E2E_DIR/got")" 200
  cmp -s "$E2E_DIR/a" "$E2E_DIR/got" && pass || fail "3: bytes from $u differ"
done
for n in node1 node2 node3; do kill -KILL "$(cat "$run/$n.pid")"; done  # stopped stores time out; dead ones refuse at once
expect_eq "3: uncached download" "$(code "$api1/v2/images/$cold/file")" 503
GLINT_QUICKSTART_NO_BUILD=1 "$qs" > "$E2E_DIR/quickstart2.out" 2>&1 || fail "3: restarting the stores"
glint_wait_for 30 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$api1/v2/images/$cold/file')\" = 200 ]" && pass ||
  fail "3: the uncached image does not download after the stores are back"

echo "== 4. a flipped byte in a cache file is never served; the entry is fetched again"
f=$(entry api "$a")
printf '\xff' | dd of="$f" bs=1 seek=5000000 conv=notrunc status=none
expect_eq "4: download with a corrupt cache block" "$(code "$api1/v2/images/$a/file" "$E2E_DIR/got")" 200
cmp -s "$E2E_DIR/a" "$E2E_DIR/got" && pass || fail "4: corrupt bytes were served"
[ -n "$(ls -A "$GLINT_VAR/cache/api/quarantine")" ] && pass || fail "4: the corrupt entry was not quarantined"
expect_eq "4: download after" "$(code "$api1/v2/images/$a/file" "$E2E_DIR/got")" 200
cmp -s "$E2E_DIR/a" "$E2E_DIR/got" && pass || fail "4: bytes after refetch differ"
glint_wait_for 20 cached_on api "$a" && pass || fail "4: not cached again"

echo "== 5. 50 parallel downloads of a cold 256 MiB image read it from the stores about once"
head -c 256M /dev/urandom > "$E2E_DIR/big"
big=$(e2e_upload big "$E2E_DIR/big") && pass || fail "upload big"
expect_eq "5: big out of api's cache" "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$api1/v2/cache/$big")" 204
size=$(stat -c %s "$E2E_DIR/big")
want=$(md5sum < "$E2E_DIR/big")
before=$(sent_by_stores)
pids=()
for i in $(seq 1 50); do (curl -s "$api1/v2/images/$big/file" | md5sum > "$E2E_DIR/storm.$i") & pids+=($!); done
wait "${pids[@]}"
after=$(sent_by_stores)
same=0
for i in $(seq 1 50); do [ "$(cat "$E2E_DIR/storm.$i")" = "$want" ] && same=$((same + 1)); done
expect_eq "5: clients with identical bytes" "$same" 50
ratio=$(python3 -c "print(f'{($after - $before) / $size:.3f}')")
echo "   stores sent $((after - before)) bytes for $size: ratio $ratio"
python3 -c "import sys; sys.exit(0 if ($after - $before) <= 1.1 * $size else 1)" && pass || fail "5: stores sent $ratio x the image"

echo "== 6. deleted: neither node serves it, both caches drop it"
expect_eq "6: delete" "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$api1/v2/images/$a")" 204
for u in "$api1" "$api2"; do expect_eq "6: download from $u" "$(code "$u/v2/images/$a/file")" 404; done
glint_wait_for 30 bash -c "! [ -e '$(entry api "$a")' ] && ! [ -e '$(entry api2 "$a")' ]" && pass || fail "6: a cache still holds it"

echo "== 7. over max_size (300M): the least recently used entry is pruned"
head -c 30M /dev/urandom > "$E2E_DIR/c1"
head -c 30M /dev/urandom > "$E2E_DIR/c2"
c1=$(e2e_upload c1 "$E2E_DIR/c1") && pass || fail "upload c1"
cached_on api "$c1" && cached_on api "$big" && pass || fail "7: c1 and big are not both cached on api"
expect_eq "7: big (a hit: now more recent than c1)" "$(curl -s "$api1/v2/images/$big/file" | md5sum)" "$want"
c2=$(e2e_upload c2 "$E2E_DIR/c2") && pass || fail "upload c2"
cached_on api "$c2" && pass || fail "7: c2 not cached on api"
# The prefetcher prunes on its schedule; POST /v2/cache/prune does it now (either may win).
expect_eq "7: POST /v2/cache/prune" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$api1/v2/cache/prune")" 200
! cached_on api "$c1" && pass || fail "7: c1 (least recently used) is still cached"
cached_on api "$big" && cached_on api "$c2" && pass || fail "7: big or c2 was pruned"

echo "== 8. glintctl cache: every API node's cache at once"
ctl() { "$build/bin/glintctl" --config-file "$GLINT_VAR/etc/glintctl.conf" "$@"; }
expect_eq "8: glintctl cache nodes big" "$(ctl --json cache nodes "$big" | json_get "','.join(d['nodes'])")" "api"
ctl cache list > "$E2E_DIR/cache-list.txt" && grep -q "$c2" "$E2E_DIR/cache-list.txt" && pass || fail "8: glintctl cache list"
ctl --json cache queue "$c2" > /dev/null && pass || fail "8: glintctl cache queue"
glint_wait_for 30 cached_on api2 "$c2" && pass || fail "8: queued by glintctl, api2 did not cache c2"
ctl cache clear > /dev/null && pass || fail "8: glintctl cache clear"
glint_wait_for 30 bash -c "[ -z \"\$(find '$GLINT_VAR/cache/api/objects' '$GLINT_VAR/cache/api2/objects' -type f 2>/dev/null)\" ]" &&
  pass || fail "8: after glintctl cache clear a cache still holds files"
e2e_finish
