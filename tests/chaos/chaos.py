#!/usr/bin/env python3
"""A mixed workload against a quickstart-layout cluster while a seeded fault schedule breaks it,
then an invariant checker. Figures on stdout; exit 1 on any violation.

Workload (CHAOS_WORKERS threads): uploads of random sizes, downloads checked against the bytes
sent, lists, name updates, delayed deletes and restores (glintctl restore). Faults (one thread,
seeded): kill -9 of a random store, worker, the API or the coordinator (brought back by re-running
the quickstart), a PostgreSQL restart, a node cut off (its store stopped with SIGSTOP: peers time
out, as behind a firewall), a node's disk filled (a loop-mounted filesystem, when one was set up).
Invariants at the end: every acknowledged upload of a live image downloads byte-identical; no
download ever returned wrong bytes; every acknowledged name change is there; every live image has
R intact copies; nothing stays in saving; no pending_delete or excess row outlives its bound.
"""
import argparse, hashlib, json, os, random, signal, subprocess, sys, threading, time, urllib.error, urllib.request

p = argparse.ArgumentParser()
p.add_argument("--var", required=True)
p.add_argument("--build", required=True)
p.add_argument("--quickstart", required=True)
p.add_argument("--minutes", type=float, default=3)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--max-mib", type=int, default=256)
p.add_argument("--workers", type=int, default=3)
p.add_argument("--full-disk", default="")  # mount point of the node to fill, if any
p.add_argument("--converge-seconds", type=int, default=420)
a = p.parse_args()

rng = random.Random(a.seed)
lock = threading.Lock()
ops = {}            # operation -> count (attempted)
oks = {}            # operation -> count (acknowledged)
faults = {}         # fault kind -> count
violations = []
images = {}         # id -> {"sha", "size", "acked", "name", "state": active|pending_delete|deleted|unknown}
                    # (unknown: a change whose answer was lost, e.g. the API killed mid-request; a
                    # name of None likewise: such images are left out of the end checks)
image_locks = {}    # id -> lock held around every change the workload makes to that image, so the
                    # order it records is the order the API saw
stop_at = time.time() + a.minutes * 60


def count(d, k):
    with lock:
        d[k] = d.get(k, 0) + 1


def violation(msg):
    with lock:
        violations.append(msg)
    print("VIOLATION: " + msg, flush=True)


def api():
    """The API's address now (its port changes when it is restarted; "" while it is down)."""
    try:
        with open(os.path.join(a.var, "run/api.port")) as f:
            return "http://127.0.0.1:" + f.read().strip()
    except OSError:
        return "http://127.0.0.1:9"  # discard port: refused, as a dead API is


def call(method, path, body=None, ctype="application/json", timeout=60):
    """(status, bytes); status 0 when the API could not be reached or the exchange broke."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(api() + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except Exception:
        return 0, b""


def ctl(*args):
    return subprocess.run([os.path.join(a.build, "bin/glintctl"), "--config-file", os.path.join(a.var, "etc/glintctl.conf"),
                           "--json", *args], capture_output=True, text=True, timeout=120)


def pick(states):
    with lock:
        ids = [i for i, m in images.items() if m["acked"] and m["state"] in states]
    return rng.choice(ids) if ids else None


def locked(iid):
    with lock:
        return image_locks.setdefault(iid, threading.Lock())


def upload(r):
    size = r.choice([r.randint(1, 64 << 10), r.randint(1 << 20, a.max_mib << 20) // r.choice([1, 4, 16])])
    data = r.randbytes(size)
    st, body = call("POST", "/v2/images", {"name": "chaos", "disk_format": "raw", "container_format": "bare"})
    if st != 201:
        return False
    iid = json.loads(body)["id"]
    with lock:
        images[iid] = {"sha": hashlib.sha256(data).hexdigest(), "size": size, "acked": False, "name": "chaos",
                       "state": "active"}
    st, _ = call("PUT", "/v2/images/%s/file" % iid, data, "application/octet-stream", timeout=600)
    if st == 204:
        with lock:
            images[iid]["acked"] = True
        return True
    return False


def download(r):
    iid = pick({"active"})
    if not iid:
        return False
    req = urllib.request.Request(api() + "/v2/images/%s/file" % iid)
    h, n = hashlib.sha256(), 0
    try:
        with urllib.request.urlopen(req, timeout=600) as resp:
            while True:
                chunk = resp.read(1 << 20)
                if not chunk:
                    break
                h.update(chunk)
                n += len(chunk)
    except Exception:
        return False  # refused or cut: a failed download, not wrong bytes
    with lock:
        m = dict(images[iid])
    if m["state"] != "active":
        return False  # deleted meanwhile
    if n == m["size"] and h.hexdigest() != m["sha"]:
        violation("download of %s returned wrong bytes" % iid)
    return n == m["size"]


def listing(r):
    st, _ = call("GET", "/v2/images?limit=%d" % r.randint(1, 50))
    return st == 200


def rename(r):
    iid = pick({"active"})
    if not iid:
        return False
    name = "chaos-%d" % r.randint(0, 1 << 30)
    with locked(iid):
        st, _ = call("PATCH", "/v2/images/" + iid, [{"op": "replace", "path": "/name", "value": name}],
                     "application/openstack-images-v2.1-json-patch")
        with lock:
            if st == 200:
                images[iid]["name"] = name
            elif st == 0:
                images[iid]["name"] = None  # it may or may not have happened
    return st == 200


def delete(r):
    iid = pick({"active"})
    if not iid:
        return False
    with locked(iid):
        st, _ = call("DELETE", "/v2/images/" + iid)
        with lock:
            if st == 204:
                images[iid]["state"] = "pending_delete"
            elif st == 0:
                images[iid]["state"] = "unknown"
    return st == 204


def restore(r):
    iid = pick({"pending_delete"})
    if not iid:
        return False
    with locked(iid):
        res = ctl("restore", iid)
        with lock:
            if res.returncode == 0:
                images[iid]["state"] = "active"
            elif res.returncode == 1:
                images[iid]["state"] = "deleted"  # being reaped or reaped: it never comes back
            else:
                images[iid]["state"] = "unknown"  # the database did not answer: either may be true
    return res.returncode == 0


OPS = [(upload, 3), (download, 4), (listing, 2), (rename, 2), (delete, 1), (restore, 1)]


def workload(seed):
    r = random.Random(seed)
    while time.time() < stop_at:
        op = r.choices([o for o, _ in OPS], [w for _, w in OPS])[0]
        count(ops, op.__name__)
        if op(r):
            count(oks, op.__name__)


def pids():
    run = os.path.join(a.var, "run")
    return {f[:-4]: int(open(os.path.join(run, f)).read().strip() or 0) for f in os.listdir(run) if f.endswith(".pid")}


def quickstart():
    subprocess.run([a.quickstart], env=dict(os.environ, GLINT_VAR=a.var), capture_output=True, timeout=300)


KINDS = ["kill_store", "kill_worker", "kill_api", "kill_coordinator", "restart_postgres", "cut_off_node"] + (
    ["fill_disk"] if a.full_disk else [])


def fault(r, kind):
    procs = pids()
    stores = sorted(k for k in procs if k.startswith("node") and "-" not in k)
    if kind.startswith("kill_"):
        names = {"kill_store": stores, "kill_api": ["api"], "kill_coordinator": ["coordinator"],
                 "kill_worker": sorted(k for k in procs if k.startswith("node") and "-" in k)}[kind]
        names = [n for n in names if n in procs]
        if not names:
            return
        victim = r.choice(names)
        try:
            os.kill(procs[victim], signal.SIGKILL)
        except ProcessLookupError:
            pass
        time.sleep(r.uniform(1, 6))  # down for a while (the fault's length, not a synchronisation)
        quickstart()
    elif kind == "restart_postgres":
        pg = [os.path.join(os.path.dirname(a.quickstart), "../tests/support/pg.sh")]
        subprocess.run(pg + ["--durable", "stop", os.path.join(a.var, "pg")], capture_output=True, timeout=120)
        time.sleep(r.uniform(3, 15))
        subprocess.run(pg + ["--durable", "start", os.path.join(a.var, "pg")], capture_output=True, timeout=120)
    elif kind == "cut_off_node":
        victim = r.choice(stores)
        os.kill(procs[victim], signal.SIGSTOP)
        time.sleep(r.uniform(5, 20))
        os.kill(procs[victim], signal.SIGCONT)
    elif kind == "fill_disk":
        filler = os.path.join(a.full_disk, "chaos-filler")
        st = os.statvfs(a.full_disk)
        free = st.f_bavail * st.f_frsize
        subprocess.run(["fallocate", "-l", str(max(free - (4 << 20), 1 << 20)), filler], capture_output=True)
        time.sleep(r.uniform(5, 20))
        os.remove(filler)
    count(faults, kind)


def fault_schedule():
    """Every kind once per round, in a seeded order, so that a short run sees each of them."""
    r = random.Random(a.seed * 7919 + 1)
    while True:
        kinds = list(KINDS)
        r.shuffle(kinds)
        for kind in kinds:
            time.sleep(r.uniform(2, 6))  # the schedule's spacing
            if time.time() >= stop_at - 10:
                return
            fault(r, kind)


def converged():
    """(ok, why): every image the workload knows is where it should be."""
    for iid, m in list(images.items()):
        if m["state"] == "unknown":
            continue
        res = ctl("image", iid)
        if res.returncode != 0:
            if m["state"] == "deleted" or m["state"] == "pending_delete":
                continue  # purged or gone: fine for deleted ones
            return False, "glintctl image %s: %s" % (iid, res.stderr.strip()[:200])
        d = json.loads(res.stdout)
        status = d.get("status")
        if status == "saving":
            return False, "%s still saving" % iid
        if m["acked"] and m["state"] == "active":
            ok = [x for x in d.get("replicas", []) if x.get("state") == "ok"]
            if status != "active" or len(ok) < 3:
                return False, "%s: status %s, %d ok copies" % (iid, status, len(ok))
        if m["state"] == "pending_delete" and status == "pending_delete":
            return False, "%s still pending_delete" % iid
    return True, ""


def check_end():
    # Every acknowledged, live image: byte-identical, with its last acknowledged name.
    verified = 0
    for iid, m in list(images.items()):
        if not (m["acked"] and m["state"] == "active"):
            continue
        st, body = call("GET", "/v2/images/%s/file" % iid, timeout=600)
        if st != 200 or hashlib.sha256(body).hexdigest() != m["sha"]:
            violation("acknowledged upload %s: status %d, %d bytes, wrong or missing" % (iid, st, len(body)))
            continue
        st, body = call("GET", "/v2/images/" + iid)
        if st != 200 or (m["name"] is not None and json.loads(body).get("name") != m["name"]):
            violation("acknowledged name of %s lost" % iid)
            continue
        verified += 1
    return verified


start = time.time()
threads = [threading.Thread(target=workload, args=(a.seed * 1000 + i,)) for i in range(a.workers)]
threads.append(threading.Thread(target=fault_schedule))
for t in threads:
    t.start()
for t in threads:
    t.join()
quickstart()  # everything back up
ran = time.time() - start
t0 = time.time()
ok, why = False, ""
while time.time() - t0 < a.converge_seconds:
    ok, why = converged()
    if ok:
        break
    time.sleep(3)  # poll interval while the workers converge
converge_s = time.time() - t0
if not ok:
    violation("did not converge in %ds: %s" % (a.converge_seconds, why))
    stuck = why.split(":")[0].split(" ")[0]
    print(ctl("image", stuck).stdout, flush=True)
verified = check_end()
acked = sum(1 for m in images.values() if m["acked"] and m["state"] == "active")
print("chaos seed=%d minutes=%.1f ran_s=%.0f" % (a.seed, a.minutes, ran))
print("operations " + " ".join("%s=%d/%d" % (k, oks.get(k, 0), v) for k, v in sorted(ops.items())))
print("faults " + (" ".join("%s=%d" % kv for kv in sorted(faults.items())) or "none"))
print("acknowledged_live=%d verified=%d converge_s=%.0f violations=%d" % (acked, verified, converge_s, len(violations)))
sys.exit(1 if violations else 0)
