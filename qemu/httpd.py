#!/usr/bin/env python3
"""Static HTTP server for the boot tree, bound to 127.0.0.1 by default.

Usage: httpd.py DIR [--port N] [--port-file FILE] [--bind ADDR] [--record FILE]

--bind is for tests/vm/50-dnsmasq-proxy.sh only, which runs the server inside
its own network namespace (no link to the host's network) on the address of
the namespace's bridge.

Port 0 (the default) picks a free port. The chosen port is written to
--port-file once the socket is listening, so a caller can wait for it.
Requests are logged to stderr. Used by qemu/serve.sh.

With --record FILE the server also accepts POST (the installer's event
reports, docs/events.md): each request is appended to FILE as one JSON line
{"time", "path", "headers", "body"} and answered 204. Without it, POST is
refused (501).
"""
import argparse
import functools
import http.server
import json
import os
import sys
import threading
import time

RECORD_LOCK = threading.Lock()


class Handler(http.server.SimpleHTTPRequestHandler):
    record = None

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))
        sys.stderr.flush()

    def do_POST(self):
        if not self.record:
            self.send_error(501, "POST not enabled")
            return
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        entry = {
            "time": time.time(),
            "path": self.path,
            "headers": {k: v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        with RECORD_LOCK:
            with open(self.record, "a") as f:
                f.write(json.dumps(entry) + "\n")
        self.send_response(204)
        self.end_headers()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--record")
    a = ap.parse_args()
    if a.record:
        Handler.record = os.path.abspath(a.record)
    handler = functools.partial(Handler, directory=os.path.abspath(a.dir))
    http.server.ThreadingHTTPServer.daemon_threads = True
    srv = http.server.ThreadingHTTPServer((a.bind, a.port), handler)
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.port_file)
    sys.stderr.write("serving %s on http://%s:%d/\n" % (a.dir, a.bind, port))
    sys.stderr.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
