#!/usr/bin/env python3
"""HTTPS test servers for tests/cli/tls.sh, on 127.0.0.1 only.

  tls-server.py --dir WWW --ports FILE --log FILE NAME=CERT:KEY ...

One server per NAME, each on its own port (0: chosen by the kernel) with
its own certificate (NAME= without one: plain http), all serving the files
of WWW (GET) and answering POST with 200. GET /go/OTHER/PATH answers a 302
to https://127.0.0.1:PORT-OF-OTHER/PATH. FILE gets "NAME PORT" lines once every server listens; LOG one
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
    ports = {}

    def handler(name):
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def note(self):
                with lock, open(a.log, "a") as f:
                    f.write("%s %s %s\n" % (name, self.command, self.path.split("?")[0]))

            def do_GET(self):
                self.note()
                parts = self.path.split("/", 3)
                if len(parts) == 4 and parts[1] == "go" and parts[2] in ports:
                    self.send_response(302)
                    self.send_header("Location", "https://127.0.0.1:%d/%s" % (ports[parts[2]], parts[3]))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
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
        s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler(name))
        if pair:
            cert, key = pair.split(":", 1)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            s.socket = ctx.wrap_socket(s.socket, server_side=True)
        ports[name] = s.server_address[1]
        threading.Thread(target=s.serve_forever, daemon=True).start()
        lines.append("%s %d\n" % (name, s.server_address[1]))
    with open(a.ports + ".tmp", "w") as f:
        f.writelines(lines)
    os.rename(a.ports + ".tmp", a.ports)
    threading.Event().wait()

if __name__ == "__main__":
    sys.exit(main())
