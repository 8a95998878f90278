#!/usr/bin/env python3
"""Record the answers of a running reference Glance as JSON fixtures.

Usage: record_fixtures.py noauth|fakeauth PORT OUTDIR

Each case becomes OUTDIR/<name>.json:
  {"request":  {"method", "path", "headers", "body"},
   "response": {"status", "headers": {Content-Type, Location, Content-Range,
                                       Allow, Content-Length (when present)},
                "body": <parsed JSON, or the text, or "" when empty>}}
Requests are sent with http.client exactly as recorded (no extra headers).
"""
import http.client
import json
import os
import sys

KEEP = ("content-type", "location", "content-range", "allow", "content-length")
PATCH_CT = "application/openstack-images-v2.1-json-patch"
JSON_CT = "application/json"
# 4096 bytes of ASCII, so that the fixtures can hold the data as a string
DATA = ("glint reference fixture data 0123456789abcdef\n" * 100)[:4096]

MODE, PORT, OUT = sys.argv[1], int(sys.argv[2]), sys.argv[3]
HOST = "127.0.0.1:%d" % PORT
os.makedirs(OUT, exist_ok=True)
written = []


def call(name, method, path, body=None, headers=None, accept="application/json",
         token=None, raw=False):
    """Send one request; save it as OUTDIR/name.json (unless name is None).

    body: dict/list -> JSON text; str -> sent as is (raw).
    Returns (status, parsed body, response headers dict lower-cased)."""
    hdrs = {"Host": HOST}
    if accept:
        hdrs["Accept"] = accept
    if token is not None:
        hdrs["X-Auth-Token"] = token
    payload = None
    if body is not None:
        payload = body if isinstance(body, str) else json.dumps(body)
        hdrs["Content-Type"] = JSON_CT
    for k, v in (headers or {}).items():
        if v is None:
            hdrs.pop(k, None)
        else:
            hdrs[k] = v
    if payload is not None:
        hdrs["Content-Length"] = str(len(payload.encode()))
    elif method in ("POST", "PUT", "PATCH"):
        hdrs["Content-Length"] = "0"

    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for k, v in hdrs.items():
        conn.putheader(k, v)
    conn.endheaders(payload.encode() if payload is not None else None)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    rh = {}
    for k, v in resp.getheaders():
        if k.lower() in KEEP:
            rh[k] = v
    text = data.decode("utf-8", errors="replace")
    try:
        rbody = json.loads(text) if text else ""
    except ValueError:
        rbody = text
    if payload is None:
        reqbody = None
    else:
        try:
            reqbody = payload if raw else json.loads(payload)
        except ValueError:
            reqbody = payload
    if name:
        rec = {"request": {"method": method, "path": path, "headers": hdrs,
                           "body": reqbody},
               "response": {"status": resp.status, "headers": rh,
                            "body": rbody}}
        fn = os.path.join(OUT, name + ".json")
        if os.path.exists(fn):
            raise SystemExit("duplicate fixture name " + name)
        with open(fn, "w") as f:
            json.dump(rec, f, indent=2)
            f.write("\n")
        written.append(name)
        print("%-55s %s" % (name, resp.status))
    return resp.status, rbody, {k.lower(): v for k, v in resp.getheaders()}


def create(name, body, **kw):
    st, b, _ = call(name, "POST", "/v2/images", body, **kw)
    assert st == 201, (name, st, b)
    return b["id"]


def upload(name, iid, data=DATA, **kw):
    st, b, _ = call(name, "PUT", "/v2/images/%s/file" % iid, data,
                    headers={"Content-Type": "application/octet-stream"},
                    raw=True, **kw)
    assert st == 204, (name, st, b)


def patch(name, iid, ops, headers=None, **kw):
    h = {"Content-Type": PATCH_CT}
    h.update(headers or {})
    return call(name, "PATCH", "/v2/images/" + iid, ops, headers=h, **kw)


def noauth():
    # ---- version discovery ----
    call("versions_root", "GET", "/")
    call("versions_versions", "GET", "/versions")
    call("versions_v2_redirect", "GET", "/v2")
    call("versions_v2_slash", "GET", "/v2/")
    call("versions_images", "GET", "/images")
    call("versions_root_no_accept", "GET", "/", accept=None)
    call("healthcheck", "GET", "/healthcheck", accept=None)

    # ---- schemas (glance / openstack clients fetch image, member,
    #      metadefs/namespace, metadefs/resource_type, task) ----
    for s in ("image", "images", "member", "members", "task", "tasks",
              "metadefs/namespace", "metadefs/namespaces",
              "metadefs/resource_type", "metadefs/resource_types",
              "metadefs/property", "metadefs/properties",
              "metadefs/object", "metadefs/objects",
              "metadefs/tag", "metadefs/tags"):
        call("schema_" + s.replace("/", "_"), "GET", "/v2/schemas/" + s)
    call("info_import", "GET", "/v2/info/import")
    call("info_stores_single_store", "GET", "/v2/info/stores")
    call("metadefs_namespaces_list", "GET", "/v2/metadefs/namespaces?limit=20")

    # ---- image lifecycle ----
    call("image_list_empty", "GET", "/v2/images")
    a = create("image_create_minimal", {})
    b = create("image_create_full", {
        "name": "fixture-full", "disk_format": "qcow2",
        "container_format": "bare", "min_disk": 1, "min_ram": 512,
        "tags": ["alpha", "beta"], "visibility": "shared",
        "protected": False, "foo": "bar", "hw_disk_bus": "virtio"})
    call("image_get_queued", "GET", "/v2/images/" + b)
    c = create("image_create_third", {"name": "fixture-third",
                                       "disk_format": "raw",
                                       "container_format": "bare"})
    call("image_list_all", "GET", "/v2/images")
    st, page, _ = call("image_list_limit2", "GET", "/v2/images?limit=2")
    call("image_list_limit2_next", "GET", page["next"])
    call("image_list_sorted_name_asc", "GET",
         "/v2/images?limit=200&sort_key=name&sort_dir=asc")
    call("image_list_filter_property", "GET", "/v2/images?foo=bar")
    call("image_list_filter_tag", "GET", "/v2/images?tag=alpha")
    call("image_list_filter_name", "GET", "/v2/images?name=fixture-third")

    # PATCH on a custom property and on name (minimal image a)
    patch("image_patch_add_property", a,
          [{"op": "add", "path": "/color", "value": "red"}])
    patch("image_patch_replace_property", a,
          [{"op": "replace", "path": "/color", "value": "blue"}])
    patch("image_patch_add_existing_property", a,
          [{"op": "add", "path": "/color", "value": "green"}])
    patch("image_patch_remove_property", a,
          [{"op": "remove", "path": "/color"}])
    patch("image_patch_add_name", a,
          [{"op": "add", "path": "/name", "value": "fixture-minimal"}])
    patch("image_patch_replace_name", a,
          [{"op": "replace", "path": "/name", "value": "fixture-renamed"}])
    patch("image_patch_remove_name", a,
          [{"op": "remove", "path": "/name"}])
    patch("image_patch_multi_ops", a,
          [{"op": "add", "path": "/k2", "value": "v2"},
           {"op": "replace", "path": "/name", "value": "fixture-multi"},
           {"op": "add", "path": "/tags", "value": ["t1", "t2"]}])
    patch("image_patch_replace_name_null", a,
          [{"op": "replace", "path": "/name", "value": None}])
    patch("image_patch_replace_visibility_private", a,
          [{"op": "replace", "path": "/visibility", "value": "private"}])
    patch("image_patch_replace_min_ram", a,
          [{"op": "replace", "path": "/min_ram", "value": 1024}])

    # tags
    call("image_tag_put", "PUT", "/v2/images/%s/tags/gamma" % a)
    call("image_tag_delete", "DELETE", "/v2/images/%s/tags/gamma" % a)
    call("image_get_after_tags", "GET", "/v2/images/" + a)

    # upload / download (b is qcow2: random bytes -> virtual_size null)
    call("image_get_file_queued", "GET", "/v2/images/%s/file" % b)
    upload("image_upload", b)
    call("image_get_active", "GET", "/v2/images/" + b)
    call("image_download", "GET", "/v2/images/%s/file" % b)
    call("image_download_range", "GET", "/v2/images/%s/file" % b,
         headers={"Range": "bytes=0-9"})
    call("image_download_range_open_end", "GET", "/v2/images/%s/file" % b,
         headers={"Range": "bytes=4090-"})
    call("image_download_range_suffix", "GET", "/v2/images/%s/file" % b,
         headers={"Range": "bytes=-6"})
    # raw image: virtual_size = size
    d = create("image_create_raw_for_upload", {"name": "fixture-raw",
                                                "disk_format": "raw",
                                                "container_format": "bare"})
    upload("image_upload_raw", d)
    call("image_get_active_raw", "GET", "/v2/images/" + d)
    e = create(None, {"name": "fixture-empty", "disk_format": "raw",
                      "container_format": "bare"})
    upload("image_upload_zero_bytes", e, data="")
    call("image_get_active_zero_bytes", "GET", "/v2/images/" + e)

    # deactivate / reactivate
    call("image_deactivate", "POST", "/v2/images/%s/actions/deactivate" % b)
    call("image_deactivate_again", "POST", "/v2/images/%s/actions/deactivate" % b)
    call("image_get_deactivated", "GET", "/v2/images/" + b)
    call("image_download_deactivated_noauth", "GET", "/v2/images/%s/file" % b)
    call("image_reactivate", "POST", "/v2/images/%s/actions/reactivate" % b)
    call("image_reactivate_again", "POST", "/v2/images/%s/actions/reactivate" % b)
    call("image_get_reactivated", "GET", "/v2/images/" + b)

    # members (noauth: no tenants, but the calls work)
    call("image_member_create_noauth", "POST", "/v2/images/%s/members" % b,
         {"member": "projX"})
    call("image_member_list_noauth", "GET", "/v2/images/%s/members" % b)

    # delete
    call("image_delete", "DELETE", "/v2/images/" + c)
    call("image_get_after_delete", "GET", "/v2/images/" + c)

    # ---- bad input (glance.md table), noauth ----
    call("error_create_malformed_json", "POST", "/v2/images", '{"name": ',
         raw=True)
    call("error_create_body_array", "POST", "/v2/images", [1, 2])
    call("error_create_no_body", "POST", "/v2/images")
    call("error_create_content_type_text_plain", "POST", "/v2/images",
         {"name": "ct-text-plain"}, headers={"Content-Type": "text/plain"})
    call("error_create_no_content_type", "POST", "/v2/images",
         {"name": "ct-none"}, headers={"Content-Type": None})
    call("error_create_bogus_disk_format", "POST", "/v2/images",
         {"disk_format": "bogus"})
    call("error_create_bogus_container_format", "POST", "/v2/images",
         {"container_format": "bogus"})
    call("error_create_min_ram_string", "POST", "/v2/images",
         {"min_ram": "abc"})
    call("error_create_name_too_long", "POST", "/v2/images",
         {"name": "n" * 256})
    call("error_create_min_ram_negative", "POST", "/v2/images",
         {"min_ram": -1})
    call("error_create_readonly_status", "POST", "/v2/images",
         {"status": "active"})
    call("error_create_readonly_size", "POST", "/v2/images", {"size": 5})
    call("error_create_id_not_uuid", "POST", "/v2/images",
         {"id": "not-a-uuid"})
    call("error_create_existing_id", "POST", "/v2/images", {"id": a})
    call("error_create_deleted_id", "POST", "/v2/images", {"id": c})
    call("error_create_reserved_os_glance", "POST", "/v2/images",
         {"os_glance_foo": "x"})
    call("error_create_extra_property_non_string", "POST", "/v2/images",
         {"foo": 5})
    call("error_create_visibility_public_noauth", "POST", "/v2/images",
         {"visibility": "public"})
    call("error_put_images_collection", "PUT", "/v2/images")
    call("error_delete_images_collection", "DELETE", "/v2/images")
    unknown = "3f1c1f7e-0000-4000-8000-000000000000"
    call("error_get_unknown_id", "GET", "/v2/images/" + unknown)
    call("error_get_file_unknown_id", "GET", "/v2/images/%s/file" % unknown)
    call("error_get_file_non_uuid", "GET", "/v2/images/not-a-uuid/file")
    call("error_get_non_uuid", "GET", "/v2/images/not-a-uuid")
    patch("error_patch_unknown_id", unknown,
          [{"op": "replace", "path": "/name", "value": "x"}])
    call("error_put_file_unknown_id", "PUT", "/v2/images/%s/file" % unknown,
         DATA[:16], headers={"Content-Type": "application/octet-stream"},
         raw=True)
    call("error_delete_unknown_id", "DELETE", "/v2/images/" + unknown)
    call("error_delete_twice", "DELETE", "/v2/images/" + c)
    q = create(None, {"name": "err-queued", "disk_format": "raw",
                      "container_format": "bare"})
    call("error_get_file_queued", "GET", "/v2/images/%s/file" % q)
    call("error_deactivate_queued", "POST",
         "/v2/images/%s/actions/deactivate" % q)
    call("error_upload_content_type_json", "PUT", "/v2/images/%s/file" % q,
         DATA[:16], headers={"Content-Type": "application/json"}, raw=True)
    call("error_upload_no_content_type", "PUT", "/v2/images/%s/file" % q,
         DATA[:16], headers={"Content-Type": None}, raw=True)
    act = create(None, {"name": "err-active", "disk_format": "raw",
                        "container_format": "bare"})
    upload(None, act)
    call("error_upload_twice", "PUT", "/v2/images/%s/file" % act, DATA[:16],
         headers={"Content-Type": "application/octet-stream"}, raw=True)
    call("error_stage_active", "PUT", "/v2/images/%s/stage" % act, DATA[:16],
         headers={"Content-Type": "application/octet-stream"}, raw=True)
    call("error_get_file_range", "GET", "/v2/images/%s/file" % act,
         headers={"Range": "bytes=0-9"})
    call("error_get_file_range_beyond_end", "GET",
         "/v2/images/%s/file" % act, headers={"Range": "bytes=5000-6000"})
    call("error_head_file", "HEAD", "/v2/images/%s/file" % act)
    patch("error_patch_content_type_json", act,
          [{"op": "replace", "path": "/name", "value": "x"}],
          headers={"Content-Type": "application/json"})
    call("error_patch_malformed_json", "PATCH", "/v2/images/" + act,
         '[{"op": ', headers={"Content-Type": PATCH_CT}, raw=True)
    patch("error_patch_object_not_list", act,
          {"op": "replace", "path": "/name", "value": "x"})
    patch("error_patch_bogus_op", act,
          [{"op": "bogus", "path": "/name", "value": "x"}])
    patch("error_patch_replace_missing_property", act,
          [{"op": "replace", "path": "/nokey", "value": "x"}])
    patch("error_patch_remove_missing_property", act,
          [{"op": "remove", "path": "/nokey"}])
    patch("error_patch_readonly_status", act,
          [{"op": "replace", "path": "/status", "value": "queued"}])
    patch("error_patch_readonly_id", act,
          [{"op": "replace", "path": "/id", "value": unknown}])
    patch("error_patch_disk_format_active", act,
          [{"op": "replace", "path": "/disk_format", "value": "qcow2"}])
    patch("error_patch_add_tags_dash", act,
          [{"op": "add", "path": "/tags/-", "value": "x"}])
    prot = create(None, {"name": "err-protected", "protected": True})
    call("error_delete_protected", "DELETE", "/v2/images/" + prot)
    call("error_tag_put_twice_first", "PUT", "/v2/images/%s/tags/dup" % act)
    call("error_tag_put_twice_second", "PUT", "/v2/images/%s/tags/dup" % act)
    call("error_tag_too_long", "PUT",
         "/v2/images/%s/tags/%s" % (act, "t" * 256))
    call("error_tag_delete_absent", "DELETE",
         "/v2/images/%s/tags/absent" % act)
    call("error_import_bogus_method", "POST", "/v2/images/%s/import" % q,
         {"method": {"name": "bogus"}})
    call("error_list_limit_abc", "GET", "/v2/images?limit=abc")
    call("error_list_limit_negative", "GET", "/v2/images?limit=-1")
    call("error_list_limit_zero", "GET", "/v2/images?limit=0")
    call("error_list_marker_unknown", "GET", "/v2/images?marker=" + unknown)
    call("error_list_sort_key_bogus", "GET", "/v2/images?sort_key=bogus")
    call("error_list_sort_dir_sideways", "GET",
         "/v2/images?sort_dir=sideways")
    call("error_list_visibility_bogus", "GET", "/v2/images?visibility=bogus")
    call("error_list_size_min_abc", "GET", "/v2/images?size_min=abc")
    call("error_list_created_at_bogus", "GET",
         "/v2/images?created_at=gte:bogus")
    call("error_list_status_bogus", "GET", "/v2/images?status=bogus")
    call("error_get_v2_nonexistent", "GET", "/v2/nonexistent")
    call("error_get_v2_slash", "GET", "/v2/")
    call("error_versions_root_300", "GET", "/")
    call("error_versions_images_300", "GET", "/images")
    call("error_versions_v3_images_300", "GET", "/v3/images")
    call("error_versions_versions_200", "GET", "/versions")
    call("error_versions_v2_302", "GET", "/v2")
    call("error_tasks_list_noauth", "GET", "/v2/tasks")
    # noauth import is broken (500); done last, leaves the image "uploading"
    imp = create(None, {"name": "err-import", "disk_format": "raw",
                        "container_format": "bare"})
    call("error_stage_noauth", "PUT", "/v2/images/%s/stage" % imp, DATA[:64],
         headers={"Content-Type": "application/octet-stream"}, raw=True)
    call("error_import_glance_direct_noauth", "POST",
         "/v2/images/%s/import" % imp, {"method": {"name": "glance-direct"}})
    call("error_get_after_failed_import_noauth", "GET", "/v2/images/" + imp)
    # errors without Accept: application/json: "*/*" (what glanceclient
    # sends) -> webob HTML page; no Accept header at all -> text/plain
    call("error_html_get_unknown_id", "GET", "/v2/images/" + unknown,
         accept="*/*")
    call("error_html_create_malformed_json", "POST", "/v2/images",
         '{"name": ', raw=True, accept="*/*")
    call("error_noaccept_get_unknown_id", "GET", "/v2/images/" + unknown,
         accept=None)
    call("error_noaccept_create_malformed_json", "POST", "/v2/images",
         '{"name": ', raw=True, accept=None)


def fakeauth():
    A, B = "projA:member", "projB:member"
    ADMIN = "admin:admin,member,reader"
    p = create("fakeauth_create_private_projA", {
        "name": "fakeauth-private", "visibility": "private",
        "disk_format": "raw", "container_format": "bare"}, token=A)
    call("fakeauth_get_private_projA", "GET", "/v2/images/" + p, token=A)
    call("fakeauth_list_projA", "GET", "/v2/images", token=A)
    call("fakeauth_list_projB", "GET", "/v2/images", token=B)
    call("fakeauth_get_private_projB_404", "GET", "/v2/images/" + p, token=B)
    call("fakeauth_get_file_private_projB_404", "GET",
         "/v2/images/%s/file" % p, token=B)
    patch("fakeauth_patch_private_projB_404", p,
          [{"op": "replace", "path": "/name", "value": "x"}], token=B)
    call("fakeauth_delete_private_projB_404", "DELETE", "/v2/images/" + p,
         token=B)
    call("fakeauth_create_public_projB_403", "POST", "/v2/images",
         {"name": "b-public", "visibility": "public"}, token=B)
    own = create("fakeauth_create_default_projB", {"name": "b-default"},
                 token=B)
    patch("fakeauth_patch_visibility_public_projB_403", own,
          [{"op": "replace", "path": "/visibility", "value": "public"}],
          token=B)
    call("fakeauth_create_owner_other_projB_403", "POST", "/v2/images",
         {"name": "b-owned-by-a", "owner": "projA"}, token=B)
    call("fakeauth_create_owner_self_projB", "POST", "/v2/images",
         {"name": "b-owned-by-b", "owner": "projB"}, token=B)
    call("fakeauth_create_owner_other_admin", "POST", "/v2/images",
         {"name": "admin-owned-by-x", "owner": "projX"}, token=ADMIN)
    call("fakeauth_create_public_admin", "POST", "/v2/images",
         {"name": "admin-public", "visibility": "public"}, token=ADMIN)
    call("fakeauth_create_no_token", "POST", "/v2/images",
         {"name": "no-token"})
    call("fakeauth_list_projB_sees_public", "GET", "/v2/images", token=B)
    call("fakeauth_list_admin_all", "GET", "/v2/images", token=ADMIN)

    # shared image + member
    s = create("fakeauth_create_shared_projA", {
        "name": "fakeauth-shared", "visibility": "shared",
        "disk_format": "raw", "container_format": "bare"}, token=A)
    call("fakeauth_get_shared_projB_before_member_404", "GET",
         "/v2/images/" + s, token=B)
    call("fakeauth_member_create", "POST", "/v2/images/%s/members" % s,
         {"member": "projB"}, token=A)
    call("fakeauth_member_create_duplicate_409", "POST",
         "/v2/images/%s/members" % s, {"member": "projB"}, token=A)
    call("fakeauth_member_list_projA", "GET", "/v2/images/%s/members" % s,
         token=A)
    call("fakeauth_get_shared_projB_pending", "GET", "/v2/images/" + s,
         token=B)
    call("fakeauth_list_projB_pending_hidden", "GET", "/v2/images", token=B)
    call("fakeauth_list_projB_member_status_pending", "GET",
         "/v2/images?member_status=pending", token=B)
    call("fakeauth_member_accept_by_owner_403", "PUT",
         "/v2/images/%s/members/projB" % s, {"status": "accepted"}, token=A)
    call("fakeauth_member_accept", "PUT", "/v2/images/%s/members/projB" % s,
         {"status": "accepted"}, token=B)
    call("fakeauth_member_get_projB", "GET",
         "/v2/images/%s/members/projB" % s, token=B)
    call("fakeauth_list_projB_after_accept", "GET", "/v2/images", token=B)
    call("fakeauth_member_status_bogus_400", "PUT",
         "/v2/images/%s/members/projB" % s, {"status": "bogus"}, token=B)
    call("fakeauth_member_create_on_private_403", "POST",
         "/v2/images/%s/members" % p, {"member": "projB"}, token=A)

    # download of a deactivated image: admin 200, non-admin 403
    upload("fakeauth_upload_shared_projA", s, token=A)
    call("fakeauth_download_shared_projB", "GET", "/v2/images/%s/file" % s,
         token=B, headers={"Range": "bytes=0-9"})
    call("fakeauth_deactivate_by_image_member_projB", "POST",
         "/v2/images/%s/actions/deactivate" % s, token=B)
    call("fakeauth_deactivate_by_owner_member_projA", "POST",
         "/v2/images/%s/actions/deactivate" % s, token=A)
    call("fakeauth_deactivate_again_admin", "POST",
         "/v2/images/%s/actions/deactivate" % s, token=ADMIN)
    call("fakeauth_get_deactivated_projB", "GET", "/v2/images/" + s, token=B)
    call("fakeauth_download_deactivated_projA_403", "GET",
         "/v2/images/%s/file" % s, token=A)
    call("fakeauth_download_deactivated_projB_403", "GET",
         "/v2/images/%s/file" % s, token=B)
    call("fakeauth_download_deactivated_admin", "GET",
         "/v2/images/%s/file" % s, token=ADMIN,
         headers={"Range": "bytes=0-9"})
    call("fakeauth_reactivate_admin", "POST",
         "/v2/images/%s/actions/reactivate" % s, token=ADMIN)
    call("fakeauth_member_delete_by_member_403", "DELETE",
         "/v2/images/%s/members/projB" % s, token=B)
    call("fakeauth_member_delete", "DELETE",
         "/v2/images/%s/members/projB" % s, token=A)
    call("fakeauth_get_shared_projB_after_member_delete_404", "GET",
         "/v2/images/" + s, token=B)

    # interoperable import works with a project
    i = create(None, {"name": "fakeauth-import", "disk_format": "raw",
                      "container_format": "bare"}, token=A)
    call("fakeauth_stage", "PUT", "/v2/images/%s/stage" % i, DATA[:64],
         headers={"Content-Type": "application/octet-stream"}, raw=True,
         token=A)
    call("fakeauth_get_uploading", "GET", "/v2/images/" + i, token=A)
    call("fakeauth_import_glance_direct", "POST", "/v2/images/%s/import" % i,
         {"method": {"name": "glance-direct"}}, token=A)
    import time
    for _ in range(50):
        st, img, _h = call(None, "GET", "/v2/images/" + i, token=A)
        if img.get("status") == "active":
            break
        time.sleep(0.2)
    call("fakeauth_get_after_import", "GET", "/v2/images/" + i, token=A)
    call("fakeauth_tasks_list_admin", "GET", "/v2/tasks", token=ADMIN)
    call("fakeauth_tasks_list_member", "GET", "/v2/tasks", token=A)
    call("fakeauth_delete_private_projA", "DELETE", "/v2/images/" + p,
         token=A)


if __name__ == "__main__":
    {"noauth": noauth, "fakeauth": fakeauth}[MODE]()
    print("%d fixtures written" % len(written))
