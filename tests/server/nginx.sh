#!/bin/bash
# nginx in front of site-server with server/nginx-site.conf (docs/site-scale.md):
# nginx (Debian's nginx-light) with its own prefix in a temporary directory,
# the example config's addresses rewritten to 127.0.0.1, proxying to
# site-server on 127.0.0.1. Checked through nginx:
#   - the boot answer (a new token each time: never cached);
#   - an event POST (stored, seen through the API);
#   - an image GET (5 MiB + 12345 bytes: two 4 MiB slices; sha256 matches),
#     a cache miss; the second GET a cache hit (X-Cache-Status) with the
#     same bytes;
#   - a Range request across the slice boundary: 206, the right bytes;
#   - If-None-Match with the ETag: 304.
# Every process has a timeout and is stopped on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SERVER=$ROOT/build/server/site-server
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
[ -x "$SERVER" ] || { echo "FAIL: $SERVER is missing (make server)"; exit 1; }
[ -x "$NGINX" ] || { echo "FAIL: nginx is not installed (nginx-light, rootfs/deps.sh)"; exit 1; }
T=$(mktemp -d /tmp/nginx-site.XXXXXX)
chmod 755 "$T" # nginx's workers run as an unprivileged user when started as root
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'echo "FAIL: line $LINENO: a command failed"' ERR

fail() {
	echo "FAIL: $*"
	[ -f "$T/site/server.log" ] && { echo "--- site-server's log (tail)"; tail -15 "$T/site/server.log"; }
	[ -f "$T/nginx/error.log" ] && { echo "--- nginx's error log (tail)"; tail -15 "$T/nginx/error.log"; }
	exit 1
}
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
header() { # FILE NAME: a header's value from curl -D output
	tr -d '\r' <"$1" | sed -n "s/^$2: *//Ip" | tail -1
}
json() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); v = eval(sys.argv[2]); print(json.dumps(v) if not isinstance(v, str) else v)' "$@"
}

# The boot tree, with an image of two slices (the second one partial).
mkdir -p "$T/www/profiles" "$T/www/images" "$T/site"
cp "$ROOT/profiles/default.yaml" "$T/www/profiles/"
head -c 1000 /dev/urandom >"$T/www/vmlinuz" # smaller than a slice: site-server clamps the Range
: >"$T/www/initrd.img"
head -c $((5 * 1024 * 1024 + 12345)) /dev/urandom >"$T/www/images/test.img"
SIZE=$(stat -c %s "$T/www/images/test.img")
SUM=$(sha256sum "$T/www/images/test.img" | cut -d' ' -f1)

SPORT=$(free_port)
NPORT=$(free_port)
N=http://127.0.0.1:$NPORT

# site-server; its answers point the machines at nginx.
timeout -k 5 300 "$SERVER" serve --listen "127.0.0.1:$SPORT" --www "$T/www" --state-dir "$T/site" \
	--policy install --url "$N/" >>"$T/site/server.log" 2>&1 &
pids+=($!)

# nginx: the example config, addresses and paths rewritten for the test.
mkdir -p "$T/nginx/tmp" "$T/nginx/cache"
sed -e "s|^\([[:space:]]*listen\) 80;|\1 127.0.0.1:$NPORT;|" \
	-e "s|server 127\.0\.0\.1:8080;|server 127.0.0.1:$SPORT;|" \
	-e "s|/var/cache/nginx/site-images|$T/nginx/cache|" \
	"$ROOT/server/nginx-site.conf" >"$T/nginx/site.conf"
if grep -E '^[[:space:]]*listen' "$T/nginx/site.conf" | grep -v "listen 127\.0\.0\.1:$NPORT;"; then
	fail "the example config listens on something the test did not rewrite to 127.0.0.1"
fi
grep -q "server 127.0.0.1:$SPORT;" "$T/nginx/site.conf" || fail "the example config's upstream was not rewritten"
grep -q "$T/nginx/cache" "$T/nginx/site.conf" || fail "the example config's cache path was not rewritten"
cat >"$T/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log info;
events { worker_connections 256; }
http {
	access_log $T/nginx/access.log;
	client_body_temp_path $T/nginx/tmp/body;
	proxy_temp_path $T/nginx/tmp/proxy;
	fastcgi_temp_path $T/nginx/tmp/fastcgi;
	uwsgi_temp_path $T/nginx/tmp/uwsgi;
	scgi_temp_path $T/nginx/tmp/scgi;
	include $T/nginx/site.conf;
}
EOF
timeout -k 5 60 "$NGINX" -t -q -p "$T/nginx" -e "$T/nginx/error.log" -c "$T/nginx/nginx.conf" ||
	fail "nginx -t: $(cat "$T/nginx/error.log")"
timeout -k 5 300 "$NGINX" -p "$T/nginx" -e "$T/nginx/error.log" -c "$T/nginx/nginx.conf" -g 'daemon off;' \
	2>>"$T/nginx/error.log" &
pids+=($!)

for _ in $(seq 100); do
	curl -sf --max-time 2 "$N/healthz" >/dev/null 2>&1 && break
	sleep 0.2
done
[ "$(curl -sS --max-time 5 "$N/healthz" 2>&1)" = ok ] || fail "GET /healthz through nginx"
echo "ok: nginx on 127.0.0.1:$NPORT in front of site-server on 127.0.0.1:$SPORT"

# The boot answer, twice: a new token each time, never a cached copy.
MAC=02:bb:00:00:00:01
UUID=bbbbbbbb-0000-4000-8000-000000000001
answer() { # the script in $T/answer, its token in TOKEN
	local code
	code=$(curl -sS --max-time 10 -D "$T/h.answer" -o "$T/answer" -w '%{http_code}' \
		"$N/ipxe/answer?mac=$MAC&uuid=$UUID&serial=NGX1&platform=pcbios&arch=x86_64")
	[ "$code" = 200 ] || fail "GET /ipxe/answer through nginx: HTTP $code"
	TOKEN=$(sed -n 's/.*inst\.report\.token=\([^[:space:]]*\).*/\1/p' "$T/answer" | head -1)
}
answer
TOKEN1=$TOKEN
answer
ID=$(sed -n 's|.*inst\.report=[^[:space:]]*/api/v1/machines/\([0-9]*\)/report.*|\1|p' "$T/answer" | head -1)
[ -n "$TOKEN" ] && [ -n "$ID" ] || fail "the boot answer through nginx boots no installer"
grep -q "inst.report=$N/api/v1/machines/$ID/report" "$T/answer" || fail "the answer does not point at nginx ($N)"
[ "$TOKEN1" != "$TOKEN" ] || fail "two boot answers through nginx carry the same token (cached?)"
echo "ok: boot answer through nginx (machine $ID; a new token each time)"

# An event POST.
printf '{"seq":1,"time":"2026-12-07T18:00:01.000000Z","monotonic":0.1,"machine_id":"%s","machine_id_source":"smbios-uuid","phase":"install","type":"start","message":"installer run"}\n{"seq":2,"time":"2026-12-07T18:00:02.000000Z","monotonic":1.1,"machine_id":"%s","machine_id_source":"smbios-uuid","phase":"detect","type":"start"}\n' \
	"$UUID" "$UUID" >"$T/events"
code=$(curl -sS --max-time 10 -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/x-ndjson' --data-binary "@$T/events" "$N/api/v1/machines/$ID/report")
[ "$code" = 200 ] || fail "event POST through nginx: HTTP $code: $(head -c 200 "$T/resp")"
[ "$(json "$T/resp" 'j["stored"]')" = 2 ] || fail "event POST through nginx: $(cat "$T/resp"), expected 2 stored"
curl -sf --max-time 10 "$N/api/v1/machines/$ID/events" >"$T/ev" || fail "GET events through nginx"
[ "$(json "$T/ev" '[e["seq"] for e in j["events"]]')" = "[1, 2]" ] || fail "events through nginx: $(head -c 300 "$T/ev")"
echo "ok: event POST through nginx (2 stored, listed through the API)"

# The image: a miss, then a hit, the same bytes both times.
get_image() { # N: the image into $T/img.N, headers into $T/h.N
	local code
	code=$(curl -sS --max-time 60 -D "$T/h.$1" -o "$T/img.$1" -w '%{http_code}' "$N/images/test.img")
	[ "$code" = 200 ] || fail "GET /images/test.img through nginx ($1): HTTP $code"
	[ "$(sha256sum <"$T/img.$1" | cut -d' ' -f1)" = "$SUM" ] || fail "GET /images/test.img ($1): sha256 differs"
}
get_image 1
[ "$(header "$T/h.1" X-Cache-Status)" = MISS ] || fail "first image GET: X-Cache-Status $(header "$T/h.1" X-Cache-Status), expected MISS"
upstream1=$(grep -c 'GET /images/test.img ' "$T/site/server.log" || true)
[ "$upstream1" -ge 1 ] || fail "site-server's access log shows no GET /images/test.img after the first GET"
get_image 2
[ "$(header "$T/h.2" X-Cache-Status)" = HIT ] || fail "second image GET: X-Cache-Status $(header "$T/h.2" X-Cache-Status), expected HIT"
upstream2=$(grep -c 'GET /images/test.img ' "$T/site/server.log" || true)
[ "$upstream2" = "$upstream1" ] || fail "the second image GET reached site-server (its access log: $upstream1, then $upstream2 GETs)"
echo "ok: image GET through nginx ($SIZE bytes, sha256 matches): MISS ($upstream1 slice requests to site-server), then HIT (none)"

# A Range request across the 4 MiB slice boundary.
FROM=4194000 TO=4195999
code=$(curl -sS --max-time 30 -D "$T/h.range" -o "$T/range" -w '%{http_code}' -H "Range: bytes=$FROM-$TO" "$N/images/test.img")
[ "$code" = 206 ] || fail "Range request through nginx: HTTP $code, expected 206"
[ "$(header "$T/h.range" Content-Range)" = "bytes $FROM-$TO/$SIZE" ] ||
	fail "Range request: Content-Range $(header "$T/h.range" Content-Range)"
dd if="$T/www/images/test.img" of="$T/range.want" iflag=skip_bytes,count_bytes skip=$FROM count=$((TO - FROM + 1)) status=none
cmp -s "$T/range" "$T/range.want" || fail "Range request through nginx: wrong bytes"
echo "ok: Range bytes=$FROM-$TO through nginx: 206, the right bytes"

# If-None-Match with the ETag: 304.
ETAG=$(header "$T/h.1" ETag)
[ -n "$ETAG" ] || fail "the image answer through nginx has no ETag"
code=$(curl -sS --max-time 10 -o "$T/body304" -w '%{http_code}' -H "If-None-Match: $ETAG" "$N/images/test.img")
[ "$code" = 304 ] || fail "If-None-Match through nginx: HTTP $code, expected 304"
[ ! -s "$T/body304" ] || fail "the 304 answer has a body"
echo "ok: If-None-Match through nginx: 304"

# The kernel uses the same cache (a file smaller than a slice); the boot
# answers never do.
for i in 1 2; do
	code=$(curl -sS --max-time 30 -D "$T/h.k$i" -o "$T/k$i" -w '%{http_code}' "$N/vmlinuz")
	[ "$code" = 200 ] || fail "GET /vmlinuz through nginx ($i): HTTP $code"
	cmp -s "$T/k$i" "$T/www/vmlinuz" || fail "GET /vmlinuz through nginx ($i): wrong bytes"
done
[ "$(header "$T/h.k2" X-Cache-Status)" = HIT ] || fail "second GET /vmlinuz: X-Cache-Status $(header "$T/h.k2" X-Cache-Status)"
[ -z "$(header "$T/h.answer" X-Cache-Status)" ] || fail "the boot answer went through the cache"
echo "ok: /vmlinuz cached too (HIT on the second GET); boot answers are not"
echo "PASS: nginx"
