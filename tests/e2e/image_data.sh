#!/usr/bin/env bash
# Image data through glint-api on a three-node cluster: uploads fanned out to the glint-store nodes,
# verified downloads, and storage nodes failing during transfers. Drives the real glance and
# openstack CLIs and curl against real processes.
# Usage: image_data.sh BUILD_DIR   (the ctest fixture `pg` provides the database)
source "$(dirname "$0")/lib.sh"
build=$1
db=$(e2e_database "$build" "e2e_data_$$")
e2e_start_stores "$build" "$db" 3
e2e_start_api "$build" "$db" "[cluster]
replicas = 3
write_quorum = 2
node_down_after = 30s
[api]
image_size_cap = 1T
delayed_delete = false
peer_timeout = 10s"
api=http://127.0.0.1:$API_PORT
api_log=$E2E_DIR/api.log
MiB=$((1024 * 1024))
rate=64M  # client rate limit of the transfers a store is killed during: 256 MiB take about 4 s

# ---------------------------------------------------------------------------------------------
# Helpers

section() { echo "== $*"; }
same() {  # same WHAT EXPECTED_FILE ACTUAL_FILE
  if cmp -s "$2" "$3"; then pass; else fail "$1: $3 differs from $2 ($(stat -c %s "$3" 2>/dev/null || echo no) bytes)"; fi
}
exists() { if [ -e "$1" ]; then echo present; else echo absent; fi; }

# new_image NAME [DISK_FORMAT] -> id of a new queued image (empty if the API refused).
new_image() {
  curl -s -X POST -H 'Content-Type: application/json' \
    -d "{\"name\": \"$1\", \"disk_format\": \"${2:-raw}\", \"container_format\": \"bare\"}" \
    "$api/v2/images" | json_get "d['id']" 2>/dev/null || true
}
# put_file ID FILE [CURL_ARGS...] -> HTTP status of PUT /v2/images/ID/file with FILE as the body.
put_file() {
  local id=$1 file=$2
  shift 2
  curl -s -o "$E2E_DIR/put.body" -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
    -T "$file" "$@" "$api/v2/images/$id/file" || true
}
# get_file ID OUT [CURL_ARGS...] -> HTTP status of GET /v2/images/ID/file, body saved to OUT.
get_file() {
  local id=$1 out=$2
  shift 2
  curl -s -o "$out" -w '%{http_code}' "$@" "$api/v2/images/$id/file" || true
}
http_status() { curl -s -o /dev/null -w '%{http_code}' "$@" || true; }
# image_field ID EXPR -> the Python expression EXPR over the image document d ('?' if none).
image_field() { curl -s "$api/v2/images/$1" | json_get "$2" 2>/dev/null || echo '?'; }
# table_field KEY < glance table -> the value in KEY's row.
table_field() { awk -F'|' -v k="$1" '{ f = $2; gsub(/ /, "", f) } f == k { v = $3; gsub(/ /, "", v); print v }'; }

replicas_in() { e2e_psql "select count(*) from replicas where image_id = '$1' and state = '$2'"; }  # ID STATE
replica_state() { e2e_psql "select state from replicas where image_id = '$1' and node = '$2'"; }   # ID NODE
replica_is() { [ "$(replica_state "$1" "$2")" = "$3" ]; }                                             # ID NODE STATE

blob_path() { echo "${STORE_DIR[$1]}/objects/${2:0:2}/${2:2:2}/$2"; }  # NODE ID
# files_of ID NODE... -> every file named after image ID under the nodes' objects/ and tmp/.
files_of() {
  local id=$1 n
  shift
  for n in "$@"; do find "${STORE_DIR[$n]}/objects" "${STORE_DIR[$n]}/tmp" -name "$id*" 2>/dev/null || true; done
}
no_files_of() { [ -z "$(files_of "$@")" ]; }
size_at_least() { [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }  # FILE BYTES

# log_lines -> current number of lines in the API log (a mark for `sources`).
log_lines() { wc -l < "$api_log" 2>/dev/null || echo 0; }
# sources ID [MARK] -> the node of every event=download.source line for image ID after line MARK of
# the API log, in order: the first replica a download read, then every failover.
sources() {
  tail -n +"$((${2:-0} + 1))" "$api_log" 2>/dev/null |
    awk -v id="$1" '/(^| )event=download\.source( |$)/ && index($0, " image=" id) {
      for (i = 1; i <= NF; i++) if ($i ~ /^node=/) { v = substr($i, 6); gsub(/"/, "", v); print v } }'
}
# serving ID MARK: true once a download of ID after MARK has a source; sets SERVER to it.
serving() { SERVER=$(sources "$1" "$2" | sed -n 1p); [ -n "$SERVER" ]; }
# receiving ID: true once a running store's tmp/ holds more than 1 MiB of an upload of image ID;
# sets RECEIVER to that store.
receiving() {
  local n
  for n in "${STORE_NODES[@]}"; do
    [ -n "${STORE_PID[$n]:-}" ] || continue
    if [ -n "$(find "${STORE_DIR[$n]}/tmp" -name "$1.*.tmp" -size +1M 2>/dev/null)" ]; then
      RECEIVER=$n
      return 0
    fi
  done
  return 1
}
# ended PID: true once the client PID has exited (there is no point waiting for its transfer).
ended() { ! glint_alive "$1"; }
# upload_underway ID PID: a store receives the upload of ID (RECEIVER), or the client PID ended.
upload_underway() { receiving "$1" || ended "$2"; }
# download_underway ID MARK OUT PID: a store serves the download of ID started after log line MARK
# (SERVER) and 16 MiB have reached OUT, or the client PID ended.
download_underway() { { serving "$1" "$2" && size_at_least "$3" $((16 * MiB)); } || ended "$4"; }
flip_byte() {  # flip_byte FILE OFFSET: inverts one byte in place.
  python3 - "$1" "$2" <<'PY'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0xFF]))
PY
}

# Test data, generated once.
f8=$E2E_DIR/f8.raw
f256=$E2E_DIR/f256.raw
qcow=$E2E_DIR/f2.qcow2
head -c 8M /dev/urandom > "$f8"
head -c 256M /dev/urandom > "$f256"
qemu-img create -q -f qcow2 "$qcow" 64M
md5_8=$(md5sum < "$f8" | cut -d' ' -f1)
sha512_8=$(sha512sum < "$f8" | cut -d' ' -f1)
md5_256=$(md5sum < "$f256" | cut -d' ' -f1)

# ---------------------------------------------------------------------------------------------
# 1. glance: upload with image-create --file, digests and replicas, download, download of a queued
#    image, deactivate/reactivate, a Range request, delete (data gone from every node).
section "1. glance upload, download, Range, deactivate, delete"
check_glance() {
  local out id q rc n
  out=$(glance_cli image-create --name data1 --disk-format raw --container-format bare --file "$f8") ||
    fail "1: glance image-create --file exited $?"
  id=$(table_field id <<<"$out")
  [ -n "$id" ] || { fail "1: image-create printed no id"; return; }
  expect_eq "1: status" "$(image_field "$id" "d['status']")" active
  expect_eq "1: size" "$(image_field "$id" "d['size']")" $((8 * MiB))
  expect_eq "1: checksum" "$(image_field "$id" "d['checksum']")" "$md5_8"
  expect_eq "1: os_hash_algo" "$(image_field "$id" "d['os_hash_algo']")" sha512
  expect_eq "1: os_hash_value" "$(image_field "$id" "d['os_hash_value']")" "$sha512_8"
  expect_eq "1: ok replicas" "$(replicas_in "$id" ok)" 3
  for n in "${STORE_NODES[@]}"; do
    expect_eq "1: blob file on $n" "$(exists "$(blob_path "$n" "$id")")" present
  done

  glance_cli image-download --file "$E2E_DIR/d1" "$id" || fail "1: glance image-download exited $?"
  same "1: glance image-download" "$f8" "$E2E_DIR/d1"

  # A queued image has no data: Glance answers 204 and glanceclient says so; nothing is written.
  q=$(glance_cli image-create --name queued1 --disk-format raw --container-format bare | table_field id) || true
  if [ -n "$q" ]; then
    expect_eq "1: GET /file of a queued image" "$(get_file "$q" "$E2E_DIR/dq.curl")" 204
    rc=0
    glance_cli image-download --file "$E2E_DIR/dq" "$q" > "$E2E_DIR/dq.out" 2>&1 || rc=$?
    echo "   glance image-download of a queued image: exit $rc: $(head -n 1 "$E2E_DIR/dq.out")"
    expect_eq "1: queued download without a traceback" "$(grep -c Traceback "$E2E_DIR/dq.out" || true)" 0
    expect_eq "1: queued download wrote no data" "$(stat -c %s "$E2E_DIR/dq" 2>/dev/null || echo 0)" 0
    expect_eq "1: delete the queued image" "$(http_status -X DELETE "$api/v2/images/$q")" 204
  else
    fail "1: image-create without data printed no id"
  fi

  glance_cli image-deactivate "$id" || fail "1: image-deactivate exited $?"
  # No-auth requests are admin (as in Glance), so they may still download; a non-admin project gets
  # 403 (identity_conformance_test replays that from the real Glance).
  expect_eq "1: status after deactivate" "$(curl -sf "$api/v2/images/$id" | json_get "d['status']")" deactivated
  expect_eq "1: admin download of a deactivated image" "$(get_file "$id" "$E2E_DIR/d1.deact")" 200
  glance_cli image-reactivate "$id" || fail "1: image-reactivate exited $?"
  expect_eq "1: download after reactivate" "$(get_file "$id" "$E2E_DIR/d1.react")" 200
  same "1: download after reactivate" "$f8" "$E2E_DIR/d1.react"

  dd if="$f8" of="$E2E_DIR/range.want" bs=100 skip=1 count=1 status=none  # bytes 100..199
  expect_eq "1: Range request status" "$(get_file "$id" "$E2E_DIR/range.got" -H 'Range: bytes=100-199')" 206
  same "1: Range request bytes" "$E2E_DIR/range.want" "$E2E_DIR/range.got"

  glance_cli image-delete "$id" || fail "1: image-delete exited $?"
  expect_eq "1: deleted image" "$(http_status "$api/v2/images/$id")" 404
  glint_wait_for 15 no_files_of "$id" "${STORE_NODES[@]}" ||
    fail "1: blob files of the deleted image remain: $(files_of "$id" "${STORE_NODES[@]}" | tr '\n' ' ')"
  rm -f "$E2E_DIR"/d1*
}
check_glance

# ---------------------------------------------------------------------------------------------
# 2. openstack: a real qcow2 through image create --file, image save, image delete.
section "2. openstack image create / save / delete (qcow2)"
check_openstack() {
  local id
  id=$(openstack_cli image create --file "$qcow" --disk-format qcow2 --container-format bare data2 -f value -c id) ||
    fail "2: openstack image create exited $?"
  [ -n "$id" ] || { fail "2: openstack image create printed no id"; return; }
  expect_eq "2: status" "$(image_field "$id" "d['status']")" active
  expect_eq "2: checksum" "$(image_field "$id" "d['checksum']")" "$(md5sum < "$qcow" | cut -d' ' -f1)"
  expect_eq "2: virtual_size from the qcow2 header" "$(image_field "$id" "d['virtual_size']")" $((64 * MiB))
  openstack_cli image save --file "$E2E_DIR/d2" "$id" || fail "2: openstack image save exited $?"
  same "2: openstack image save" "$qcow" "$E2E_DIR/d2"
  openstack_cli image delete "$id" || fail "2: openstack image delete exited $?"
  expect_eq "2: deleted image" "$(http_status "$api/v2/images/$id")" 404
}
check_openstack

# ---------------------------------------------------------------------------------------------
# 2b. Format inspection at upload: a qcow2 with a backing file (CVE-2024-32498 class) and bytes
#     that are not their disk_format are refused with 400 through the real glance client; the
#     image is back to queued with no copy on any node.
section "2b. unsafe and mismatched uploads refused"
check_format_refusals() {
  local id out rc=0
  qemu-img create -q -f qcow2 -b "$qcow" -F qcow2 "$E2E_DIR/child.qcow2"
  id=$(new_image unsafe qcow2)
  out=$(glance_cli image-upload --file "$E2E_DIR/child.qcow2" "$id" 2>&1) || rc=$?
  expect_eq "2b: glance image-upload of a qcow2 with a backing file fails" "$rc" 1
  case $out in *"qcow2 image has a backing file"*) ;; *) fail "2b: glance said: $out" ;; esac
  expect_eq "2b: unsafe image back to queued" "$(image_field "$id" "d['status']")" queued
  expect_eq "2b: no copy of the unsafe image" "$(files_of "$id" "${STORE_NODES[@]}" | wc -l)" 0
  id=$(new_image mismatch qcow2)
  expect_eq "2b: raw bytes declared qcow2" "$(put_file "$id" "$f8")" 400
  expect_eq "2b: mismatched image back to queued" "$(image_field "$id" "d['status']")" queued
  id=$(new_image passthrough ami)
  expect_eq "2b: ami is not compared" "$(put_file "$id" "$qcow")" 204
}
check_format_refusals

# ---------------------------------------------------------------------------------------------
# 3. A store killed -9 while a 256 MiB upload streams to it: the upload succeeds on the other two
#    (write quorum 2), the image is active and downloads intact. The store is restarted after.
section "3. kill -9 a store during an upload"
id3=""
check_kill_during_upload() {
  local up victim="" ok
  id3=$(new_image data3)
  [ -n "$id3" ] || { fail "3: could not create an image"; return; }
  curl -s -o "$E2E_DIR/put3.body" -w '%{http_code}' --limit-rate "$rate" -X PUT \
    -H 'Content-Type: application/octet-stream' -T "$f256" "$api/v2/images/$id3/file" > "$E2E_DIR/put3.code" &
  up=$!
  E2E_PIDS+=("$up")
  RECEIVER=""
  glint_wait_for 30 upload_underway "$id3" "$up" || true
  if [ -n "$RECEIVER" ] && ended "$up"; then
    fail "3: the upload ended before a store could be killed"
  elif [ -n "$RECEIVER" ]; then
    victim=$RECEIVER
    echo "   killing $victim (pid ${STORE_PID[$victim]}) while it receives $id3"
    e2e_stop_store "$victim" KILL
  else
    fail "3: no store received more than 1 MiB of $id3 (upload $(ended "$up" && echo ended || echo 'still running after 30 s'))"
  fi
  wait "$up" || true
  e2e_forget_pid "$up"
  expect_eq "3: upload while a store dies" "$(cat "$E2E_DIR/put3.code")" 204
  [ -z "$victim" ] || expect_eq "3: killed store has no blob" "$(exists "$(blob_path "$victim" "$id3")")" absent
  expect_eq "3: status" "$(image_field "$id3" "d['status']")" active
  expect_eq "3: size" "$(image_field "$id3" "d['size']")" $((256 * MiB))
  expect_eq "3: checksum" "$(image_field "$id3" "d['checksum']")" "$md5_256"
  ok=$(replicas_in "$id3" ok)
  expect_ge "3: ok replicas" "$ok" 2
  expect_eq "3: download status" "$(get_file "$id3" "$E2E_DIR/d3")" 200
  same "3: download after the kill" "$f256" "$E2E_DIR/d3"
  rm -f "$E2E_DIR/d3"
  if [ -n "$victim" ]; then
    e2e_start_store "$victim" || fail "3: could not restart $victim"
    expect_eq "3: restarted $victim dropped the partial upload" "$(files_of "$id3" "$victim" | wc -l)" 0
  fi
}
check_kill_during_upload

# ---------------------------------------------------------------------------------------------
# 4. The store serving a 256 MiB download killed -9 mid-stream: the API continues from another
#    replica at the same offset; the client gets every byte and the log shows the failover.
section "4. kill -9 the store serving a download"
check_kill_during_download() {
  local id=$id3 mark dl rc server="" src
  if [ -z "$id" ] || [ "$(image_field "$id" "d['status']")" != active ]; then
    id=$(new_image data4)
    [ -n "$id" ] || { fail "4: could not create an image"; return; }
    expect_eq "4: upload" "$(put_file "$id" "$f256")" 204
  fi
  mark=$(log_lines)
  curl -s -o "$E2E_DIR/d4" -w '%{http_code}' --limit-rate "$rate" "$api/v2/images/$id/file" > "$E2E_DIR/get4.code" &
  dl=$!
  E2E_PIDS+=("$dl")
  SERVER=""
  glint_wait_for 30 download_underway "$id" "$mark" "$E2E_DIR/d4" "$dl" || true
  if [ -n "$SERVER" ] && ended "$dl"; then
    fail "4: the download ended before its store could be killed"
  elif [ -n "$SERVER" ] && size_at_least "$E2E_DIR/d4" $((16 * MiB)); then
    server=$SERVER
    echo "   killing $server (pid ${STORE_PID[$server]:-?}) while it serves $id"
    e2e_stop_store "$server" KILL
  else
    fail "4: no event=download.source line for $id in $api_log with 16 MiB received (download $(ended "$dl" && echo ended || echo 'still running after 30 s'))"
  fi
  rc=0
  wait "$dl" || rc=$?
  e2e_forget_pid "$dl"
  expect_eq "4: curl exit status" "$rc" 0
  expect_eq "4: download status" "$(cat "$E2E_DIR/get4.code")" 200
  same "4: download with a failover" "$f256" "$E2E_DIR/d4"
  rm -f "$E2E_DIR/d4"
  mapfile -t src < <(sources "$id" "$mark")
  echo "   download.source nodes: ${src[*]:-none}"
  expect_ge "4: download.source lines" "${#src[@]}" 2
  if [ "${#src[@]}" -ge 2 ] && [ -n "$server" ]; then
    expect_eq "4: failover to another store" "$([ "${src[1]}" != "$server" ] && echo other || echo same)" other
  fi
  if [ -n "$server" ]; then e2e_start_store "$server" || fail "4: could not restart $server"; fi
}
check_kill_during_download

# ---------------------------------------------------------------------------------------------
# 5. One flipped byte in the middle of the replica a download reads first: clients still get the
#    right bytes, the replica's row becomes corrupt and its store quarantines the file.
section "5. corrupt the replica read first"
check_corrupt_replica() {
  local id mark first blob hit=no attempt
  id=$(new_image data5)
  [ -n "$id" ] || { fail "5: could not create an image"; return; }
  expect_eq "5: upload" "$(put_file "$id" "$f8")" 204
  expect_eq "5: ok replicas" "$(replicas_in "$id" ok)" 3
  mark=$(log_lines)
  expect_eq "5: first download status" "$(get_file "$id" "$E2E_DIR/d5")" 200
  first=$(sources "$id" "$mark" | sed -n 1p)
  [ -n "$first" ] || { fail "5: no event=download.source line for $id in $api_log"; return; }
  blob=$(blob_path "$first" "$id")
  [ -f "$blob" ] || { fail "5: no blob file $blob"; return; }
  flip_byte "$blob" $((4 * MiB + 4321))
  echo "   flipped a byte of $blob"
  # The API is expected to read replicas in a stable order; a few downloads allow for it not to.
  for attempt in 1 2 3; do
    mark=$(log_lines)
    expect_eq "5: download $attempt status" "$(get_file "$id" "$E2E_DIR/d5")" 200
    same "5: download $attempt bytes" "$f8" "$E2E_DIR/d5"
    if [ "$(sources "$id" "$mark" | sed -n 1p)" = "$first" ]; then hit=yes; break; fi
  done
  expect_eq "5: a download read the corrupted replica on $first first" "$hit" yes
  glint_wait_for 10 replica_is "$id" "$first" corrupt ||
    fail "5: replica of $id on $first is '$(replica_state "$id" "$first")', want corrupt"
  expect_eq "5: ok replicas left" "$(replicas_in "$id" ok)" 2
  expect_eq "5: corrupt blob left objects/" "$(exists "$blob")" absent
  expect_ge "5: corrupt blob in quarantine/" "$(find "${STORE_DIR[$first]}/quarantine" -name "$id*" | wc -l)" 1
  rm -f "$E2E_DIR/d5"
}
check_corrupt_replica

# ---------------------------------------------------------------------------------------------
# 6. Two of three stores stopped (SIGTERM): uploads fail with 503 (curl and glance), the images stay
#    queued, and once the API has cleaned up nothing of them is left on the live store.
section "6. no write quorum"
check_no_quorum() {
  local live=node1 id idg out rc n x
  for n in node2 node3; do e2e_stop_store "$n" TERM; done
  id=$(new_image data6)
  [ -n "$id" ] || { fail "6: could not create an image"; return; }
  expect_eq "6: upload without quorum" "$(put_file "$id" "$f8")" 503
  expect_eq "6: status after the failed upload" "$(image_field "$id" "d['status']")" queued

  rc=0
  out=$(glance_cli image-create --name data6g --disk-format raw --container-format bare --file "$f8" 2>&1) || rc=$?
  expect_eq "6: glance image-create --file fails" "$([ "$rc" -ne 0 ] && echo nonzero || echo 0)" nonzero
  idg=$(table_field id <<<"$out")
  if [ -n "$idg" ]; then
    expect_eq "6: status of the glance-created image" "$(image_field "$idg" "d['status']")" queued
  else
    fail "6: glance image-create printed no id: $out"
  fi

  for x in $id $idg; do
    glint_wait_for 20 no_files_of "$x" "$live" ||
      fail "6: files of $x left on $live: $(files_of "$x" "$live" | tr '\n' ' ')"
    expect_eq "6: ok replicas of $x" "$(replicas_in "$x" ok)" 0
  done
}
check_no_quorum

# On failure, the tail of every log helps more than the exit status.
if [ "$FAILS" -ne 0 ]; then
  for f in "$api_log" "$E2E_DIR"/node*.log; do
    printf '\n---- %s\n' "$f" >&2
    tail -n 40 "$f" >&2 2>/dev/null || true
  done
fi
e2e_finish
