#!/usr/bin/env python3
"""Check the installer's event reports as recorded by qemu/httpd.py --record.

Usage: events-check.py RECORD --token TOKEN [--exit N] [--serial FILE]
                       [--machine-id ID --machine-id-source SRC]
                       [--phases a,b,c] [--log-upload] [--inventory FILE] [--print]

RECORD holds one JSON line per POST ({"path", "headers", "body"}). Checks:
every POST carries "Authorization: Bearer TOKEN"; event batches are
application/x-ndjson and every line is a JSON object with the documented
fields; sequence numbers are 1..N without gaps or duplicates; monotonic time
and wall time never go backwards in sequence order; every phase that started
finished, after its start, and phases do not overlap (except "install", which
spans the run); the phases given with --phases started in that order; the
last event is the "install" finish with the expected exit status. With
--log-upload, exactly one text/plain upload of the log must have arrived
(after the last event), otherwise none. Inventory uploads (application/json
with X-Installer-Upload: inventory) must be JSON objects, at most one; with
--inventory FILE exactly one, whose body is FILE's text byte for byte
(`installer inventory --json`). With --serial, the final event must
also be on the serial console. Prints one summary line; exits 1 on the first
problem.
"""
import argparse
import datetime
import json
import re
import sys

TYPES = {"start", "finish", "progress", "info", "error"}
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def fail(msg):
    print("events-check: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("record")
    ap.add_argument("--token", required=True)
    ap.add_argument("--exit", type=int, default=0)
    ap.add_argument("--serial")
    ap.add_argument("--machine-id")
    ap.add_argument("--machine-id-source")
    ap.add_argument("--phases", default="")
    ap.add_argument("--log-upload", action="store_true")
    ap.add_argument("--inventory")
    ap.add_argument("--print", action="store_true")
    a = ap.parse_args()

    posts = [json.loads(l) for l in open(a.record) if l.strip()]
    if not posts:
        fail("no POST arrived")
    events, logs, inventories = [], [], []
    for i, p in enumerate(posts):
        h = {k.lower(): v for k, v in p["headers"].items()}
        if h.get("authorization") != "Bearer " + a.token:
            fail("POST %d: no 'Authorization: Bearer <token>' header" % (i + 1))
        ctype = h.get("content-type", "")
        if ctype == "application/x-ndjson":
            for line in p["body"].splitlines():
                try:
                    e = json.loads(line)
                except ValueError:
                    fail("POST %d: a line is not JSON: %r" % (i + 1, line[:100]))
                events.append((i, e))
        elif ctype == "application/json":
            if h.get("x-installer-upload") != "inventory":
                fail("POST %d: application/json without X-Installer-Upload: inventory" % (i + 1))
            if not h.get("x-installer-machine-id"):
                fail("POST %d: the inventory upload has no X-Installer-Machine-Id" % (i + 1))
            try:
                inv = json.loads(p["body"])
            except ValueError:
                fail("POST %d: the inventory is not JSON" % (i + 1))
            if not isinstance(inv, dict):
                fail("POST %d: the inventory is not a JSON object" % (i + 1))
            inventories.append((i, p["body"]))
        elif ctype.startswith("text/plain"):
            if h.get("x-installer-upload") != "log":
                fail("POST %d: text/plain without X-Installer-Upload: log" % (i + 1))
            logs.append((i, p["body"]))
        else:
            fail("POST %d: unexpected Content-Type %r" % (i + 1, ctype))

    evs = sorted((e for _, e in events), key=lambda e: e.get("seq", 0))
    seqs = [e.get("seq") for e in evs]
    if seqs != list(range(1, len(evs) + 1)):
        fail("sequence numbers are not 1..%d exactly once: %s" % (len(evs), seqs[:50]))
    last_mono, last_time = -1.0, None
    running = None  # the phase (other than install) that runs now
    started, finished, order = set(), set(), []
    for e in evs:
        for k in ("time", "monotonic", "machine_id", "machine_id_source", "phase", "type"):
            if k not in e:
                fail("event %d has no %r: %s" % (e["seq"], k, e))
        if e["type"] not in TYPES:
            fail("event %d: unknown type %r" % (e["seq"], e["type"]))
        if not TIME_RE.match(e["time"]):
            fail("event %d: time %r is not RFC 3339 UTC with microseconds" % (e["seq"], e["time"]))
        t = datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
        if e["monotonic"] < last_mono:
            fail("event %d: monotonic time goes backwards (%s < %s)" % (e["seq"], e["monotonic"], last_mono))
        if last_time and t < last_time:
            fail("event %d: wall time goes backwards" % e["seq"])
        last_mono, last_time = e["monotonic"], t
        if a.machine_id and e["machine_id"] != a.machine_id:
            fail("event %d: machine_id %r, expected %r" % (e["seq"], e["machine_id"], a.machine_id))
        if a.machine_id_source and e["machine_id_source"] != a.machine_id_source:
            fail("event %d: machine_id_source %r, expected %r" % (e["seq"], e["machine_id_source"], a.machine_id_source))
        ph = e["phase"]
        if e["type"] == "start":
            if ph in started:
                fail("phase %s started twice" % ph)
            if ph != "install":
                if running:
                    fail("phase %s started while %s runs" % (ph, running))
                running = ph
            elif e["seq"] != 1:
                fail("the install start is not the first event")
            started.add(ph)
            order.append(ph)
        elif e["type"] == "finish":
            if ph not in started or ph in finished:
                fail("phase %s finished without starting (or twice)" % ph)
            if e.get("result") not in ("ok", "failed"):
                fail("finish of %s has result %r" % (ph, e.get("result")))
            if "duration" not in e:
                fail("finish of %s has no duration" % ph)
            if ph != "install":
                if running != ph:
                    fail("phase %s finished while %s runs" % (ph, running))
                running = None
            finished.add(ph)
        elif e["type"] == "progress":
            pr = e.get("progress") or {}
            for k in ("what", "done", "total", "rate", "eta", "final"):
                if k not in pr:
                    fail("progress event %d lacks progress.%s" % (e["seq"], k))
    if started != finished:
        fail("phases started but never finished: %s" % sorted(started - finished))
    want = [p for p in a.phases.split(",") if p]
    pos = -1
    for p in want:
        if p not in order:
            fail("phase %s never started (phases: %s)" % (p, " ".join(order)))
        if order.index(p) < pos:
            fail("phase %s started out of order (phases: %s)" % (p, " ".join(order)))
        pos = order.index(p)
    final = evs[-1]
    if final["phase"] != "install" or final["type"] != "finish":
        fail("the last event is not the install finish: %s" % final)
    if final.get("exit_status") != a.exit:
        fail("final exit_status %r, expected %d" % (final.get("exit_status"), a.exit))
    if final.get("result") != ("ok" if a.exit == 0 else "failed"):
        fail("final result %r" % final.get("result"))
    if a.log_upload:
        if len(logs) != 1:
            fail("%d log uploads, expected 1" % len(logs))
        if logs[0][0] < max(i for i, _ in events):
            fail("the log was uploaded before the last events")
        discover = evs[0].get("message") == "installer discover"  # never writes: no "INSTALL FAILED"
        if "INSTALL FAILED" not in logs[0][1] and a.exit not in (3, 4, 5, 8) and not discover:
            fail("the uploaded log lacks 'INSTALL FAILED'")
    elif logs:
        fail("a log was uploaded although the install succeeded")
    if len(inventories) > 1:
        fail("%d inventory uploads, expected at most 1" % len(inventories))
    if a.inventory:
        if not inventories:
            fail("no inventory upload")
        if inventories[0][1] != open(a.inventory).read():
            fail("the uploaded inventory differs from %s" % a.inventory)
    if a.serial:
        text = open(a.serial, errors="replace").read()
        if '"seq":%d,' % final["seq"] not in text or '"exit_status":%d' % a.exit not in text:
            fail("the final event is not on the serial console")
    nprog = sum(1 for e in evs if e["type"] == "progress")
    if a.print:
        for e in evs:
            if e["type"] in ("start", "finish"):
                print("  %4d %9.3f %-6s %-14s %s" % (e["seq"], e["monotonic"], e["type"], e["phase"],
                                                    e.get("result", "")))
    print("events-check: ok: %d POSTs, %d events (%d progress), phases %s, exit %d%s" % (
        len(posts), len(evs), nprog, " ".join(order), final["exit_status"],
        ", log uploaded (%d bytes)" % len(logs[0][1]) if logs else "") +
        (", inventory uploaded (%d bytes)" % len(inventories[0][1]) if inventories else ""))


if __name__ == "__main__":
    main()
