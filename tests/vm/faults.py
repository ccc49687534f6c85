#!/usr/bin/env python3
"""faults.py - network faults between a QEMU guest and its image server.

Usage: tests/vm/faults.py [--list] [--name NAME] [--boot] CASE...
       tests/vm/faults.py --all          (make check-faults: every case)

Each CASE is one PXE boot of a fresh guest (a blank 4 GiB target, a 64 MiB
disk holding ext4 that must not change) whose every HTTP request goes
through tests/faultproxy.py (see tests/vm/vmnet.py), the proxy programmed
for that case on the image's path. A case either completes (exit status 0,
the image's sha256 verified) or fails the way it must (exit status, a named
error on the console, within a time bound, the disk not bootable: no
bootloader, the install-in-progress mark present, and booting it alone
starts no kernel). The proxy's log (one JSON line per request) is judged:
how many requests, from which byte each resumed, bytes sent in total.
--boot: after a completed case, boot the installed disk to the profile's
first-boot marker.

Work directory build/vmtest/NAME (default faults) with one subdirectory per
case; disk images are deleted at the end (KEEP_DISKS=1 keeps them). A
summary table goes to stdout and NAME/summary.txt. Exit status 0 when every
case passed.
"""
import argparse
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmnet  # noqa: E402
from vmnet import Fail, IMAGE_RX, log  # noqa: E402

MiB = 1 << 20
# How far a resume may start before the byte the proxy had sent when it
# reset the connection: what was in flight (the proxy's socket, busybox nc,
# QEMU's slirp, the guest's TCP and curl buffers) is lost with the RST.
RESUME_SLACK = 8 * MiB
INSTALL_TIMEOUT = 1800


def rule(steps=(), then=None, path=IMAGE_RX):
    r = {"path": path, "steps": list(steps)}
    if then:
        r["then"] = then
    return r


# --- judging the proxy log -----------------------------------------------------------

def range_start(row):
    m = re.match(r"bytes=(\d+)-", row.get("range") or "")
    return int(m.group(1)) if m else 0


def judge_resumes(rows, size, console, note):
    """Every request after a broken one asks for Range from where the
    guest's data stopped: at most the byte the proxy had sent, at least that
    minus RESUME_SLACK; the installer's "Resuming at byte N" lines name the
    same offsets; the last request ends the file; the body bytes sent add up
    to the image size plus what the resets lost in flight."""
    data = [r for r in rows if r["status"] in (200, 206)]
    if not data:
        raise Fail("the proxy log has no 200/206 answer for the image")
    sent_to = 0  # the end of what the proxy sent, in file offsets
    lost = 0
    starts = []
    for r in rows:
        if r["status"] not in (200, 206):
            continue
        s = range_start(r)
        if r is not data[0]:
            if r["status"] != 206:
                raise Fail("a resumed request was answered %s: %s" % (r["status"], r))
            if not (sent_to - RESUME_SLACK <= s <= sent_to):
                raise Fail("a resume started at byte %d; the proxy had sent up to %d (allowed %d..%d)" % (
                    s, sent_to, sent_to - RESUME_SLACK, sent_to))
            lost += sent_to - s
            starts.append(s)
        elif s != 0:
            raise Fail("the first image request asked for %s" % r["range"])
        sent_to = s + r["bytes"]
    last = data[-1]
    if range_start(last) + last["bytes"] != size or last["end"] != "complete":
        raise Fail("the last image answer did not end the file: %s" % last)
    total = sum(r["bytes"] for r in data)
    if total > size + lost or total > size + len(starts) * RESUME_SLACK:
        raise Fail("%d body bytes sent for a %d-byte image (%d lost in flight)" % (total, size, lost))
    said = [int(x) for x in re.findall(r"Resuming at byte (\d+)", console)]
    for s in starts:
        if s not in said:
            raise Fail("the proxy saw Range from byte %d but the console has no 'Resuming at byte %d' (it has %s)"
                       % (s, s, said))
    note.append("resumed at %s; %d body bytes sent for %d (+%d, %.2f%%: lost in flight at the resets)" % (
        ", ".join("%d (%.1f%%)" % (s, 100.0 * s / size) for s in starts) or "-", total, size, total - size,
        100.0 * (total - size) / size))


def judge_requests(rows, want, note):
    if len(rows) != want:
        raise Fail("%d image requests in the proxy log, expected %d: %s" % (
            len(rows), want, [(r["range"], r["status"], r["action"]) for r in rows]))
    note.append("%d image request%s" % (want, "" if want == 1 else "s"))


def phase_seconds(console, a, b):
    """Seconds (the installer's clock) between the first lines matching A and B."""
    def at(rx):
        for ln in console.splitlines():
            if re.search(rx, ln):
                m = re.match(r"\[ *([0-9.]+)\]", ln)
                if m:
                    return float(m.group(1))
        return None
    ta, tb = at(a), at(b)
    return None if ta is None or tb is None else tb - ta


# --- the cases -----------------------------------------------------------------------
# complete: the install must end with status 0; else the exit status it must
# end with. errors: console regexes that must appear. judge(rows, size,
# console, note): the proxy log.

def j_resume(rows, size, console, note):
    judge_resumes(rows, size, console, note)


def j_count(n):
    def j(rows, size, console, note):
        judge_requests(rows, n, note)
    return j


def j_one_then_resume(rows, size, console, note):
    judge_resumes(rows, size, console, note)


def j_network_93(rows, size, console, note, events=()):
    """93: reset 30/60/95%, 503 x3, refusal: the order of the log."""
    acts = [r["action"].split()[0] for r in rows]
    want = ["reset", "reset", "reset", "status", "status", "status", "refuse"]
    if acts[:7] != want or any(a != "pass" for a in acts[7:]) or len(acts) < 8:
        raise Fail("the image requests were %s; expected %s then pass" % (acts, want))
    for r, p in zip(rows[:3], (30, 60, 95)):
        end = range_start(r) + r["bytes"]
        if end != int(size * p / 100):
            raise Fail("the reset at %d%% ended at byte %d" % (p, end))
    judge_resumes(rows, size, console, note)
    # The refusal: the listening socket closed for 60 s; the request that
    # finished the file came after it.
    ev = {e["event"]: e["t"] for e in events if "event" in e}
    if "refuse-start" not in ev or "refuse-end" not in ev:
        raise Fail("the proxy log lacks the refusal's start or end")
    down = ev["refuse-end"] - ev["refuse-start"]
    if not 59 <= down <= 65:
        raise Fail("the proxy refused connections for %.1f s, not 60" % down)
    if rows[-1]["t"] < ev["refuse-end"]:
        raise Fail("the last image request came before the refusal ended")
    plain = "\n".join(ln for ln in console.splitlines() if not ln.startswith("{"))  # not the JSON events
    tries = len(re.findall(r"Image download interrupted at \d+ of \d+ \((Empty reply from server|Recv failure"
                           r"|Failed to connect|Couldn't connect)", plain))
    note.append("refused for %.1f s: %d attempt%s met a closed port; the file finished %.1f s after" % (
        down, tries, "" if tries == 1 else "s", rows[-1]["t"] - ev["refuse-end"]))


def j_trickle(window, attempts):
    def j(rows, size, console, note):
        if len(rows) != attempts:
            raise Fail("%d image requests, expected %d (one per attempt)" % (len(rows), attempts))
        for r in rows:
            if r["end"] != "client-gone":
                raise Fail("a trickled answer ended '%s', not by the installer leaving" % r["end"])
            if not (window * 0.8 <= r["seconds"] <= window * 3 + 15):
                raise Fail("a trickled answer lasted %.1f s (rate window %d s)" % (r["seconds"], window))
        note.append("%d requests of %s s each" % (len(rows), "/".join("%.0f" % r["seconds"] for r in rows)))
    return j


CASES = {}


def case(name, desc, rules, complete=True, errors=(), judge=None, fetch=None, bound=None, group="faults"):
    CASES[name] = dict(name=name, desc=desc, rules=rules, complete=complete, errors=list(errors),
                       judge=judge, fetch=fetch, bound=bound, group=group)


FETCH_93 = {"attempts": 20, "deadline": "1h"}
case("network", "reset at 30%, 60%, 95%, then 3 x 503, then 60 s refused, then success",
     [rule([{"do": "reset", "at_percent": 30}, {"do": "reset", "at_percent": 60},
            {"do": "reset", "at_percent": 95}, {"do": "status", "code": 503, "count": 3},
            {"do": "refuse", "seconds": 60}])],
     errors=[r"Image download interrupted at \d+ of \d+", r"Resuming at byte \d+ \(Range\)"],
     judge=j_network_93, fetch=FETCH_93, group="93")
TRICKLE = {"attempts": 2, "min_rate": 65536, "rate_window": "10s"}
case("trickle", "every answer trickles at 2000 B/s; min_rate 64 KiB/s over 10 s, 2 attempts",
     [rule(then={"do": "trickle", "rate": 2000})], complete=5,
     errors=[r"gave up after 2 attempts"], judge=j_trickle(10, 2), fetch=TRICKLE,
     bound=("==> image", 2 * (10 + 8) + 40), group="94")
case("range-ignored", "reset at 10%, then the server ignores Range (200 + the whole file)",
     [rule([{"do": "reset", "at_percent": 10}], then={"do": "ignore_range"})], complete=5,
     errors=[r"server ignored the Range request"], judge=j_count(2), group="94")
case("file-changed", "reset at 10%, then another ETag and Last-Modified",
     [rule([{"do": "reset", "at_percent": 10}], then={"do": "change", "what": ["etag", "last_modified"]})],
     complete=5, errors=[r"the file changed on the server"], judge=j_count(2), group="94")
case("404", "the image answers 404: fatal at once",
     [rule(then={"do": "status", "code": 404})], complete=5, errors=[r"404"], judge=j_count(1),
     bound=("==> image", 15), group="94")
# --- make check-faults: every kind on its own ---------------------------------------
case("none", "no fault: the baseline (one request, the whole image)", [], judge=j_count(1))
case("reset", "reset at 50% (RST)", [rule([{"do": "reset", "at_percent": 50}])],
     errors=[r"Resuming at byte \d+ \(Range\)"], judge=j_resume)
case("reset-early", "reset after 100000 bytes, twice", [rule([{"do": "reset", "after_bytes": 100000, "count": 2}])],
     errors=[r"Resuming at byte \d+ \(Range\)"], judge=j_resume)
case("503-burst", "3 x 503 on the first request, then success",
     [rule([{"do": "status", "code": 503, "count": 3}])], judge=j_count(4))
case("500-mid-stream", "reset at 40%, then 2 x 500, then the resume",
     [rule([{"do": "reset", "at_percent": 40}, {"do": "status", "code": 500, "count": 2}])], judge=j_resume)
case("refuse", "reset at 50%, then connections refused for 60 s",
     [rule([{"do": "reset", "at_percent": 50}, {"do": "refuse", "seconds": 60}])],
     judge=j_resume, fetch={"attempts": 15})
case("stall-continue", "a 15 s stall at 50%, then the rest (within the rate window: no retry)",
     [rule([{"do": "stall", "at_percent": 50, "seconds": 15}])], judge=j_count(1))
case("stall-close", "a 5 s stall at 50%, then the connection closed (FIN, body short)",
     [rule([{"do": "stall", "at_percent": 50, "seconds": 5, "then": "close"}])], judge=j_resume)
case("stall-long", "at 50% a stall longer than the rate window (10 s): the installer gives up on it and resumes",
     [rule([{"do": "stall", "at_percent": 50, "seconds": 600}])], judge=j_resume,
     fetch={"min_rate": 1024, "rate_window": "10s"})
case("trickle-once", "the first answer trickles at 500 B/s from 30% on; the resume is fast",
     [rule([{"do": "trickle", "rate": 500, "at_percent": 30}])], judge=j_resume,
     fetch={"min_rate": 65536, "rate_window": "10s"})
case("trickle", CASES["trickle"]["desc"], CASES["trickle"]["rules"], complete=5, errors=CASES["trickle"]["errors"],
     judge=CASES["trickle"]["judge"], fetch=TRICKLE, bound=CASES["trickle"]["bound"], group="94")
case("truncate-wrong-length", "the body ends at 40% with the full Content-Length (FIN)",
     [rule([{"do": "truncate", "at_percent": 40, "content_length": "wrong"}])], judge=j_resume)
case("truncate-correct-length", "the body ends at 40% and Content-Length says 40%: looks complete, is not",
     [rule(then={"do": "truncate", "at_percent": 40, "content_length": "correct"})], complete="fail",
     judge=j_count(1))
case("change-length", "reset at 10%, then Content-Range with another total length",
     [rule([{"do": "reset", "at_percent": 10}], then={"do": "change", "what": ["length"]})], complete=5,
     errors=[r"the file changed on the server"], judge=j_count(2))
case("change-bytes", "reset at 10%, then other bytes under the same ETag: the sha256 catches it",
     [rule([{"do": "reset", "at_percent": 10}], then={"do": "change", "what": ["bytes"]})], complete="fail",
     judge=j_count(2))
case("403", "the image answers 403: fatal at once", [rule(then={"do": "status", "code": 403})], complete=5,
     errors=[r"403"], judge=j_count(1), bound=("==> image", 15))
case("410", "the image answers 410: fatal at once", [rule(then={"do": "status", "code": 410})], complete=5,
     errors=[r"410"], judge=j_count(1), bound=("==> image", 15))
case("profile-503", "the profile answers 503 twice, then the install goes on",
     [rule([{"do": "status", "code": 503, "count": 2}], path=r"^/profiles/")], judge=None)

GROUPS = {
    "93": ["network"],
    "94": ["trickle", "range-ignored", "file-changed", "404"],
}
ALL = ["none", "reset", "reset-early", "503-burst", "500-mid-stream", "refuse", "stall-continue", "stall-close",
       "stall-long", "trickle-once", "trickle", "truncate-wrong-length", "truncate-correct-length",
       "range-ignored", "file-changed", "change-length", "change-bytes", "404", "403", "410", "profile-503"]


# --- running one case ----------------------------------------------------------------

def run_case(top, c, boot, results):
    name = c["name"]
    t0 = time.time()
    note = []
    w = vmnet.Work(os.path.join(top, name))
    try:
        with w:
            log("case %s: %s" % (name, c["desc"]))
            target = w.disk("target.raw", 4 << 30)
            other = w.other_disk()
            other_before = vmnet.sha256_file(other)
            w.www(vmnet.profile(hostname="net01", fetch=c["fetch"]), "inst.finish=poweroff")
            srv = w.servers()
            srv.program(c["rules"])
            g = vmnet.netboot(w, srv, w.path("install.log"), [target, other], INSTALL_TIMEOUT, "install")
            g.wait([re.compile(r"INIT: installer exited with status \d+")], INSTALL_TIMEOUT,
                   fail_on=["Kernel panic - not syncing"])
            g.wait_exit(120)
            console = g.text()
            status = vmnet.exit_status(console)
            rows = srv.image_rows()
            inst = g.elapsed()
            note.append("install run %.0f s" % inst)
            if c["complete"] is True:
                if status != 0:
                    raise Fail("the installer exited with status %s, expected 0: %s" % (
                        status, last_errors(console)))
                if ("sha256 %s verified" % vmnet.image_sha256()) not in console:
                    raise Fail("the console lacks 'sha256 ... verified'")
            else:
                if c["complete"] == "fail":
                    if status in (0, None):
                        raise Fail("the installer exited with status %s, expected a failure" % status)
                elif status != c["complete"]:
                    raise Fail("the installer exited with status %s, expected %s: %s" % (
                        status, c["complete"], last_errors(console)))
                if "INSTALL FAILED" not in console:
                    raise Fail("no 'INSTALL FAILED' line")
                if re.search(r"\] ==> bootloader", console):
                    raise Fail("a failed install reached the bootloader phase")
                note.append("exit %d: %s" % (status, last_errors(console, 1)))
            for e in c["errors"]:
                if not re.search(e, console):
                    raise Fail("the console lacks /%s/" % e)
            if c["bound"]:
                since, limit = c["bound"]
                d = phase_seconds(console, re.escape(since), r"INSTALL FAILED|INSTALL COMPLETE")
                if d is None or d > limit:
                    raise Fail("the install ended %s s after '%s'; at most %d s allowed" % (d, since, limit))
                note.append("ended %.1f s after '%s' (bound %d s)" % (d, since, limit))
            if c["judge"]:
                if c["judge"] is j_network_93:
                    c["judge"](rows, vmnet.image_size(), console, note, events=srv.rows())
                else:
                    c["judge"](rows, vmnet.image_size(), console, note)
            if vmnet.sha256_file(other) != other_before:
                raise Fail("the other disk changed")
            note.append("other disk unchanged")
            if c["complete"] is not True:
                marked = re.search(r"\] ==> mark", console)
                if marked and not vmnet.has_mark(target):
                    raise Fail("the failed install left no install-in-progress mark (%s)" % vmnet.mbr_summary(target))
                if not marked:
                    note.append("NO MARK PHASE in this installer")
                note.append("MBR: " + vmnet.mbr_summary(target))
                note.append(vmnet.boot_disk_alone(w, [target, other], w.path("disk-alone.log")))
            elif boot:
                b = vmnet.Guest(w, w.path("boot.log"), ["--boot-disk", "--disk", target, "--disk", other,
                                                        "--mac", vmnet.MAC], 1200, "installed-system boot")
                _, secs = b.wait(["INSTALLED-SYSTEM-FIRSTBOOT-OK net01"], 1200, fail_on=["Kernel panic - not syncing"])
                b.stop()
                note.append("installed system: first-boot marker after %.0f s" % secs)
                if vmnet.sha256_file(other) != other_before:
                    raise Fail("the other disk changed during the installed system's boot")
        results.append((name, "PASS", time.time() - t0, "; ".join(note)))
        log("PASS %s (%.0f s): %s" % (name, time.time() - t0, "; ".join(note)))
        return True
    except Fail as e:
        results.append((name, "FAIL", time.time() - t0, str(e)))
        log("FAIL %s (%.0f s): %s" % (name, time.time() - t0, e))
        for f in ("install.log", "boot.log"):
            p = w.path(f)
            if os.path.exists(p):
                print("--- last lines of %s:" % p)
                with open(p, "rb") as fh:
                    print("\n".join(fh.read().decode("latin-1").replace("\r", "").splitlines()[-25:]))
        return False


def last_errors(console, n=3):
    """The installer's last error lines (not the JSON events, not the
    INSTALL FAILED summary when there is a more specific line)."""
    lines = [ln.strip() for ln in console.splitlines()
             if re.search(r"error|failed|gave up|ignored|changed|HTTP \d{3}", ln, re.I)
             and not ln.startswith("{") and "INSTALL FAILED" not in ln and "<!!" not in ln]
    return " | ".join(lines[-n:]) if lines else "(no error line)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n", 2)[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cases", nargs="*")
    ap.add_argument("--all", action="store_true", help="every case (make check-faults)")
    ap.add_argument("--group", choices=sorted(GROUPS), help="the cases of tests/vm/93 or 94")
    ap.add_argument("--boot", action="store_true", help="boot the installed disk after a completed case")
    ap.add_argument("--name", default="faults", help="work directory build/vmtest/NAME")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.list:
        for n in ALL + [x for x in CASES if x not in ALL]:
            c = CASES[n]
            print("%-24s %s%s" % (n, c["desc"], "" if c["complete"] is True else " (must fail)"))
        return 0
    names = list(a.cases)
    if a.all:
        names = ALL
    if a.group:
        names = GROUPS[a.group]
    if not names:
        ap.error("name cases, --group or --all")
    for n in names:
        if n not in CASES:
            ap.error("unknown case %s (--list)" % n)
    top = a.name
    os.makedirs(os.path.join(vmnet.BUILD, "vmtest", top), exist_ok=True)
    results = []
    t0 = time.time()
    for n in names:
        run_case(top, CASES[n], a.boot, results)
    table = vmnet.Table(["case", "result", "seconds", "what was seen"])
    for r in results:
        table.add(r[0], r[1], "%.0f" % r[2], r[3])
    failed = sum(1 for r in results if r[1] != "PASS")
    table.finish(top, "%d of %d cases passed in %.0f s" % (len(results) - failed, len(results), time.time() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    vmnet.main_with_signals(main)
