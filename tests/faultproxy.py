#!/usr/bin/env python3
"""faultproxy.py - an HTTP fault-injection proxy for tests (loopback only).

Usage:
  faultproxy.py proxy --upstream http://127.0.0.1:PORT --program FILE --log FILE
                      [--port N] [--port-file FILE]
  faultproxy.py origin --dir DIR [--port N] [--port-file FILE] [--log FILE]
  faultproxy.py selftest [--keep DIR]

proxy: listens on 127.0.0.1 (port 0, the default, picks a free one; the
  port is written to --port-file once the socket listens) and forwards every
  GET/HEAD to the upstream server over HTTP/1.1, Range header included. What
  it does to each answer is read from the program file (JSON), re-read on
  every request, so a test can change it at any time. One JSON line per
  request is appended to the log (below).
origin: a static file server on 127.0.0.1 that honours Range (one range,
  206 + Content-Range, 416 past the end) and sends ETag, Last-Modified and
  Accept-Ranges: the upstream the proxy is tested against. (qemu/httpd.py,
  Python's SimpleHTTPRequestHandler, ignores Range: through the proxy every
  resume would look like "server ignored the Range request".) Symbolic links
  are followed (the VM tests link the demo image); ".." never leaves DIR.
selftest: starts an origin and a proxy on loopback ports and checks every
  action against them; prints one line per check, exits 0 when all pass.

Program file:
  {"rules": [
     {"path": "REGEX",            # re.search on the request path
      "steps": [ACTION, ...],     # request 1, 2, 3, ... to a matching path
      "then": ACTION}             # every request after the steps (default pass)
  ]}
The first rule whose regex matches decides. Requests are counted per rule;
the counts restart from 1 whenever the program file's content changes. A
request no rule matches is passed through. An ACTION with "count": N stands
for N consecutive requests.

Actions ("do"), with the point where a body action starts given as
"after_bytes": N (of this answer's body), "at_offset": N (byte N of the
whole file) or "at_percent": P (P% of the whole file; the whole file's length
is the Content-Range total of a 206, else the Content-Length):
  pass                        forward unchanged
  status    code, count       answer CODE (e.g. 500, 503, 404) without asking
                              the upstream
  reset     POINT             send the body up to POINT, then reset the TCP
                              connection (RST: SO_LINGER 0). Queued bytes are
                              first given up to 2 s to leave the proxy
  stall     POINT, seconds, then: "continue" | "close"
                              stop sending for SECONDS, then go on, or close
                              the connection (FIN)
  trickle   rate [, POINT]    from POINT on (default 0) send RATE bytes/s
  truncate  POINT, content_length: "wrong" | "correct"
                              end the body at POINT: "wrong" keeps the
                              upstream's Content-Length (it promises more)
                              and closes (FIN) after POINT; "correct" sends a
                              Content-Length (and Content-Range end) that
                              match the short body: a complete-looking answer
  ignore_range                drop the Range header: the upstream answers 200
                              with the whole file
  change    what: list of "etag", "last_modified", "length", "bytes"
                              (default ["etag", "last_modified"]): a changed
                              ETag ("-changed" inside the quotes), a
                              Last-Modified one hour later, a different
                              length (206: Content-Range total + 4096; 200:
                              4096 zero bytes appended), different bytes
                              (every byte inverted, headers unchanged)
  flip      POINT             invert the one byte at POINT (headers
                              unchanged; the rest of the body as it is):
                              a corrupted byte the client can only find
                              with a checksum. A body that starts after
                              POINT (a resumed answer) is passed unchanged
  refuse    seconds           reset this connection, and every open one,
                              close the listening socket for SECONDS (new
                              connections are refused), then listen again
                              on the same port

Log (one JSON object per line, appended, flushed):
  {"time": "...Z", "t": EPOCH, "path", "range": HEADER|null, "start": N,
   "status": N, "bytes": BODY_BYTES_SENT, "action": "reset at 63667527",
   "rule": I|null, "n": N|null, "total": N|null, "upstream_status": N|null,
   "end": "complete"|"reset"|"closed"|"client-gone"|"error: ...",
   "seconds": D}
and one line {"event": "refuse-start"|"refuse-end", ...} around a refusal.

Everything binds 127.0.0.1; --upstream must be a loopback http:// URL.
"""
import argparse
import email.utils
import hashlib
import http.client
import http.server
import json
import os
import random
import re
import select
import socket
import struct
import sys
import tempfile
import threading
import time
import urllib.parse

LOOPBACK = "127.0.0.1"
CHUNK = 64 * 1024
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade", "proxy-connection",
}
ACTIONS = {"pass", "status", "reset", "stall", "trickle", "truncate",
           "ignore_range", "change", "refuse", "flip"}


def utcnow():
    t = time.time()
    return t, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


def write_port_file(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


# --- the program ------------------------------------------------------------------

class ProgramError(Exception):
    pass


def check_action(a, where):
    if not isinstance(a, dict) or a.get("do") not in ACTIONS:
        raise ProgramError("%s: an action is an object with \"do\" one of %s" % (where, sorted(ACTIONS)))
    points = [k for k in ("after_bytes", "at_offset", "at_percent") if k in a]
    if len(points) > 1:
        raise ProgramError("%s: at most one of after_bytes, at_offset, at_percent" % where)
    do = a["do"]
    if do in ("reset", "stall", "truncate", "flip") and not points:
        raise ProgramError("%s: %s needs after_bytes, at_offset or at_percent" % (where, do))
    if do == "status" and not isinstance(a.get("code"), int):
        raise ProgramError("%s: status needs an integer code" % where)
    if do in ("stall", "refuse") and not isinstance(a.get("seconds"), (int, float)):
        raise ProgramError("%s: %s needs seconds" % (where, do))
    if do == "trickle" and not (isinstance(a.get("rate"), (int, float)) and a["rate"] > 0):
        raise ProgramError("%s: trickle needs rate > 0" % where)
    if do == "stall" and a.get("then", "continue") not in ("continue", "close"):
        raise ProgramError("%s: stall then is continue or close" % where)
    if do == "truncate" and a.get("content_length", "wrong") not in ("wrong", "correct"):
        raise ProgramError("%s: truncate content_length is wrong or correct" % where)
    if do == "change":
        what = a.get("what", ["etag", "last_modified"])
        if isinstance(what, str):
            what = [what]
        bad = set(what) - {"etag", "last_modified", "length", "bytes"}
        if bad:
            raise ProgramError("%s: change what: unknown %s" % (where, sorted(bad)))
    c = a.get("count", 1)
    if not isinstance(c, int) or c < 1:
        raise ProgramError("%s: count is an integer >= 1" % where)


def parse_program(text):
    try:
        prog = json.loads(text) if text.strip() else {"rules": []}
    except ValueError as e:
        raise ProgramError("not JSON: %s" % e)
    if not isinstance(prog, dict) or not isinstance(prog.get("rules", []), list):
        raise ProgramError("the program is an object with a list \"rules\"")
    rules = []
    for i, r in enumerate(prog.get("rules", [])):
        where = "rule %d" % i
        if not isinstance(r, dict) or not isinstance(r.get("path"), str):
            raise ProgramError("%s: needs a \"path\" regex" % where)
        try:
            rx = re.compile(r["path"])
        except re.error as e:
            raise ProgramError("%s: bad path regex: %s" % (where, e))
        steps = []
        for j, a in enumerate(r.get("steps", [])):
            check_action(a, "%s step %d" % (where, j))
            steps.extend([a] * a.get("count", 1))
        then = r.get("then", {"do": "pass"})
        check_action(then, "%s then" % where)
        rules.append((rx, steps, then))
    return rules


def describe(a):
    do = a["do"]
    parts = [do]
    for k in ("code", "after_bytes", "at_offset", "at_percent", "seconds", "rate", "then",
              "content_length", "what"):
        if k in a:
            parts.append("%s=%s" % (k, a[k] if not isinstance(a[k], list) else ",".join(a[k])))
    return " ".join(parts)


# --- the proxy ----------------------------------------------------------------------

class Proxy:
    def __init__(self, upstream, program, log, port=0):
        u = urllib.parse.urlsplit(upstream)
        if u.scheme != "http" or u.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("faultproxy: --upstream must be http://127.0.0.1:PORT")
        self.up_host, self.up_port = "127.0.0.1", u.port or 80
        self.up_prefix = u.path.rstrip("/")
        self.program = program
        self.log_path = log
        self.lock = threading.Lock()
        self.counts = {}
        self.program_digest = None
        self.refuse_until = 0.0
        self.clients = set()
        self.sock = None
        self.port = port
        self.stopping = False
        self.sock = self._listen()
        self.port = self.sock.getsockname()[1]

    def _listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((LOOPBACK, self.port))
        s.listen(64)
        return s

    def log(self, entry):
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self.lock:
            with open(self.log_path, "a") as f:
                f.write(line)

    def decide(self, path):
        """The action for this request: (action, rule index, request number)."""
        try:
            with open(self.program, "rb") as f:
                text = f.read()
        except FileNotFoundError:
            text = b""
        rules = parse_program(text.decode())
        digest = hashlib.sha256(text).hexdigest()
        with self.lock:
            if digest != self.program_digest:
                self.program_digest = digest
                self.counts = {}
            for i, (rx, steps, then) in enumerate(rules):
                if rx.search(path):
                    n = self.counts.get(i, 0) + 1
                    self.counts[i] = n
                    return (steps[n - 1] if n <= len(steps) else then), i, n
        return {"do": "pass"}, None, None

    def start_refusal(self, seconds):
        """The server goes down now: the listening socket is closed here, at
        once (not by the accept loop a moment later), so a client that
        reconnects as soon as it sees its connection reset is refused."""
        t, iso = utcnow()
        with self.lock:
            self.refuse_until = max(self.refuse_until, t + seconds)
            clients = list(self.clients)
            sock, self.sock = self.sock, None
        if sock is not None:
            # shutdown() stops the listening at once; close() alone would
            # not while the accept loop's select() still holds the socket.
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        for c in clients:  # the server went down: every open connection too
            abort_other(c)
        self.log({"event": "refuse-start", "t": t, "time": iso, "seconds": seconds, "port": self.port})

    def serve_forever(self):
        while not self.stopping:
            now = time.time()
            with self.lock:
                refusing = now < self.refuse_until
                sock = self.sock
            if refusing:
                time.sleep(min(0.05, self.refuse_until - now))
                continue
            if sock is None:
                try:
                    sock = self._listen()
                except OSError:
                    time.sleep(0.05)  # the port lingers; try again
                    continue
                with self.lock:
                    self.sock = sock
                t, iso = utcnow()
                self.log({"event": "refuse-end", "t": t, "time": iso, "port": self.port})
            try:
                # start_refusal() may close sock under this select: an error
                # or a failed accept, and the next turn sees the refusal.
                r, _, _ = select.select([sock], [], [], 0.05)
                if not r:
                    continue
                conn, addr = sock.accept()
            except (OSError, ValueError):
                continue
            if time.time() < self.refuse_until:
                # Accepted between a refusal's start and this loop closing
                # the listening socket: refused all the same.
                abort_other(conn)
                conn.close()
                continue
            with self.lock:
                self.clients.add(conn)
            threading.Thread(target=self._client, args=(conn, addr), daemon=True).start()

    def _client(self, conn, addr):
        try:
            ProxyHandler(conn, addr, self)
        except Exception:  # a client gone mid-request: nothing to do
            pass
        finally:
            with self.lock:
                self.clients.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    def stop(self):
        self.stopping = True


def abort(conn):
    """Reset our own connection now: RST instead of FIN (SO_LINGER 0, then
    close the descriptor; the socket object is detached first, so the
    handler's file objects fail cleanly instead of touching a reused fd)."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        os.close(conn.detach())
    except OSError:
        pass


def abort_other(conn):
    """Reset a connection another thread serves: SO_LINGER 0 and SHUT_RD,
    which wakes its reader; its close then sends the RST."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.shutdown(socket.SHUT_RD)
    except OSError:
        pass


def unsent(conn):
    """Bytes still in this socket's send queue (Linux SIOCOUTQ)."""
    import fcntl
    import termios
    try:
        return struct.unpack("i", fcntl.ioctl(conn.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]
    except OSError:
        return 0


def client_gone(conn):
    """True when the client closed or reset its end (readable and EOF/error)."""
    try:
        r, _, _ = select.select([conn], [], [], 0)
        if not r:
            return False
        return conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class ClientGone(Exception):
    pass


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faultproxy"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.forward()

    def do_HEAD(self):
        self.forward()

    def send_raw(self, data):
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, OSError):
            raise ClientGone()

    def forward(self):
        px = self.server
        t0 = time.time()
        rng = self.headers.get("Range")
        entry = {"path": self.path, "range": rng, "start": 0, "status": None, "bytes": 0,
                 "rule": None, "n": None, "total": None, "upstream_status": None}
        entry["t"], entry["time"] = utcnow()
        try:
            action, entry["rule"], entry["n"] = px.decide(self.path)
        except ProgramError as e:
            action = {"do": "status", "code": 500}
            entry["program_error"] = str(e)
        entry["action"] = describe(action)
        try:
            entry["end"] = self.run(action, entry)
        except ClientGone:
            entry["end"] = "client-gone"
            self.close_connection = True
        except Exception as e:  # noqa: BLE001 - logged, the connection dropped
            entry["end"] = "error: %s" % e
            self.close_connection = True
        entry["seconds"] = round(time.time() - t0, 3)
        px.log(entry)

    def run(self, action, entry):
        px = self.server
        do = action["do"]
        if do == "refuse":
            px.start_refusal(float(action["seconds"]))  # first: no reconnect slips in
            abort(self.connection)
            self.close_connection = True
            return "refused"
        if do == "status":
            code = action["code"]
            body = ("%d %s\n" % (code, http.client.responses.get(code, ""))).encode()
            self.send_response_only(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            entry["status"] = code
            if self.command != "HEAD":
                self.send_raw(body)
                entry["bytes"] = len(body)
            return "complete"

        # Ask the upstream.
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if do == "ignore_range":
            headers.pop("Range", None)
            for k in list(headers):
                if k.lower() in ("range", "if-range"):
                    del headers[k]
        up = http.client.HTTPConnection(px.up_host, px.up_port, timeout=60)
        try:
            up.request(self.command, px.up_prefix + self.path, headers=headers)
            resp = up.getresponse()
            return self.relay(action, entry, resp)
        finally:
            up.close()

    def relay(self, action, entry, resp):
        do = action["do"]
        entry["upstream_status"] = resp.status
        hdrs = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
        get = {k.lower(): v for k, v in hdrs}
        clen = int(get["content-length"]) if "content-length" in get else None
        start, total = 0, clen
        m = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", get.get("content-range", ""))
        if resp.status == 206 and m:
            start = int(m.group(1))
            total = int(m.group(3)) if m.group(3) != "*" else None
        entry["start"], entry["total"] = start, total

        # Where a body action begins, counted in bytes of this body.
        point = None
        if "after_bytes" in action:
            point = int(action["after_bytes"])
        elif "at_offset" in action:
            point = max(0, int(action["at_offset"]) - start)
        elif "at_percent" in action and total is not None:
            point = max(0, int(total * float(action["at_percent"]) / 100) - start)
        elif "at_percent" in action:
            point = 0
        if point is not None and clen is not None:
            point = min(point, clen)

        status = resp.status
        extra = b""
        invert = False
        if do == "change":
            what = action.get("what", ["etag", "last_modified"])
            if isinstance(what, str):
                what = [what]
            new = []
            for k, v in hdrs:
                kl = k.lower()
                if kl == "etag" and "etag" in what:
                    v = v[:-1] + '-changed"' if v.endswith('"') else v + "-changed"
                elif kl == "last-modified" and "last_modified" in what:
                    try:
                        d = email.utils.parsedate_to_datetime(v)
                        v = email.utils.format_datetime(d.fromtimestamp(d.timestamp() + 3600, d.tzinfo), usegmt=True)
                    except (TypeError, ValueError):
                        v = "Thu, 01 Jan 2037 00:00:00 GMT"
                elif kl == "content-range" and "length" in what and m:
                    v = "bytes %s-%s/%d" % (m.group(1), m.group(2), (total or 0) + 4096)
                new.append((k, v))
            if "etag" in what and "etag" not in get:
                new.append(("ETag", '"faultproxy-changed"'))
            hdrs = new
            if "length" in what and status == 200 and clen is not None:
                extra = b"\0" * 4096
                hdrs = [(k, str(clen + 4096) if k.lower() == "content-length" else v) for k, v in hdrs]
            invert = "bytes" in what
        if do == "truncate" and action.get("content_length", "wrong") == "correct":
            new = []
            for k, v in hdrs:
                kl = k.lower()
                if kl == "content-length":
                    v = str(point)
                elif kl == "content-range" and m:
                    v = "bytes %d-%d/%s" % (start, start + point - 1, m.group(3))
                new.append((k, v))
            hdrs = new
        if clen is None:
            self.close_connection = True  # the end of the body is the end of the connection

        self.send_response_only(status)
        for k, v in hdrs:
            self.send_header(k, v)
        if clen is None:
            self.send_header("Connection", "close")
        self.end_headers()
        entry["status"] = status
        if self.command == "HEAD":
            return "complete"

        conn = self.connection
        sent = 0
        limit = None  # stop after this many body bytes
        if do in ("reset", "truncate"):
            limit = point
        elif do == "stall" and action.get("then", "continue") == "close":
            limit = point
        trickle_from = None
        if do == "trickle":
            trickle_from = point or 0
        stalled = False
        t_trickle = None
        while True:
            if do == "stall" and not stalled and sent >= point:
                stalled = True
                entry["stalled_at"] = sent
                self.wfile.flush()
                end = time.time() + float(action["seconds"])
                while time.time() < end:
                    if client_gone(conn):
                        raise ClientGone()
                    time.sleep(min(0.1, max(0, end - time.time())))
                if action.get("then", "continue") == "close":
                    break
            if limit is not None and sent >= limit:
                break
            want = CHUNK
            if limit is not None:
                want = min(want, limit - sent)
            if do == "stall" and not stalled:
                want = min(want, point - sent)
            if trickle_from is not None and sent >= trickle_from:
                rate = float(action["rate"])
                if t_trickle is None:
                    t_trickle = (time.time(), sent)
                # Send what the rate allows since the trickle began, at least one byte.
                allowed = int((time.time() - t_trickle[0]) * rate) - (sent - t_trickle[1])
                if allowed <= 0:
                    if client_gone(conn):
                        raise ClientGone()
                    time.sleep(min(0.1, max(0.001, 1.0 / rate)))
                    continue
                want = min(want, allowed)
            elif trickle_from is not None:
                want = min(want, trickle_from - sent)
            data = resp.read(want) if want > 0 else b""
            if not data:
                break
            if invert:
                data = bytes(b ^ 0xFF for b in data)
            if do == "flip" and point is not None and sent <= point < sent + len(data) \
                    and not ("at_offset" in action and int(action["at_offset"]) < start):
                i = point - sent
                data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
                entry["flipped_at"] = start + point
            self.send_raw(data)
            sent += len(data)
            entry["bytes"] = sent
        if extra:
            self.send_raw(extra)
            entry["bytes"] = sent + len(extra)
        try:
            self.wfile.flush()
        except OSError:
            raise ClientGone()

        if do == "reset":
            # Give the bytes already written up to 2 s to leave this socket, so
            # the log's byte count is what the client could get; then RST.
            end = time.time() + 2
            while unsent(conn) > 0 and time.time() < end:
                time.sleep(0.01)
            abort(conn)
            self.close_connection = True
            return "reset"
        if do == "truncate" and action.get("content_length", "wrong") == "wrong" \
                or do == "stall" and action.get("then", "continue") == "close":
            try:
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            self.close_connection = True
            return "closed"
        if clen is not None and sent < clen and not (do == "truncate"):
            self.close_connection = True
            return "upstream-short"
        return "complete"


# --- the origin ---------------------------------------------------------------------

class OriginHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faultproxy-origin"
    sys_version = ""
    root = "."
    logfile = None

    def log_message(self, fmt, *args):
        if self.logfile:
            with open(self.logfile, "a") as f:
                f.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    def do_GET(self):
        self.serve(True)

    def do_HEAD(self):
        self.serve(False)

    def error(self, code):
        body = ("%d %s\n" % (code, http.client.responses.get(code, ""))).encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def serve(self, body):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if ".." in parts:
            return self.error(403)
        fs = os.path.join(self.root, *parts)
        if not os.path.isfile(fs):
            return self.error(404)
        try:
            f = open(fs, "rb")
        except OSError:
            return self.error(403)
        with f:
            st = os.fstat(f.fileno())
            size = st.st_size
            etag = '"%x-%x"' % (size, st.st_mtime_ns)
            first, last = 0, size - 1
            status = 200
            rng = self.headers.get("Range")
            if rng:
                m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", rng)
                if not m or (m.group(1) == "" and m.group(2) == ""):
                    m = None  # not one simple range: ignore it (RFC 9110 allows that)
                if m:
                    if m.group(1) == "":
                        first = max(0, size - int(m.group(2)))
                    else:
                        first = int(m.group(1))
                        if m.group(2) != "":
                            last = min(last, int(m.group(2)))
                    if first >= size or first > last:
                        self.send_response(416)
                        self.send_header("Content-Range", "bytes */%d" % size)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    status = 206
            n = last - first + 1
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
            if status == 206:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (first, last, size))
            self.end_headers()
            if not body:
                return
            f.seek(first)
            left = n
            while left > 0:
                data = f.read(min(CHUNK, left))
                if not data:
                    break
                self.wfile.write(data)
                left -= len(data)


class OriginServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that resets or leaves mid-answer is what the proxy's tests
        # do all the time: not worth a traceback.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def make_origin(root, port=0, logfile=None):
    handler = type("H", (OriginHandler,), {"root": os.path.abspath(root), "logfile": logfile})
    return OriginServer((LOOPBACK, port), handler)


# --- self test ----------------------------------------------------------------------

def selftest(keep=None):
    tmp = keep or tempfile.mkdtemp(prefix="faultproxy-selftest.")
    os.makedirs(os.path.join(tmp, "www"), exist_ok=True)
    size = 1 << 20
    blob = random.Random(13).randbytes(size)
    with open(os.path.join(tmp, "www", "img.bin"), "wb") as f:
        f.write(blob)
    origin = make_origin(os.path.join(tmp, "www"))
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    prog = os.path.join(tmp, "program.json")
    logf = os.path.join(tmp, "proxy.log")
    open(logf, "w").close()
    px = Proxy("http://127.0.0.1:%d" % origin.server_address[1], prog, logf)
    threading.Thread(target=px.serve_forever, daemon=True).start()
    failures = []

    def check(name, ok, detail=""):
        print("%s: %s%s" % ("ok" if ok else "FAIL", name, (" (" + detail + ")") if detail else ""))
        sys.stdout.flush()
        if not ok:
            failures.append(name)

    def program(rules):
        with open(prog + ".tmp", "w") as f:
            json.dump({"rules": rules}, f)
        os.rename(prog + ".tmp", prog)

    def get(path="/img.bin", headers=None, timeout=20):
        """(status, headers dict, body, error) with a raw socket: a reset or short body is seen as such."""
        seen[0] = log_count()
        s = socket.create_connection((LOOPBACK, px.port), timeout=timeout)
        req = "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" % path
        for k, v in (headers or {}).items():
            req += "%s: %s\r\n" % (k, v)
        s.sendall((req + "\r\n").encode())
        data, err = b"", None
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
        except ConnectionResetError:
            err = "reset"
        except socket.timeout:
            err = "timeout"
        s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        st = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else None
        hd = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hd[k.strip().lower()] = v.strip()
        return st, hd, body, err

    def last_log():
        """The last request's log line; the proxy writes it just after the
        answer's end, so wait (2 s at most) for a line not yet returned."""
        end = time.time() + 2
        while True:
            with open(logf) as f:
                lines = [json.loads(x) for x in f if x.strip()]
            lines = [x for x in lines if "event" not in x]
            if len(lines) > seen[0] or time.time() > end:
                return lines[-1]
            time.sleep(0.02)
    seen = [0]

    def log_count():
        with open(logf) as f:
            return sum(1 for x in f if x.strip() and '"event"' not in x)

    try:
        program([])
        st, hd, body, err = get()
        check("pass: 200, whole file, ETag", st == 200 and body == blob and "etag" in hd and err is None)
        st, hd, body, err = get(headers={"Range": "bytes=1000-"})
        check("pass: Range through: 206 from byte 1000", st == 206 and body == blob[1000:]
              and hd.get("content-range") == "bytes 1000-%d/%d" % (size - 1, size))
        e = last_log()
        check("log line: path, range, status, bytes, start", e["path"] == "/img.bin" and e["range"] == "bytes=1000-"
              and e["status"] == 206 and e["bytes"] == size - 1000 and e["start"] == 1000, json.dumps(e))

        program([{"path": r"\.bin$", "steps": [{"do": "status", "code": 503, "count": 2}]}])
        a, b, c = get()[0], get()[0], get()[0]
        check("status 503 x2, then pass", (a, b, c) == (503, 503, 200), "%s %s %s" % (a, b, c))
        check("unmatched path passes", get("/nothere")[0] == 404)

        program([{"path": r"\.bin$", "steps": [{"do": "status", "code": 404}]}])
        st, _, _, _ = get()
        check("status 404 without asking the upstream", st == 404 and last_log()["upstream_status"] is None)

        program([{"path": r"\.bin$", "steps": [{"do": "reset", "at_percent": 30}]}])
        st, hd, body, err = get()
        cut = int(size * 0.3)
        check("reset at 30%: RST after 30% of the body", st == 200 and err == "reset" and len(body) <= cut,
              "%d bytes, %s" % (len(body), err))
        e = last_log()
        check("reset logged with bytes sent = 30%", e["bytes"] == cut and e["end"] == "reset", json.dumps(e))
        st, hd, body, err = get(headers={"Range": "bytes=%d-" % cut})
        check("the next request passes, Range resumes", st == 206 and body == blob[cut:])

        program([{"path": r"\.bin$", "steps": [{"do": "reset", "at_percent": 60}]}])
        st, hd, body, err = get(headers={"Range": "bytes=%d-" % cut})
        want = int(size * 0.6) - cut
        check("reset at 60% of the file on a resumed answer", st == 206 and err == "reset" and len(body) <= want
              and last_log()["bytes"] == want, "%d of %d" % (len(body), want))

        program([{"path": r"\.bin$", "steps": [{"do": "reset", "after_bytes": 5000}]}])
        st, hd, body, err = get()
        check("reset after 5000 bytes", err == "reset" and len(body) <= 5000 and last_log()["bytes"] == 5000)

        program([{"path": r"\.bin$", "steps": [{"do": "stall", "after_bytes": 4096, "seconds": 1.5}]}])
        t = time.time()
        st, hd, body, err = get()
        d = time.time() - t
        check("stall 1.5 s then continue", body == blob and d >= 1.4, "%.2f s" % d)

        program([{"path": r"\.bin$", "steps": [{"do": "stall", "at_percent": 50, "seconds": 1, "then": "close"}]}])
        t = time.time()
        st, hd, body, err = get()
        d = time.time() - t
        check("stall 1 s then close (FIN, short body)", len(body) == size // 2 and err is None and d >= 0.9
              and last_log()["end"] == "closed", "%d bytes %.2f s" % (len(body), d))

        program([{"path": r"\.bin$", "steps": [{"do": "trickle", "rate": 20000, "after_bytes": 1000000}]}])
        t = time.time()
        st, hd, body, err = get()
        d = time.time() - t
        # 48576 bytes at 20000 B/s: about 2.4 s.
        check("trickle 20000 B/s for the last 48576 bytes", body == blob and 2.0 <= d <= 4.0, "%.2f s" % d)

        program([{"path": r"\.bin$", "steps": [{"do": "trickle", "rate": 100}]}])
        seen[0] = log_count()
        s = socket.create_connection((LOOPBACK, px.port), timeout=10)
        s.sendall(b"GET /img.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(1.2)
        s.close()
        time.sleep(0.5)
        e = last_log()
        check("trickle 100 B/s; the client leaving ends it", e["end"] == "client-gone" and e["bytes"] < 300,
              json.dumps(e))

        program([{"path": r"\.bin$", "steps": [{"do": "truncate", "after_bytes": 7777}]}])
        st, hd, body, err = get()
        check("truncate at 7777, wrong Content-Length", st == 200 and len(body) == 7777
              and hd.get("content-length") == str(size) and err is None)
        program([{"path": r"\.bin$", "steps": [{"do": "truncate", "after_bytes": 7777, "content_length": "correct"}]}])
        st, hd, body, err = get()
        check("truncate at 7777, correct Content-Length", st == 200 and body == blob[:7777]
              and hd.get("content-length") == "7777")
        st, hd, body, err = get(headers={"Range": "bytes=100-"})
        check("truncate again? no: the steps are used up", st == 206 and body == blob[100:])

        program([{"path": r"\.bin$", "then": {"do": "ignore_range"}}])
        st, hd, body, err = get(headers={"Range": "bytes=1000-"})
        check("ignore_range: 200 and the whole file", st == 200 and body == blob and "content-range" not in hd)

        program([])
        _, hd0, _, _ = get()
        program([{"path": r"\.bin$", "steps": [{"do": "pass"}], "then": {"do": "change"}}])
        _, hd1, _, _ = get()
        st, hd2, body, _ = get(headers={"Range": "bytes=10-"})
        check("change from request 2 on: ETag and Last-Modified differ", hd1["etag"] == hd0["etag"]
              and hd2["etag"] != hd0["etag"] and hd2["last-modified"] != hd0["last-modified"]
              and body == blob[10:], "%s -> %s" % (hd0["etag"], hd2["etag"]))
        program([{"path": r"\.bin$", "then": {"do": "change", "what": ["length"]}}])
        st, hd, body, _ = get(headers={"Range": "bytes=10-"})
        check("change length (206): Content-Range total + 4096",
              hd.get("content-range") == "bytes 10-%d/%d" % (size - 1, size + 4096) and hd["etag"] == hd0["etag"])
        st, hd, body, _ = get()
        check("change length (200): 4096 more bytes", len(body) == size + 4096 and hd["content-length"] == str(size + 4096))
        program([{"path": r"\.bin$", "then": {"do": "change", "what": "bytes"}}])
        st, hd, body, _ = get()
        check("change bytes: same headers, other bytes", hd["etag"] == hd0["etag"] and len(body) == size
              and body != blob and bytes(x ^ 0xFF for x in body[:100]) == blob[:100])

        program([{"path": r"\.bin$", "steps": [{"do": "flip", "at_offset": 300000}, {"do": "flip", "at_offset": 5}]}])
        st, hd, body, _ = get()
        want = blob[:300000] + bytes([blob[300000] ^ 0xFF]) + blob[300001:]
        check("flip at offset 300000: that byte inverted, the rest as it is",
              st == 200 and body == want and last_log().get("flipped_at") == 300000)
        st, hd, body, _ = get(headers={"Range": "bytes=100-"})
        check("flip at offset 5 on an answer from byte 100: unchanged", st == 206 and body == blob[100:])

        program([{"path": r"\.bin$", "steps": [{"do": "refuse", "seconds": 2}]}])
        t = time.time()
        st, hd, body, err = get()
        check("refuse: the triggering request is reset", st is None and (err == "reset" or body == b""))
        refused = 0
        while time.time() - t < 1.5:
            try:
                socket.create_connection((LOOPBACK, px.port), timeout=1).close()
            except (ConnectionRefusedError, ConnectionResetError):  # reset: accepted as the refusal began
                refused += 1
            time.sleep(0.1)
        check("refuse 2 s: connections refused meanwhile", refused >= 5, "%d refused" % refused)
        back = None
        while time.time() - t < 6:
            try:
                socket.create_connection((LOOPBACK, px.port), timeout=1).close()
                back = time.time() - t
                break
            except ConnectionRefusedError:
                time.sleep(0.05)
        check("listening again on the same port after ~2 s", back is not None and 1.9 <= back <= 3.5,
              "after %s s" % (back and round(back, 2)))
        st, hd, body, err = get()
        check("and serving", st == 200 and body == blob)
        with open(logf) as f:
            ev = [json.loads(x).get("event") for x in f]
        check("refuse-start and refuse-end logged", "refuse-start" in ev and "refuse-end" in ev)

        # Keep-alive: two requests on one connection through the proxy.
        program([])
        c = http.client.HTTPConnection(LOOPBACK, px.port, timeout=10)
        c.request("GET", "/img.bin", headers={"Range": "bytes=0-99"})
        r1 = c.getresponse().read()
        c.request("GET", "/img.bin", headers={"Range": "bytes=-100"})
        r2 = c.getresponse().read()
        c.close()
        check("HTTP/1.1 keep-alive, bounded and suffix ranges", r1 == blob[:100] and r2 == blob[-100:])

        program([{"path": r"\.bin$", "steps": [{"do": "bogus"}]}])
        st = get()[0]
        check("a bad program: 500 and the error logged", st == 500 and "program_error" in last_log())

        # Counts restart when the program changes; they are per rule.
        program([{"path": r"\.bin$", "steps": [{"do": "status", "code": 500}]},
                 {"path": r"other", "steps": [{"do": "status", "code": 502}]}])
        a, b = get()[0], get("/other")[0]
        program([{"path": r"\.bin$", "steps": [{"do": "status", "code": 503}]},
                 {"path": r"other", "steps": [{"do": "status", "code": 502}]}])
        c_ = get()[0]
        check("counts per rule, restarted by a new program", (a, b, c_) == (500, 502, 503), "%s %s %s" % (a, b, c_))
    finally:
        px.stop()
        origin.shutdown()
    print("%d checks failed" % len(failures) if failures else "all checks passed")
    if not keep:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(prog="faultproxy.py", description=__doc__.splitlines()[0],
                                 epilog=__doc__.split("\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("proxy", help="the fault proxy")
    p.add_argument("--upstream", required=True)
    p.add_argument("--program", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    o = sub.add_parser("origin", help="a static file server with Range, ETag, Last-Modified")
    o.add_argument("--dir", required=True)
    o.add_argument("--port", type=int, default=0)
    o.add_argument("--port-file")
    o.add_argument("--log")
    s = sub.add_parser("selftest", help="check every action against a local origin")
    s.add_argument("--keep", help="work in this directory and keep it")
    a = ap.parse_args()
    if a.cmd == "selftest":
        return selftest(a.keep)
    if a.cmd == "origin":
        srv = make_origin(a.dir, a.port, a.log)
        if a.port_file:
            write_port_file(a.port_file, srv.server_address[1])
        sys.stderr.write("faultproxy origin: serving %s on http://127.0.0.1:%d/\n" % (a.dir, srv.server_address[1]))
        sys.stderr.flush()
        try:
            srv.serve_forever()
        except KeyboardInterrupt:
            pass
        return 0
    # proxy: the program must parse now (a typo fails the start, not request 1).
    if os.path.exists(a.program):
        with open(a.program) as f:
            try:
                parse_program(f.read())
            except ProgramError as e:
                raise SystemExit("faultproxy: %s: %s" % (a.program, e))
    open(a.log, "a").close()
    px = Proxy(a.upstream, a.program, a.log, a.port)
    if a.port_file:
        write_port_file(a.port_file, px.port)
    sys.stderr.write("faultproxy: 127.0.0.1:%d -> %s (program %s, log %s)\n" % (px.port, a.upstream, a.program, a.log))
    sys.stderr.flush()
    try:
        px.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
