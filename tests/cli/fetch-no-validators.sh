#!/bin/bash
# A resume must never splice two files. The first answer is chunked, with no
# ETag, no Last-Modified and no length, and is reset half way; the Range
# request is answered 206 with the same offsets from another file of the
# same size. With nothing to compare, the stream must refuse to resume
# (-ESTALE, "cannot resume") instead of writing A's first half and B's second.
# A control: the same reset on an answer with an ETag, behind a redirect,
# resumes at the right offset and yields the file unchanged.
. "$(dirname "$0")/lib.sh"
TOOL=${IMAGE_FETCH:-$ROOT/build/tests/tools/image-fetch}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
[ -x "$TOOL" ] || make -C "$ROOT" -s "build/tests/tools/image-fetch" >/dev/null
PID=
cleanup() {
	[ -n "$PID" ] && { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
	rm -rf "$T"
}
trap cleanup EXIT

mkdir -p "$T/a" "$T/b"
head -c 300000 /dev/urandom > "$T/a/f"
head -c 300000 /dev/urandom > "$T/b/f"
tar -C "$T/a" -cf "$T/A.tar" f
tar -C "$T/b" -cf "$T/B.tar" f
cat > "$T/origin.py" <<'PYEOF'
import http.server, socket, struct, sys
A = open(sys.argv[1], 'rb').read(); B = open(sys.argv[2], 'rb').read()
log = open(sys.argv[4], 'a')
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass
    def rst(self):
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        self.wfile.close(); self.rfile.close(); self.connection.close(); self.close_connection = True
    def do_GET(self):
        p = self.path; rng = self.headers.get('Range')
        log.write(f"{p} range={rng}\n"); log.flush()
        if p.startswith('/redir/'):
            self.send_response(302); self.send_header('Location', '/real/img.tar')
            self.send_header('Content-Length', '0'); self.end_headers(); return
        data = A
        if rng:
            off = int(rng.split('=')[1].split('-')[0])
            if p.startswith('/nv/') or p.startswith('/len/'): data = B
            self.send_response(206)
            self.send_header('Content-Range', f'bytes {off}-{len(data)-1}/{len(data)}')
            self.send_header('Content-Length', str(len(data) - off))
            if p.startswith('/real/'): self.send_header('ETag', '"abc"')
            self.end_headers(); self.wfile.write(data[off:]); return
        self.send_response(200)
        if p.startswith('/nv/'):
            self.send_header('Transfer-Encoding', 'chunked'); self.end_headers()
            half = data[:len(data)//2]
            self.wfile.write(b'%x\r\n' % len(half) + half + b'\r\n'); self.rst(); return
        if p.startswith('/len/'):  # a length, no ETag, no Last-Modified
            self.send_header('Content-Length', str(len(data))); self.end_headers()
            self.wfile.write(data[:len(data)//2]); self.rst(); return
        self.send_header('ETag', '"abc"'); self.send_header('Content-Length', str(len(data))); self.end_headers()
        self.wfile.write(data[:len(data)//2]); self.rst()
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
open(sys.argv[3] + '.tmp', 'w').write(str(s.server_address[1]))
import os; os.rename(sys.argv[3] + '.tmp', sys.argv[3])
s.serve_forever()
PYEOF
timeout 120 $PY "$T/origin.py" "$T/A.tar" "$T/B.tar" "$T/port" "$T/log" 2>"$T/origin.err" &
PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || { cat "$T/origin.err" >&2; die "origin did not start"; }
P=$(cat "$T/port")

mkdir "$T/out1"
out=$(timeout 60 "$TOOL" --attempts 3 --min-rate 1000 --rate-window 5 "http://127.0.0.1:$P/nv/img.tar" "$T/out1" 2>&1) && {
	echo "$out"; die "no validators: a resume that splices two files was accepted"; }
grep -q "result: ESTALE" <<<"$out" || { echo "$out"; die "no validators: not ESTALE"; }
grep -q "cannot resume at byte" <<<"$out" || { echo "$out"; die "no validators: the error does not say why"; }
echo "ok: no validators: resume refused ($(grep '^error:' <<<"$out"))"

# A Content-Length alone does not tell two files of the same size apart.
mkdir "$T/out3"
out=$(timeout 60 "$TOOL" --attempts 3 --min-rate 1000 --rate-window 5 "http://127.0.0.1:$P/len/img.tar" "$T/out3" 2>&1) && {
	echo "$out"; die "length only: a resume that splices two files of the same size was accepted"; }
grep -q "result: ESTALE" <<<"$out" || { echo "$out"; die "length only: not ESTALE"; }
echo "ok: length only: resume refused ($(grep '^error:' <<<"$out"))"

mkdir "$T/out2"
out=$(timeout 60 "$TOOL" --attempts 3 --min-rate 1000 --rate-window 5 "http://127.0.0.1:$P/redir/img.tar" "$T/out2" 2>&1) || {
	echo "$out"; die "redirect + ETag: the resume failed"; }
cmp -s "$T/out2/f" "$T/a/f" || die "redirect + ETag: the result differs from the file"
grep -q "^/real/img.tar range=bytes=[1-9][0-9]*-$" "$T/log" || { cat "$T/log"; die "redirect + ETag: no Range request after the redirect"; }
echo "ok: redirect + ETag: resumed with Range after the redirect, file intact"
