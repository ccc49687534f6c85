#!/usr/bin/env python3
"""powercut.py - cut the power of an installing machine, at chosen moments.

Usage: tests/vm/powercut.py [--points P1,P2,...] [--chain] [--name NAME]
                            [--window SECONDS] [--wipe] [--list]

A point is a console event of the install (a phase line, an image progress
percentage; --list shows them). For each point, on a blank 4 GiB target with
a 64 MiB disk holding ext4 beside it (sha256 checked after every step):

  1. PXE-boot and install (through tests/faultproxy.py, no faults; the
     profile is the demo profile with `wipe: false` and a post_install
     command); at the point's console line QEMU gets SIGKILL: the power cut.
  2. Boot the target alone, without a network card, for at most --window
     seconds (default 60; it ends early when SeaBIOS reports "No bootable
     device" on its debug port): no kernel may start ("Linux version") and
     no login prompt may appear.
  3. PXE-boot the same disk again: the plan must say the disk holds this
     installer's unfinished install (for a cut at or after
     "partition-done"; before it the wipe may have left nothing but the
     mark: "Wipe: nothing (... is blank)" is accepted then), the install
     completes (exit status 0), and
  4. the installed system boots to the profile's first-boot marker.

The point "finish" is the final one-sector write of the MBR boot code, made
after everything else was synced: the cut lands before it (the mark is still
there: steps 2-4 as for any point) or after it. After it the install is
complete, so instead: the disk boots to the first-boot marker, and the next
PXE boot's plan refuses the disk (it holds data; the profile has `wipe:
false`), exit status 4.

--chain (the short form for make check): one disk for all points; the
reinstall after the cut at point k is itself cut at point k+1, the last
reinstall completes and boots. Each reinstall still has to say "unfinished
install", and the disk is booted alone after every cut.
--wipe: the profile has `wipe: true` (for trying the mechanics on an
installer without the install-in-progress mark; the plan check is then
skipped).

Work directory build/vmtest/NAME (default powercut); disk images are deleted
at the end (KEEP_DISKS=1 keeps them). A summary table goes to stdout and to
NAME/summary.txt. Exit status 0 when every point passed.
"""
import argparse
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmnet  # noqa: E402
from vmnet import Fail, log  # noqa: E402


def phase(name, done=False):
    if done:
        return re.compile(r"\] <== %s done" % re.escape(name))
    return re.compile(r"(?m)\] ==> %s(:|\s*$)" % re.escape(name))


# (name, console event, what the disk holds then). Order: the install's.
POINTS = [
    ("mark", phase("mark"), "the mark being written"),
    ("mark-done", phase("mark", True), "the mark, old contents otherwise"),
    ("wipe", phase("wipe"), "signatures being zeroed"),
    ("wipe-done", phase("wipe", True), "a wiped disk with the mark"),
    ("partition", phase("partition"), "the table being written"),
    ("partition-done", phase("partition", True), "the new table, the mark with its table id"),
    ("mkfs", phase("mkfs"), "file systems being made"),
    ("mkfs-done", phase("mkfs", True), "empty file systems"),
    ("mount-done", phase("mount", True), "mounted, nothing written"),
    ("image", phase("image"), "the image stream starting"),
    ("image-5", vmnet.progress_at_least(5), "5% of the image"),
    ("image-20", vmnet.progress_at_least(20), "20% of the image"),
    ("image-40", vmnet.progress_at_least(40), "40% of the image"),
    ("image-60", vmnet.progress_at_least(60), "60% of the image"),
    ("image-80", vmnet.progress_at_least(80), "80% of the image"),
    ("image-95", vmnet.progress_at_least(95), "95% of the image"),
    ("image-100", re.compile(r"\(100%\).*finished"), "all bytes streamed, not yet verified"),
    ("image-done", phase("image", True), "the image verified"),
    ("configure", phase("configure"), "fstab, users, network being written"),
    ("configure-done", phase("configure", True), "the system configured"),
    ("post-install", phase("post-install"), "a command running in the target"),
    ("post-install-done", phase("post-install", True), "post_install done"),
    ("bootloader", phase("bootloader"), "extlinux being installed"),
    ("bootloader-done", phase("bootloader", True), "everything but the MBR boot code"),
    ("finish", phase("finish"), "the final MBR write"),
]
POINT = {p[0]: p for p in POINTS}
ORDER = [p[0] for p in POINTS]
# From here on the disk holds a partition table (data): the reinstall's plan
# must say "unfinished install". Before it the wipe may have left nothing but
# the mark: a blank disk to the plan ("Wipe: nothing (/dev/vda is blank)").
MARKED_FROM = ORDER.index("partition-done")
HOST = "cut01"
FIRSTBOOT = "INSTALLED-SYSTEM-FIRSTBOOT-OK %s" % HOST
UNFINISHED = re.compile(r"Wipe: +YES — \S+ holds this installer's unfinished install .*redone without disk\.wipe")
BLANK = re.compile(r"Wipe: +nothing \(\S+ is blank\)")
INSTALL_TIMEOUT = 1500
BOOT_TIMEOUT = 1200


def the_profile(wipe):
    text = vmnet.profile(hostname=HOST, wipe=wipe)
    return text + "\npost_install:\n  - echo POWERCUT-POST-INSTALL > /etc/powercut-post-install; sync\n"


def wipe_line(text):
    ls = [ln.strip() for ln in text.splitlines() if re.match(r"\s*Wipe:", ln)]
    return ls[0] if ls else "(no Wipe line)"


class Runner:
    def __init__(self, w, srv, target, other, window, wipe):
        self.w, self.srv, self.target, self.other = w, srv, target, other
        self.window, self.wipe = window, wipe
        self.other_sha = vmnet.sha256_file(other)
        self.n = 0

    def check_other(self, when):
        if vmnet.sha256_file(self.other) != self.other_sha:
            raise Fail("the other disk changed (%s)" % when)

    def install(self, label):
        self.n += 1
        return vmnet.netboot(self.w, self.srv, self.w.path("%02d-%s.log" % (self.n, label)),
                             [self.target, self.other], INSTALL_TIMEOUT, label)

    def check_plan(self, g, after_point):
        """The reinstall's plan, once it is on the console."""
        g.wait([re.compile(r"\] <== plan done"), "INSTALL FAILED"], 600, fail_on=["Kernel panic - not syncing"])
        text = g.text()
        wl = wipe_line(text)
        if "INSTALL FAILED" in text and not re.search(r"\] <== plan done", text):
            raise Fail("the reinstall after the cut at %s was refused: %s | %s" % (
                after_point, wl, failed_line(text)))
        if not self.wipe and not UNFINISHED.search(text):
            if ORDER.index(after_point) >= MARKED_FROM or not BLANK.search(text):
                raise Fail("the plan after the cut at %s does not say 'unfinished install': %s" % (after_point, wl))
        return wl

    def cut(self, g, point):
        """Wait for POINT's console event, then SIGKILL QEMU. Returns the
        guest's seconds at the cut."""
        _, ev, _ = POINT[point]
        _, secs = g.wait([ev], INSTALL_TIMEOUT, poll=0.05, fail_on=["INSTALL FAILED", "INSTALL COMPLETE",
                                                         "Kernel panic - not syncing"])
        g.kill9()
        self.check_other("after the cut at %s" % point)
        return secs

    def alone(self, point):
        v = vmnet.boot_disk_alone(self.w, [self.target, self.other],
                                  self.w.path("%02d-alone-after-%s.log" % (self.n, point)), self.window)
        self.check_other("after booting the disk alone")
        return v

    def complete(self, g):
        _, secs = g.wait([re.compile(r"INIT: installer exited with status \d+")], INSTALL_TIMEOUT,
                         fail_on=["Kernel panic - not syncing"])
        g.wait_exit(120)
        text = g.text()
        st = vmnet.exit_status(text)
        if st != 0:
            raise Fail("the reinstall exited with status %s: %s" % (st, failed_line(text)))
        if not re.search(r"\] <== post-install done", text):
            raise Fail("the reinstall did not run post_install")
        self.check_other("after the reinstall")
        return secs

    def refused(self, g):
        """A netboot whose plan must refuse the disk: it holds a complete
        install (data, no mark) and the profile does not allow wiping.
        Returns the refusal."""
        g.wait([re.compile(r"INIT: installer exited with status \d+")], INSTALL_TIMEOUT,
               fail_on=["Kernel panic - not syncing"])
        g.wait_exit(120)
        text = g.text()
        st = vmnet.exit_status(text)
        m = re.search(r"refusing to use \S+: it holds data[^;]*", text)
        if st != 4 or not m:
            raise Fail("the netboot after a complete install was not refused for its data (status %s): %s" % (
                st, wipe_line(text)))
        self.check_other("after the refused netboot")
        return m.group(0)

    def boot(self):
        self.n += 1
        b = vmnet.Guest(self.w, self.w.path("%02d-installed-boot.log" % self.n),
                        ["--boot-disk", "--disk", self.target, "--disk", self.other, "--mac", vmnet.MAC],
                        BOOT_TIMEOUT, "installed-system boot")
        _, secs = b.wait([FIRSTBOOT], BOOT_TIMEOUT, fail_on=["Kernel panic - not syncing"])
        b.stop()
        self.check_other("after the installed system's boot")
        return secs


def failed_line(text):
    ls = [ln.strip() for ln in text.splitlines() if "INSTALL FAILED" in ln or "rror" in ln]
    return ls[-1] if ls else "(no error line)"


def independent(top, points, window, wipe, table):
    ok = True
    for p in points:
        t0 = time.time()
        w = vmnet.Work(os.path.join(top, p))
        try:
            with w:
                log("point %s: %s" % (p, POINT[p][2]))
                target = w.disk("target.raw", 4 << 30)
                other = w.other_disk()
                w.www(the_profile(wipe), "inst.finish=poweroff")
                srv = w.servers()
                r = Runner(w, srv, target, other, window, wipe)
                cut_at = r.cut(r.install("install"), p)
                mbr = vmnet.mbr_summary(target)
                log("  cut at %s after %.1f s; MBR: %s" % (p, cut_at, mbr))
                if p == "finish" and not vmnet.has_mark(target):
                    # finish is one sector write after everything else was
                    # synced: a cut lands before it (the mark stays, as at
                    # bootloader-done) or after it. After it the install is
                    # complete: it must boot, and the next netboot must not
                    # redo it without disk.wipe (the disk holds data now).
                    boot = r.boot()
                    log("  the final write came before the cut: a complete install, first-boot marker after %.0f s"
                        % boot)
                    refusal = r.refused(r.install("netboot-again"))
                    log("  the next netboot's plan: %s" % refusal)
                    table.add(p, "PASS", "%.1f" % cut_at, mbr, "complete: it boots", "refused: it holds data", "-",
                              "%.0f" % boot, "%.0f" % (time.time() - t0))
                    continue
                alone = r.alone(p)
                log("  disk alone: %s" % alone)
                g = r.install("reinstall")
                wl = r.check_plan(g, p)
                log("  reinstall plan: %s" % wl)
                inst = r.complete(g)
                log("  reinstalled in %.0f s" % inst)
                boot = r.boot()
                log("  installed system's first-boot marker after %.0f s" % boot)
            table.add(p, "PASS", "%.1f" % cut_at, mbr, alone.split(":")[0] + (" (SeaBIOS)" if "SeaBIOS" in alone else ""),
                      short_wipe(wl), "%.0f" % inst, "%.0f" % boot, "%.0f" % (time.time() - t0))
        except Fail as e:
            ok = False
            log("FAIL point %s: %s" % (p, e))
            table.add(p, "FAIL", "", "", "", str(e)[:160], "", "", "%.0f" % (time.time() - t0))
    return ok


def chain(top, points, window, wipe, table):
    t0 = time.time()
    w = vmnet.Work(top)
    ok = True
    with w:
        target = w.disk("target.raw", 4 << 30)
        other = w.other_disk()
        w.www(the_profile(wipe), "inst.finish=poweroff")
        srv = w.servers()
        r = Runner(w, srv, target, other, window, wipe)
        prev = None
        try:
            for p in points:
                t1 = time.time()
                g = r.install("install-cut-at-%s" % p)
                wl = r.check_plan(g, prev) if prev else "(first install)"
                cut_at = r.cut(g, p)
                mbr = vmnet.mbr_summary(target)
                log("cut at %s after %.1f s (plan: %s); MBR: %s" % (p, cut_at, short_wipe(wl), mbr))
                alone = r.alone(p)
                log("  disk alone: %s" % alone)
                table.add(p, "PASS", "%.1f" % cut_at, mbr, alone.split(":")[0], short_wipe(wl), "-", "-",
                          "%.0f" % (time.time() - t1))
                prev = p
            t1 = time.time()
            g = r.install("reinstall")
            wl = r.check_plan(g, prev)
            inst = r.complete(g)
            boot = r.boot()
            log("reinstall after the cut at %s: plan '%s', completed in %.0f s; first-boot marker after %.0f s" % (
                prev, short_wipe(wl), inst, boot))
            table.add("(reinstall)", "PASS", "-", vmnet.mbr_summary(target), "-", short_wipe(wl), "%.0f" % inst,
                      "%.0f" % boot, "%.0f" % (time.time() - t1))
        except Fail as e:
            ok = False
            log("FAIL: %s" % e)
            table.add("(chain)", "FAIL", "", "", "", str(e)[:160], "", "", "%.0f" % (time.time() - t0))
    return ok


def short_wipe(wl):
    wl = re.sub(r"^Wipe:\s*", "", wl)
    m = re.search(r"unfinished install \(started [^)]*\)", wl)
    return m.group(0) if m else wl[:60]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n", 2)[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", help="comma-separated (default: all of --list)")
    ap.add_argument("--chain", action="store_true")
    ap.add_argument("--name", default="powercut")
    ap.add_argument("--window", type=int, default=60)
    ap.add_argument("--wipe", action="store_true")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.list:
        for n, _, what in POINTS:
            print("%-18s %s" % (n, what))
        return 0
    points = a.points.split(",") if a.points else list(ORDER)
    for p in points:
        if p not in POINT:
            ap.error("unknown point %s (--list)" % p)
    points.sort(key=ORDER.index)
    os.makedirs(os.path.join(vmnet.BUILD, "vmtest", a.name), exist_ok=True)
    table = vmnet.Table(["point", "result", "cut at (s)", "LBA 0 after the cut", "disk alone",
                         "reinstall's plan (Wipe)", "reinstall (s)", "boot (s)", "total (s)"])
    t0 = time.time()
    log("%s: %d point%s%s, disk-alone window %d s" % (a.name, len(points), "" if len(points) == 1 else "s",
                                                       " (chained)" if a.chain else "", a.window))
    ok = (chain if a.chain else independent)(a.name, points, a.window, a.wipe, table)
    passed = sum(1 for r in table.rows if r[1] == "PASS")
    table.finish(a.name, "%s: %d row%s passed, %d failed, %.0f s" % (a.name, passed, "" if passed == 1 else "s",
                                                                    len(table.rows) - passed, time.time() - t0))
    return 0 if ok else 1


if __name__ == "__main__":
    vmnet.main_with_signals(main)
