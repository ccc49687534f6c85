"""Shared pieces of the network-fault and power-cut VM tests (imported by
tests/vm/faults.py and tests/vm/powercut.py; see docs/testing.md).

One test = one work directory build/vmtest/NAME (its boot tree, profile,
disks, serial logs, the proxy's log). The guest is booted by qemu/pxeboot.sh
(user-mode network, restrict=on) with --port: every HTTP request of the
guest (iPXE's kernel and initrd, the profile, the image) goes to 10.0.2.100,
forwarded by `busybox nc` to tests/faultproxy.py on 127.0.0.1, which asks
`faultproxy.py origin` (127.0.0.1, honours Range) for the boot tree. QEMU's
pid comes from -pidfile, so a power cut is `kill -9` of QEMU itself. The
console is judged by markers, always under a timeout; one guest at a time.
"""
import codecs
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.path.join(ROOT, "build")
IMAGE = os.path.join(BUILD, "image", "debian12.tar.zst")
FAULTPROXY = os.path.join(ROOT, "tests", "faultproxy.py")
PXEBOOT = os.path.join(ROOT, "qemu", "pxeboot.sh")
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
IMAGE_PATH = "/images/debian12.tar.zst"
IMAGE_RX = r"^/images/debian12\.tar\.zst"
MARK_MAGIC = b"BMI-INSTALL-IN-PROGRESS"
MAC = "52:54:00:12:34:56"
# Markers of a kernel or a system starting on the serial console: a disk
# that holds an unfinished install must show none of them.
BOOTED_MARKERS = ("Linux version", "login:")


class Fail(Exception):
    pass


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def image_size():
    return os.path.getsize(os.path.realpath(IMAGE))


def image_sha256():
    with open(IMAGE + ".sha256") as f:
        return f.read().split()[0]


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def has_mark(disk):
    """The install-in-progress mark in the MBR boot-code area (bytes 0..439)."""
    with open(disk, "rb") as f:
        return MARK_MAGIC in f.read(440)


def mbr_summary(disk):
    with open(disk, "rb") as f:
        b = f.read(512)
    if not any(b):
        return "LBA 0 all zero"
    what = "mark" if MARK_MAGIC in b[:440] else ("boot code" if any(b[:440]) else "no boot code")
    return "%s, signature %s" % (what, "55aa" if b[510:512] == b"\x55\xaa" else "none")


# --- the work directory --------------------------------------------------------------

class Work:
    """build/vmtest/NAME, fresh; the servers and guests started here are
    stopped at the end however it ends; disk images are deleted at the end
    (KEEP_DISKS=1 keeps them)."""

    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(BUILD, "vmtest", name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(os.path.join(self.dir, "profiles"))
        self.procs = []
        self.disks = []

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        for p in reversed(self.procs):
            stop_process(p)
        self.procs = []
        if os.environ.get("KEEP_DISKS") != "1":
            for d in self.disks:
                try:
                    os.unlink(d)
                except FileNotFoundError:
                    pass

    def disk(self, name, size):
        """A sparse raw disk of SIZE bytes (deleted at the end)."""
        p = self.path(name)
        with open(p, "wb") as f:
            f.truncate(size)
        self.disks.append(p)
        return p

    def other_disk(self):
        """A small disk holding an ext4 with a file: the disk that must not
        change (its sha256 before and after)."""
        p = self.disk("other.raw", 64 << 20)
        run(["/sbin/mke2fs", "-q", "-F", "-t", "ext4", "-L", "other", p], timeout=60)
        subprocess.run(["/sbin/debugfs", "-w", "-R", "write /etc/hostname precious.txt", p],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        return p

    def www(self, profile_text, append):
        """The boot tree with this profile as profiles/default.yaml and the
        demo image linked in."""
        if not os.path.isfile(IMAGE):
            raise Fail("no demo image %s: run 'make image' first" % IMAGE)
        with open(self.path("profiles", "default.yaml"), "w") as f:
            f.write(profile_text)
        run([os.path.join(ROOT, "ipxe", "mkwww.sh"), "--boot-url", "http://10.0.2.100/",
             "--kernel", os.path.join(BUILD, "kernel", "vmlinuz"), "--initrd", os.path.join(BUILD, "boot", "initrd.img"),
             "--profiles", self.path("profiles"), "--out", self.path("www"),
             "--append", append + " no_timer_check"], timeout=120)
        # mkwww.sh links the demo image into www/images (a hard link where it can).
        if not os.path.isfile(self.path("www", "images", "debian12.tar.zst")):
            raise Fail("ipxe/mkwww.sh did not put the demo image into %s" % self.path("www", "images"))

    def servers(self):
        s = Servers(self)
        return s


def run(cmd, timeout):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    if r.returncode != 0:
        raise Fail("%s exited %d: %s" % (cmd[0], r.returncode, r.stdout.decode(errors="replace")[-2000:]))
    return r.stdout.decode(errors="replace")


def stop_process(p, grace=10):
    """TERM, then KILL after GRACE seconds (pxeboot.sh kills its QEMU on TERM)."""
    if p.poll() is None:
        try:
            p.send_signal(signal.SIGTERM)
            p.wait(grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
        except ProcessLookupError:
            pass


def start_with_port(work, name, args, limit):
    """Start a server (bounded by `timeout LIMIT`) that writes its port to a
    file; return (Popen, port)."""
    pf = work.path(name + ".port")
    try:
        os.unlink(pf)
    except FileNotFoundError:
        pass
    err = open(work.path(name + ".err"), "a")
    p = subprocess.Popen(["timeout", str(limit), PYTHON] + args + ["--port-file", pf],
                         stdin=subprocess.DEVNULL, stdout=err, stderr=err, start_new_session=True)
    work.procs.append(p)
    for _ in range(200):
        if os.path.exists(pf):
            with open(pf) as f:
                return p, int(f.read())
        if p.poll() is not None:
            break
        time.sleep(0.05)
    raise Fail("%s did not start (see %s)" % (name, work.path(name + ".err")))


class Servers:
    """faultproxy.py origin (the boot tree, Range-capable) and faultproxy.py
    proxy in front of it, both on 127.0.0.1; the guest reaches the proxy."""

    def __init__(self, work, limit=4 * 3600):
        self.work = work
        self.program_file = work.path("program.json")
        self.log_file = work.path("proxy.log")
        self.program([])
        _, self.origin_port = start_with_port(work, "origin", [FAULTPROXY, "origin", "--dir", work.path("www"),
                                                              "--log", work.path("origin.log")], limit)
        _, self.port = start_with_port(work, "proxy", [FAULTPROXY, "proxy", "--upstream",
                                                      "http://127.0.0.1:%d" % self.origin_port,
                                                      "--program", self.program_file, "--log", self.log_file], limit)

    def program(self, rules):
        tmp = self.program_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"rules": rules}, f, indent=1)
        os.rename(tmp, self.program_file)

    def rows(self, since=0):
        """The proxy's log lines (requests and events) from line SINCE on."""
        if not os.path.exists(self.log_file):
            return []
        with open(self.log_file) as f:
            return [json.loads(x) for x in f.readlines()[since:] if x.strip()]

    def image_rows(self, since=0):
        return [r for r in self.rows(since) if "event" not in r and r["path"].startswith(IMAGE_PATH)]

    def mark(self):
        return len(self.rows())


# --- the guest -----------------------------------------------------------------------

class Guest:
    """One qemu/pxeboot.sh run in the background. Markers are looked for in
    the serial log from where this run began."""

    def __init__(self, work, serial, args, timeout, label=""):
        self.work = work
        self.serial = serial
        self.label = label or os.path.basename(serial)
        self.pidfile = serial + ".qemu.pid"
        self.out = serial + ".pxeboot.out"
        for f in (self.pidfile,):
            try:
                os.unlink(f)
            except FileNotFoundError:
                pass
        cmd = [PXEBOOT, "--serial-log", serial, "--timeout", str(timeout),
               "--qemu-arg", "-pidfile", "--qemu-arg", self.pidfile] + args
        self._off, self._text = 0, ""
        self._dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.started = time.time()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=open(self.out, "w"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        work.procs.append(self.proc)

    def text(self):
        """The console so far (read incrementally: the install's log is ~1 MB)."""
        try:
            with open(self.serial, "rb") as f:
                f.seek(self._off)
                data = f.read()
        except FileNotFoundError:
            data = b""
        if data:
            self._off += len(data)
            self._text += self._dec.decode(data).replace("\r", "")
        return self._text

    def elapsed(self):
        return time.time() - self.started

    def wait(self, expect, timeout, fail_on=(), poll=0.1):
        """Wait for the first of EXPECT (strings or compiled regexes, or
        callables text -> bool) on the console. Returns (which, seconds).
        Raises Fail on a FAIL_ON marker, the guest's end, or the timeout."""
        end = time.time() + timeout
        seen = 0  # the whole console first, then what is new (with an overlap)
        while True:
            t = self.text()
            region = t[max(0, seen - 4096):]
            seen = len(t)
            for e in expect:
                if matches(e, region):
                    return e, self.elapsed()
            for f in fail_on:
                if matches(f, region):
                    raise Fail("%s: '%s' on the console after %.0f s" % (self.label, show(f), self.elapsed()))
            if self.proc.poll() is not None:
                raise Fail("%s: the guest ended (pxeboot status %d) after %.0f s without %s" % (
                    self.label, self.proc.returncode, self.elapsed(), " or ".join(show(e) for e in expect)))
            if time.time() > end:
                raise Fail("%s: %s not seen within %d s" % (self.label, " or ".join(show(e) for e in expect), timeout))
            time.sleep(poll)

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Fail("%s: the guest did not end within %d s" % (self.label, timeout))

    def qemu_pid(self):
        with open(self.pidfile) as f:
            pid = int(f.read())
        with open("/proc/%d/comm" % pid) as f:
            if not f.read().startswith("qemu"):
                raise Fail("pid %d from %s is not QEMU" % (pid, self.pidfile))
        return pid

    def kill9(self):
        """The power cut: SIGKILL to QEMU itself, nothing flushed by the guest."""
        pid = self.qemu_pid()
        os.kill(pid, signal.SIGKILL)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            stop_process(self.proc)

    def stop(self):
        stop_process(self.proc)


def matches(e, text):
    if callable(e):
        return e(text)
    if isinstance(e, re.Pattern):
        return e.search(text) is not None
    return e in text


def show(e):
    if isinstance(e, re.Pattern):
        return "/%s/" % e.pattern
    if callable(e):
        return getattr(e, "__doc__", None) or getattr(e, "__name__", "a condition")
    return e


def progress_at_least(pct):
    """A console condition: the image progress line reached PCT percent."""
    rx = re.compile(r"debian12\.tar\.zst: [0-9.]+ MiB of [0-9.]+ MiB \((\d+)%\)")

    def cond(text):
        return any(int(m.group(1)) >= pct for m in rx.finditer(text))
    cond.__doc__ = "image progress >= %d%%" % pct
    return cond


def netboot(work, servers, serial, disks, timeout, label="", extra=()):
    """PXE boot through the proxy (every HTTP request of the guest)."""
    args = ["--www", work.path("www"), "--port", str(servers.port), "--mac", MAC]
    for d in disks:
        args += ["--disk", d]
    return Guest(work, serial, args + list(extra), timeout, label)


def boot_disk_alone(work, disks, serial, window=60):
    """Boot the target (first of DISKS) from disk, with no network card, for
    at most WINDOW seconds: it must neither start a kernel nor reach a login
    prompt. SeaBIOS's debug port (0x402) tells when it has given up ("No
    bootable device."): the window ends early then. Returns a one-line
    verdict; raises Fail when the disk booted something."""
    dbg = serial + ".seabios"
    args = ["--boot-disk", "--no-net", "--qemu-arg", "-debugcon", "--qemu-arg", "file:" + dbg,
            "--qemu-arg", "-global", "--qemu-arg", "isa-debugcon.iobase=0x402"]
    for d in disks:
        args += ["--disk", d]
    g = Guest(work, serial, args, window + 30, "disk-alone boot")

    def seabios_gave_up(_text):
        """SeaBIOS: No bootable device"""
        try:
            with open(dbg, "rb") as f:
                return b"No bootable device" in f.read()
        except FileNotFoundError:
            return False
    try:
        which, secs = g.wait([seabios_gave_up] + list(BOOTED_MARKERS), window)
    except Fail:
        which, secs = None, g.elapsed()  # the window ended: judged below
    g.stop()
    text = g.text()
    booted = [m for m in BOOTED_MARKERS if m in text]
    if booted:
        raise Fail("the disk alone started something: '%s' on its console after %.0f s (%s)" % (
            booted[0], secs, serial))
    if which is seabios_gave_up:
        return "no kernel, no login: SeaBIOS found no bootable device after %.1f s" % secs
    return "no kernel, no login within the %d s window" % window


# --- profiles ------------------------------------------------------------------------

def profile(hostname="demo01", fetch=None, wipe=False, firstboot_marker=True):
    """The demo profile (profiles/default.yaml) with the image's sha256, the
    image from the boot server (through the proxy), this hostname, and an
    optional fetch: section (a dict)."""
    with open(os.path.join(ROOT, "profiles", "default.yaml")) as f:
        text = f.read()
    text = text.replace("@IMAGE_SHA256@", image_sha256())
    text = re.sub(r"(?m)^hostname: .*$", "hostname: %s" % hostname, text)
    if wipe:
        text = re.sub(r"(?m)^  wipe: false$", "  wipe: true", text)
    if not firstboot_marker:
        text = text.split("\n# cloud-config user-data")[0] + "\n"
    if fetch:
        text += "\nfetch:\n" + "".join("  %s: %s\n" % (k, v) for k, v in fetch.items())
    return text


def console_lines(text, rx):
    return [ln for ln in text.splitlines() if re.search(rx, ln)]


def exit_status(text):
    m = re.search(r"INIT: installer exited with status (\d+)", text)
    return int(m.group(1)) if m else None


class Table:
    """A plain-text summary table (also written to a file)."""

    def __init__(self, cols):
        self.cols = cols
        self.rows = []

    def add(self, *row):
        self.rows.append([str(x) for x in row])

    def render(self):
        w = [max(len(c), *(len(r[i]) for r in self.rows)) if self.rows else len(c) for i, c in enumerate(self.cols)]
        out = ["| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(self.cols)) + " |",
               "|" + "|".join("-" * (x + 2) for x in w) + "|"]
        for r in self.rows:
            out.append("| " + " | ".join(r[i].ljust(w[i]) for i in range(len(self.cols))) + " |")
        return "\n".join(out)

    def finish(self, name, summary):
        """Print the table and the summary line, and keep both in
        build/vmtest/NAME/summary.txt."""
        out = self.render()
        print(out)
        print(summary)
        with open(os.path.join(BUILD, "vmtest", name, "summary.txt"), "w") as f:
            f.write(out + "\n" + summary + "\n")


def main_with_signals(main):
    """sys.exit(main()), with TERM or HUP (a test runner's timeout, a closed
    terminal) ending the run like ^C: through the cleanup that stops the
    guest and the servers and deletes the disk images, not around it."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
    sys.exit(main())
