#!/usr/bin/env bash
# Keystone mode with the real openstack and glance clients (password auth, two projects): a private
# image is invisible to the other project; sharing through members makes it visible once accepted
# and downloadable with the same bytes; admin-only actions (publicize, set owner) are refused to a
# project member and allowed to admin; identity headers a client adds change nothing.
# Usage: keystone_clients.sh BUILD_DIR   (the ctest fixture `pg` provides the database)
source "$(dirname "$0")/lib.sh"
build=$1
here=$(cd "$(dirname "$0")/.." && pwd)
e2e_own_keystone
ks=$E2E_KEYSTONE
db=$(e2e_database "$build" "e2e_keystone_$$")
e2e_start_stores "$build" "$db" 3
e2e_start_api "$build" "$db" "$(cat "$ks/authtoken.ini")
[api]
auth_mode = keystone"
api=http://127.0.0.1:$API_PORT
"$here/support/keystone_admin.py" endpoint "$api"
"$here/support/keystone_admin.py" user projA alice alice-pw member
"$here/support/keystone_admin.py" user projB bob bob-pw member

as() {  # as USER PASSWORD PROJECT CMD...: the real CLI with that user's password
  local u=$1 p=$2 pr=$3
  shift 3
  OS_USERNAME=$u OS_PASSWORD=$p OS_PROJECT_NAME=$pr OS_IMAGE_API_VERSION=2 "$@" <&-
}
alice() { as alice alice-pw projA "$@"; }
bob() { as bob bob-pw projB "$@"; }
admin() { as admin "$OS_PASSWORD" admin "$@"; }

echo "== a private image of projA"
head -c 300000 /dev/urandom > "$E2E_DIR/img"
id=$(alice openstack image create --disk-format raw --container-format bare --private --file "$E2E_DIR/img" -f value -c id private-a)
[[ $id =~ ^[0-9a-f-]{36}$ ]] && pass || fail "alice could not create an image: $id"
expect_eq "alice sees it" "$(alice openstack image list -f value -c ID | grep -c "$id")" 1
expect_eq "bob does not list it" "$(bob openstack image list -f value -c ID | grep -c "$id" || true)" 0
bob openstack image show "$id" > /dev/null 2>&1 && fail "bob can show projA's private image" || pass
bob glance image-download --file "$E2E_DIR/stolen" "$id" > /dev/null 2>&1 && fail "bob downloaded projA's private image" || pass

echo "== sharing through members"
projB=$(admin openstack project show -f value -c id projB)
alice openstack image set --shared "$id" && pass || fail "alice could not share"
alice openstack image add project "$id" "$projB" > /dev/null && pass || fail "alice could not add projB"
expect_eq "pending: not listed" "$(bob openstack image list -f value -c ID | grep -c "$id" || true)" 0
bob openstack image set --accept "$id" && pass || fail "bob could not accept"
expect_eq "accepted: listed" "$(bob openstack image list -f value -c ID | grep -c "$id")" 1
bob glance image-download --file "$E2E_DIR/got" "$id" && cmp -s "$E2E_DIR/img" "$E2E_DIR/got" && pass ||
  fail "bob's download of the shared image differs"
bob openstack image set --name renamed "$id" > /dev/null 2>&1 && fail "a member renamed the owner's image" || pass

echo "== admin-only actions"
alice openstack image set --public "$id" > "$E2E_DIR/pub.err" 2>&1 && fail "a member publicized an image" || pass
grep -qi "publicize_image\|403\|forbidden" "$E2E_DIR/pub.err" && pass || fail "refusal does not say why: $(cat "$E2E_DIR/pub.err")"
token=$("$here/support/keystone_admin.py" token alice alice-pw projA)
code=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "X-Auth-Token: $token" -H 'X-Roles: admin' -H 'X-Project-Id: admin' \
  -H 'Content-Type: application/openstack-images-v2.1-json-patch' -d '[{"op": "replace", "path": "/visibility", "value": "public"}]' \
  "$api/v2/images/$id")
expect_eq "identity headers change nothing" "$code" 403
alice openstack image set --project "$projB" "$id" > /dev/null 2>&1 && fail "a member gave its image away" || pass
admin openstack image set --public "$id" && pass || fail "admin could not publicize"
expect_eq "public now" "$(bob openstack image show -f value -c visibility "$id")" public
alice openstack image delete "$id" && pass || fail "alice could not delete her image"
e2e_finish
