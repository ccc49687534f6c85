#!/bin/bash
# tests/faultproxy.py, the fault proxy the network tests put between a client
# and a file server (docs/testing.md "The fault proxy"): its self-test (every
# action against an origin on 127.0.0.1, in-process), then the processes as
# the VM tests run them: `faultproxy.py origin` and `faultproxy.py proxy` on
# port 0 with port files, curl through them (a pass, a 503 burst, a reset at
# 50% resumed with Range, a refusal), the JSON log judged; and the proxy in
# front of qemu/httpd.py, which ignores Range (the reason for `origin`).
. "$(dirname "$0")/lib.sh"
FP=$ROOT/tests/faultproxy.py
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
timeout 120 "$PY" "$FP" selftest > "$T/selftest.out" 2>&1 || { cat "$T/selftest.out"; die "faultproxy.py selftest failed"; }
grep -q '^all checks passed$' "$T/selftest.out" || { cat "$T/selftest.out"; die "selftest: no verdict"; }
echo "selftest: $(grep -c '^ok:' "$T/selftest.out") checks passed"

mkdir -p "$T/www"
head -c 3000000 /dev/urandom > "$T/www/img.bin"
SIZE=3000000
start_bg origin "$T/origin.port" "$PY" "$FP" origin --dir "$T/www" --port-file "$T/origin.port"
echo '{"rules": []}' > "$T/prog.json"
start_bg proxy "$T/proxy.port" "$PY" "$FP" proxy --upstream "http://127.0.0.1:$(cat "$T/origin.port")" \
	--program "$T/prog.json" --log "$T/proxy.log" --port-file "$T/proxy.port"
URL=http://127.0.0.1:$(cat "$T/proxy.port")/img.bin
c() { curl -s --max-time 20 "$@"; }

# Only loopback: the listening sockets.
ss -ltnH "sport = :$(cat "$T/proxy.port")" | grep -q '127.0.0.1:' || die "the proxy does not listen on 127.0.0.1"
ss -ltnH "sport = :$(cat "$T/origin.port")" | grep -q '127.0.0.1:' || die "the origin does not listen on 127.0.0.1"
if "$PY" "$FP" proxy --upstream http://192.0.2.1:80 --program "$T/prog.json" --log "$T/x.log" 2>"$T/err"; then
	die "a non-loopback upstream was accepted"
fi
expect_in "$T/err" "must be http://127.0.0.1"

c -o "$T/got" "$URL"
cmp -s "$T/got" "$T/www/img.bin" || die "pass: the body differs"

cat > "$T/prog.json" <<'JSON'
{"rules": [{"path": "\\.bin$", "steps": [{"do": "status", "code": 503, "count": 2},
                                         {"do": "reset", "at_percent": 50}]}]}
JSON
codes=$(for _ in 1 2; do c -o /dev/null -w '%{http_code} ' "$URL"; done)
[ "$codes" = "503 503 " ] || die "503 burst: got '$codes'"
rc=0
c -o "$T/part" "$URL" || rc=$?
[ "$rc" != 0 ] || die "curl did not see the reset"
have=$(stat -c %s "$T/part")
[ "$have" -le $((SIZE / 2)) ] || die "reset at 50%: the client has $have bytes"
c -r "$have-" -o "$T/rest" "$URL"
cat "$T/part" "$T/rest" | cmp -s - "$T/www/img.bin" || die "the resumed file differs"
# The log: 2 x 503, the reset at 50% (bytes sent), the Range request from the client's offset.
"$PY" - "$T/proxy.log" "$SIZE" "$have" <<'EOF' || die "the proxy log is wrong"
import json, sys
log, size, have = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = [json.loads(x) for x in open(log)]
rows = [r for r in rows if "event" not in r][-4:]
ok = [r["status"] for r in rows[:2]] == [503, 503] \
    and rows[2]["end"] == "reset" and rows[2]["bytes"] == size // 2 \
    and rows[3]["range"] == "bytes=%d-" % have and rows[3]["status"] == 206 and rows[3]["start"] == have \
    and rows[3]["bytes"] == size - have
for r in rows:
    print("  log:", json.dumps({k: r[k] for k in ("path", "range", "status", "bytes", "action", "end")}))
sys.exit(0 if ok else 1)
EOF

# Refused for 10 s (long enough for two curls on a loaded machine): curl
# cannot connect, then can.
echo '{"rules": [{"path": "\\.bin$", "steps": [{"do": "refuse", "seconds": 10}]}]}' > "$T/prog.json"
c -o /dev/null "$URL" && die "the refusing request succeeded"
rc=0
c -o /dev/null "$URL" || rc=$?
# 7: could not connect. (The proxy closes its listening socket before it
# resets the refusing request, so this second curl cannot slip in: before
# that order it sometimes got 52/56, accepted and then reset.)
[ "$rc" = 7 ] || die "during the refusal curl exited $rc, expected 7 (could not connect)"
sleep 10.5
c -o "$T/got" "$URL"
cmp -s "$T/got" "$T/www/img.bin" || die "after the refusal: the body differs"

# qemu/httpd.py (the boot server) ignores Range: through the proxy a resume
# gets 200. This is why the network tests put `origin` behind the proxy.
start_bg httpd "$T/httpd.port" "$PY" "$ROOT/qemu/httpd.py" "$T/www" --port-file "$T/httpd.port"
echo '{"rules": []}' > "$T/prog.json"
start_bg proxy2 "$T/proxy2.port" "$PY" "$FP" proxy --upstream "http://127.0.0.1:$(cat "$T/httpd.port")" \
	--program "$T/prog.json" --log "$T/proxy2.log" --port-file "$T/proxy2.port"
code=$(c -r 1000- -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(cat "$T/proxy2.port")/img.bin")
[ "$code" = 200 ] || die "qemu/httpd.py answered $code to a Range request (it ignored Range before; update the docs)"
echo "ok: faultproxy selftest, origin + proxy processes, 503 burst, reset + Range resume, refusal, log"
