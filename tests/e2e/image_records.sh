#!/usr/bin/env bash
# Image records (no data yet) through the real glance and openstack CLIs against glint-api.
# Usage: image_records.sh BUILD_DIR   (the ctest fixture `pg` provides the database)
source "$(dirname "$0")/lib.sh"
build=$1
e2e_start_api "$build" "$(e2e_database "$build" "e2e_records_$$")"

# glance: create, show, update, tags, list with filters and sorting, delete.
id=$(glance_cli image-create --name alpha --disk-format qcow2 --container-format bare --property hw_disk_bus=virtio \
       --min-ram 128 | awk -F'|' '$2 ~ /^ id /{gsub(/ /,"",$3); print $3}')
[ -n "$id" ] || { fail "image-create returned no id"; e2e_finish; exit 1; }
show=$(curl -sf "http://127.0.0.1:$API_PORT/v2/images/$id")
expect_eq "status after create" "$(json_get "d['status']" <<<"$show")" queued
expect_eq "custom property" "$(json_get "d['hw_disk_bus']" <<<"$show")" virtio
expect_eq "min_ram" "$(json_get "d['min_ram']" <<<"$show")" 128

glance_cli image-update "$id" --name alpha2 --property color=red >/dev/null
glance_cli image-update "$id" --remove-property hw_disk_bus >/dev/null
show=$(curl -sf "http://127.0.0.1:$API_PORT/v2/images/$id")
expect_eq "renamed" "$(json_get "d['name']" <<<"$show")" alpha2
expect_eq "property added" "$(json_get "d.get('color')" <<<"$show")" red
expect_eq "property removed" "$(json_get "'hw_disk_bus' in d" <<<"$show")" False

glance_cli image-tag-update "$id" blue >/dev/null
glance_cli image-tag-update "$id" green >/dev/null
glance_cli image-tag-delete "$id" green >/dev/null
expect_eq "tags" "$(curl -sf "http://127.0.0.1:$API_PORT/v2/images/$id" | json_get "d['tags']")" "['blue']"

id2=$(glance_cli image-create --name beta --disk-format raw --container-format bare | awk -F'|' '$2 ~ /^ id /{gsub(/ /,"",$3); print $3}')
listing=$(glance_cli image-list --sort-key name --sort-dir asc)
expect_eq "sorted list" "$(awk -F'|' 'NR>3 && NF>2 {gsub(/ /,"",$3); printf "%s,", $3}' <<<"$listing")" "alpha2,beta,"
filtered=$(glance_cli image-list --tag blue)
expect_eq "tag filter" "$(grep -c "$id" <<<"$filtered")" 1
expect_eq "tag filter excludes" "$(grep -c "$id2" <<<"$filtered" || true)" 0

# openstack: set / unset / show / list / delete.
openstack_cli image set --property owner_team=ops "$id2"
expect_eq "openstack set" "$(openstack_cli image show "$id2" -f json | json_get "d['properties'].get('owner_team')")" ops
openstack_cli image unset --property owner_team "$id2"
expect_eq "openstack unset" "$(openstack_cli image show "$id2" -f json | json_get "'owner_team' in d['properties']")" False
expect_eq "openstack list" "$(openstack_cli image list -f value -c Name | sort | tr '\n' ,)" "alpha2,beta,"
openstack_cli image delete "$id2"
glance_cli image-delete "$id"
expect_eq "all deleted" "$(openstack_cli image list -f value | wc -l)" 0
expect_eq "deleted image is 404" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$API_PORT/v2/images/$id")" 404

e2e_finish
