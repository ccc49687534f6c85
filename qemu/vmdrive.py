#!/usr/bin/env python3
"""vmdrive.py -- drive a running QEMU guest over time (tests of one long run).

qemu/pxeboot.sh starts the guest (in the background, e.g. with
--boot-order net-first --monitor SOCK --serial-log FILE); this tool waits for
markers on the serial log and talks to the QEMU monitor.

  vmdrive.py wait --log FILE --expect STRING [--expect STRING ...]
                  [--from OFFSET] [--fail-on STRING ...] [--timeout SECONDS]
                  [--pid PID] [--no-tail]
      Wait until every --expect STRING appears in FILE after byte OFFSET
      (default 0; `stat -c %s FILE` before an action gives the offset of what
      follows it), in any order. Exit 0 when all appeared (prints the seconds
      waited and the byte offset just after the last match), 1 on timeout or
      when process PID (the pxeboot.sh running the guest) is gone, 3 when a
      --fail-on STRING appears after OFFSET. "Kernel panic - not syncing" is
      always a failure. On failure the last serial lines are printed on stderr
      (not with --no-tail: the caller shows them).

  vmdrive.py monitor --socket SOCK [--timeout SECONDS] COMMAND...
      Send one human-monitor command (e.g. system_reset) and print the
      monitor's answer.

Every wait has a timeout (default 600 s); nothing here waits forever.
"""
import argparse
import os
import re
import socket
import sys
import time

PANIC = "Kernel panic - not syncing"
ANSI = re.compile(rb"\x1b\[[0-9;?]*[a-zA-Z]")


def tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read()
    except OSError as e:
        return f"(cannot read {path}: {e})"
    data = ANSI.sub(b"", data.replace(b"\r", b""))
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def alive(pid):
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is gone for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cmd_wait(a):
    want = [s.encode() for s in a.expect]
    fail = [s.encode() for s in a.fail_on] + [PANIC.encode()]
    start = time.monotonic()
    found = {}
    buf = b""
    pos = a.start
    # Keep the last bytes of the previous read so a marker split between two
    # reads is still found.
    keep = max(len(s) for s in want + fail)
    while True:
        try:
            with open(a.log, "rb") as f:
                f.seek(pos)
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        if chunk:
            base = pos - len(buf)
            buf += chunk
            pos += len(chunk)
            for s in fail:
                if s in buf:
                    print(f"vmdrive: '{s.decode()}' on the serial console after "
                          f"{time.monotonic() - start:.1f} s", file=sys.stderr)
                    if not a.no_tail:
                        print(f"vmdrive: --- last lines of {a.log} ---\n{tail(a.log)}\nvmdrive: ---",
                              file=sys.stderr)
                    return 3
            for s in want:
                if s not in found:
                    i = buf.find(s)
                    if i >= 0:
                        found[s] = base + i + len(s)
            if len(found) == len(want):
                print(f"{time.monotonic() - start:.1f} {max(found.values())}")
                return 0
            buf = buf[-keep:]
        waited = time.monotonic() - start
        if waited >= a.timeout or not alive(a.pid):
            missing = [s.decode() for s in want if s not in found]
            why = f"timeout after {a.timeout:.0f} s" if waited >= a.timeout else \
                f"the guest's runner (pid {a.pid}) exited after {waited:.1f} s"
            print(f"vmdrive: {why} waiting for {missing}", file=sys.stderr)
            if not a.no_tail:
                print(f"vmdrive: --- last lines of {a.log} ---\n{tail(a.log)}\nvmdrive: ---",
                      file=sys.stderr)
            return 1
        time.sleep(0.25)


def cmd_monitor(a):
    deadline = time.monotonic() + a.timeout
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    while True:
        try:
            s.connect(a.socket)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() >= deadline:
                print(f"vmdrive: no QEMU monitor on {a.socket}", file=sys.stderr)
                return 1
            time.sleep(0.2)

    def read_prompt():
        out = b""
        while not out.endswith(b"(qemu) "):
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                raise TimeoutError("no monitor prompt")
            if not chunk:
                break
            out += chunk
        return out

    try:
        read_prompt()  # the banner
        s.sendall(" ".join(a.command).encode() + b"\n")
        out = read_prompt()
    except (TimeoutError, OSError) as e:
        print(f"vmdrive: monitor {a.socket}: {e}", file=sys.stderr)
        return 1
    finally:
        s.close()
    # The monitor echoes the command as typed (with cursor movements) up to
    # the first newline; its answer follows, then the next prompt.
    out = out.split(b"\n", 1)[1] if b"\n" in out else b""
    if out.endswith(b"(qemu) "):
        out = out[:-len(b"(qemu) ")]
    text = ANSI.sub(b"", out.replace(b"\r", b"")).decode("utf-8", "replace")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if lines:
        print("\n".join(lines))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("wait")
    w.add_argument("--log", required=True)
    w.add_argument("--expect", action="append", required=True)
    w.add_argument("--from", dest="start", type=int, default=0)
    w.add_argument("--fail-on", action="append", default=[])
    w.add_argument("--timeout", type=float, default=600)
    w.add_argument("--pid", type=int)
    w.add_argument("--no-tail", action="store_true")
    m = sub.add_parser("monitor")
    m.add_argument("--socket", required=True)
    m.add_argument("--timeout", type=float, default=10)
    m.add_argument("command", nargs="+")
    a = p.parse_args()
    return cmd_wait(a) if a.cmd == "wait" else cmd_monitor(a)


if __name__ == "__main__":
    sys.exit(main())
