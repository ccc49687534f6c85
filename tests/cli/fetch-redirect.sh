#!/bin/bash
# Redirects never go from https to http: an https image URL that redirects to
# http:// fails (-EPROTO, "redirect refused") and the http server never sees a
# request; https -> https is followed. A TLS server on 127.0.0.1 with a
# self-signed certificate, trusted by bind-mounting it over the system CA
# bundle in a private mount namespace (unshare -m; skipped without it).
. "$(dirname "$0")/lib.sh"
FP=$ROOT/tests/faultproxy.py
TOOL=${IMAGE_FETCH:-$ROOT/build/tests/tools/image-fetch}
BUNDLE=/etc/ssl/certs/ca-certificates.crt
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
[ -x "$TOOL" ] || make -C "$ROOT" -s "build/tests/tools/image-fetch" >/dev/null
if ! timeout 10 unshare -m --propagation private true 2>/dev/null || [ ! -f "$BUNDLE" ]; then
	echo "SKIP: needs unshare -m (root) and $BUNDLE to trust a test certificate"
	exit 0
fi
mkdir -p "$T/src/etc" "$T/www"
head -c 100000 /dev/urandom > "$T/src/etc/blob"
tar -C "$T/src" -cf - . | zstd -q -o "$T/www/img.tar.zst"
SHA=$(sha256sum "$T/www/img.tar.zst" | cut -d' ' -f1)
timeout 60 openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null

# The plain http server (the origin of tests/faultproxy.py, which logs).
start_bg origin "$T/origin.port" "$PY" "$FP" origin --dir "$T/www" --port-file "$T/origin.port" --log "$T/origin.log"
HTTP=http://127.0.0.1:$(cat "$T/origin.port")

# The TLS server: /img.tar.zst served, /up -> https /img.tar.zst, /down -> http.
cat > "$T/tls.py" <<'PYEOF'
import http.server, os, ssl, sys
cert, key, www, http_base, port_file = sys.argv[1:6]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        p = self.path.split("?")[0]
        if p == "/img.tar.zst":
            data = open(os.path.join(www, "img.tar.zst"), "rb").read()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif p in ("/up", "/down"):
            here = "https://127.0.0.1:%d" % self.server.server_address[1]
            self.send_response(302)
            self.send_header("Location", (here if p == "/up" else http_base) + "/img.tar.zst")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_error(404)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
open(port_file + ".tmp", "w").write("%d\n" % s.server_address[1])
os.rename(port_file + ".tmp", port_file)
s.serve_forever()
PYEOF
start_bg tls "$T/tls.port" "$PY" "$T/tls.py" "$T/cert.pem" "$T/key.pem" "$T/www" "$HTTP" "$T/tls.port"
HTTPS=https://127.0.0.1:$(cat "$T/tls.port")

fetch() { # NAME URL: the tool in a mount namespace that trusts the test certificate
	rm -rf "$T/root" && mkdir "$T/root"
	set +e
	timeout 60 unshare -m --propagation private sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh \
		"$T/cert.pem" "$BUNDLE" "$TOOL" --sha256 "$SHA" --attempts 3 "$2" "$T/root" > "$T/$1.out" 2> "$T/$1.err"
	RC=$?
	set -e
	echo "--- $1: exit $RC: $(cat "$T/$1.out" | tr '\n' ' ')"
}

# Controls: https works here, and https -> https is followed.
fetch direct "$HTTPS/img.tar.zst"
[ "$RC" -eq 0 ] || { cat "$T/direct.err"; die "https: the control failed"; }
fetch up "$HTTPS/up"
[ "$RC" -eq 0 ] || { cat "$T/up.err"; die "https -> https was not followed"; }
# https -> http: refused at once, never retried, the http server never asked.
fetch down "$HTTPS/down"
[ "$RC" -ne 0 ] || die "https -> http was followed"
expect_in "$T/down.out" "result: EPROTO "
expect_in "$T/down.out" "error: $HTTPS/down: HTTP 302: redirect refused (https never redirects to another scheme)"
! grep -q 'interrupted at' "$T/down.err" || die "a refused redirect was retried"
[ ! -s "$T/origin.log" ] || { cat "$T/origin.log"; die "the http server got a request"; }
echo "fetch-redirect: all cases passed"
