#!/usr/bin/env python3
"""HTTPS test servers for tests/cli/tls.sh, on 127.0.0.1 only.

  tls-server.py --dir WWW --ports FILE --log FILE NAME=CERT:KEY ...

One server per NAME, each on its own port (0: chosen by the kernel) with
its own certificate, all serving the files of WWW (GET) and answering POST
with 200. FILE gets "NAME PORT" lines once every server listens; LOG one
line per request: "NAME METHOD PATH" (written after the TLS handshake, so a
refused handshake logs nothing).
"""
import argparse
import http.server
import os
import ssl
import sys
import threading

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--ports", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("servers", nargs="+")
    a = ap.parse_args()
    lock = threading.Lock()

    def handler(name):
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def note(self):
                with lock, open(a.log, "a") as f:
                    f.write("%s %s %s\n" % (name, self.command, self.path.split("?")[0]))

            def do_GET(self):
                self.note()
                p = os.path.normpath(self.path.split("?")[0]).lstrip("/")
                f = os.path.join(a.dir, p)
                if p.startswith("..") or not os.path.isfile(f):
                    self.send_error(404)
                    return
                data = open(f, "rb").read()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                self.note()
                n = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(n)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
        return H

    lines = []
    for spec in a.servers:
        name, pair = spec.split("=", 1)
        cert, key = pair.split(":", 1)
        s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler(name))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        s.socket = ctx.wrap_socket(s.socket, server_side=True)
        threading.Thread(target=s.serve_forever, daemon=True).start()
        lines.append("%s %d\n" % (name, s.server_address[1]))
    with open(a.ports + ".tmp", "w") as f:
        f.writelines(lines)
    os.rename(a.ports + ".tmp", a.ports)
    threading.Event().wait()

if __name__ == "__main__":
    sys.exit(main())
