#!/bin/bash
# Two site-server instances sharing one PostgreSQL database and one operator
# token file (docs/site-scale.md): what one instance is told, the other
# knows.
#   - a machine boots through instance A (its token comes from A's answer),
#     posts its inventory and events to instance B: both show the same
#     machine and the same events;
#   - the same events sent to both instances at once are stored once;
#   - the install's finish posted to B makes A answer "boot the local disk";
#   - `reinstall` through A's operator API makes B answer "install";
#   - 50 machines race their events to both instances at once
#     (build/tests/bench/site-load --mirror): every event stored exactly
#     once, none lost, checked through both.
# Everything on 127.0.0.1 and a unix socket; every process has a timeout
# and is stopped on exit. Tokens are never printed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SERVER=$ROOT/build/server/site-server
LOAD=$ROOT/build/tests/bench/site-load
PG=$ROOT/tests/server/pg.sh
for f in "$SERVER" "$LOAD"; do
	[ -x "$f" ] || { echo "FAIL: $f is missing (make server site-load)"; exit 1; }
done
T=$(mktemp -d /tmp/two-instance.XXXXXX)
chmod 755 "$T" # PostgreSQL runs as its own user and puts its socket here
pids=()
pgstarted=''
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -n "$pgstarted" ]; then "$PG" stop "$T/pg" >/dev/null 2>&1 || true; fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'echo "FAIL: line $LINENO: a command failed"' ERR

fail() {
	echo "FAIL: $*"
	for i in a b; do
		[ -f "$T/$i/server.log" ] && { echo "--- instance $i's log (tail)"; tail -15 "$T/$i/server.log"; }
	done
	exit 1
}
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# A JSON field: json FILE-OR-- PYTHON-EXPRESSION-ON-j
json() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1]) if sys.argv[1] != "-" else sys.stdin); v = eval(sys.argv[2]); print(json.dumps(v) if not isinstance(v, str) else v)' "$@"
}

db=$("$PG" start "$T/pg") || fail "pg.sh start"
pgstarted=1
mkdir -p "$T/www/profiles"
cp "$ROOT/profiles/default.yaml" "$T/www/profiles/"
: >"$T/www/vmlinuz"
: >"$T/www/initrd.img"
# One operator token for both (as a site would copy it to each host).
(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$T/operator.token")

declare -A URL
start() { # NAME
	local port
	port=$(free_port)
	mkdir -p "$T/$1"
	timeout -k 5 600 "$SERVER" serve --listen "127.0.0.1:$port" --www "$T/www" --state-dir "$T/$1" --db "$db" \
		--policy install --url "http://127.0.0.1:$port/" --operator-token-file "$T/operator.token" \
		>>"$T/$1/server.log" 2>&1 &
	pids+=($!)
	URL[$1]=http://127.0.0.1:$port/
}
# Both at once: two servers creating the schema together must work.
start a
start b
for i in a b; do
	for _ in $(seq 100); do
		curl -sf --max-time 2 "${URL[$i]}healthz" >/dev/null 2>&1 && break
		sleep 0.2
	done
	curl -sf --max-time 2 "${URL[$i]}healthz" >/dev/null || fail "instance $i did not start"
done
echo "ok: two instances on one PostgreSQL database"

MAC=02:aa:00:00:00:01
UUID=aaaaaaaa-0000-4000-8000-000000000001
answer() { # INSTANCE -> the boot script in $T/answer
	curl -sS --max-time 10 -o "$T/answer" -w '%{http_code}' \
		"${URL[$1]}ipxe/answer?mac=$MAC&uuid=$UUID&serial=TWO1&platform=pcbios&arch=x86_64" >"$T/code"
	[ "$(cat "$T/code")" = 200 ] || fail "GET /ipxe/answer from $1: HTTP $(cat "$T/code")"
}
token_of_answer() {
	sed -n 's/.*inst\.report\.token=\([^[:space:]]*\).*/\1/p' "$T/answer" | head -1
}

# 1. Boot through A.
answer a
TOKEN=$(token_of_answer)
ID=$(sed -n 's|.*inst\.report=[^[:space:]]*/api/v1/machines/\([0-9]*\)/report.*|\1|p' "$T/answer" | head -1)
[ -n "$TOKEN" ] && [ -n "$ID" ] || fail "A's answer boots no installer (no inst.report= and inst.report.token=)"
echo "ok: machine $ID booted through A"

# post INSTANCE CONTENT-TYPE FILE [UPLOAD] -> HTTP code; body in $T/resp
post() {
	local extra=()
	[ -n "${4:-}" ] && extra=(-H "X-Installer-Upload: $4")
	curl -sS --max-time 20 -o "$T/resp.$1" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
		-H "Content-Type: $2" "${extra[@]}" --data-binary "@$3" "${URL[$1]}api/v1/machines/$ID/report"
}
events() { # FROM TO [EXIT-STATUS]: NDJSON events FROM..TO of an install whose last event is TO
	local s
	for s in $(seq "$1" "$2"); do
		if [ -n "${3:-}" ] && [ "$s" = "$2" ]; then
			printf '{"seq":%d,"time":"2026-12-07T18:00:%02d.000000Z","monotonic":%d.5,"machine_id":"%s","machine_id_source":"smbios-uuid","phase":"install","type":"finish","result":"ok","exit_status":%d,"duration":%d.5}\n' "$s" "$((s % 60))" "$s" "$UUID" "$3" "$s"
		elif [ "$s" = 1 ]; then
			printf '{"seq":1,"time":"2026-12-07T18:00:01.000000Z","monotonic":0.1,"machine_id":"%s","machine_id_source":"smbios-uuid","phase":"install","type":"start","message":"installer run"}\n' "$UUID"
		else
			printf '{"seq":%d,"time":"2026-12-07T18:00:%02d.000000Z","monotonic":%d.5,"machine_id":"%s","machine_id_source":"smbios-uuid","phase":"image","type":"progress","progress":{"what":"debian12.tar.zst","done":%d,"total":100,"rate":10,"eta":1,"final":false}}\n' "$s" "$((s % 60))" "$s" "$UUID" "$s"
		fi
	done
}

# 2. Inventory and events to B.
code=$(post b application/json "$ROOT/tests/data/sysroot/nvme-sata-usb.json" inventory)
[ "$code" = 200 ] || fail "inventory to B: HTTP $code"
events 1 5 >"$T/ev1"
code=$(post b application/x-ndjson "$T/ev1")
[ "$code" = 200 ] || fail "events 1-5 to B: HTTP $code: $(head -c 200 "$T/resp.b")"
[ "$(json "$T/resp.b" 'j["stored"]')" = 5 ] || fail "B stored $(cat "$T/resp.b"), expected 5"

same_machine() { # WHAT: A and B show the same machine, events and inventory
	local i
	for i in a b; do
		curl -sf --max-time 10 "${URL[$i]}api/v1/machines/$ID" >"$T/m.$i" || fail "GET machine $ID from $i"
		curl -sf --max-time 10 "${URL[$i]}api/v1/machines/$ID/events?limit=1000" >"$T/e.$i" || fail "GET events from $i"
		curl -sf --max-time 10 "${URL[$i]}api/v1/machines/$ID/inventory" >"$T/inv.$i" || fail "GET inventory from $i"
	done
	cmp -s "$T/m.a" "$T/m.b" || fail "$1: A and B show machine $ID differently: $(diff <(json "$T/m.a" j) <(json "$T/m.b" j) | head -5)"
	cmp -s "$T/e.a" "$T/e.b" || fail "$1: A and B list different events"
	cmp -s "$T/inv.a" "$T/inv.b" || fail "$1: A and B have different inventories"
	cmp -s "$T/inv.a" "$ROOT/tests/data/sysroot/nvme-sata-usb.json" || fail "$1: the inventory is not stored verbatim"
}
same_machine "after events 1-5 to B"
[ "$(json "$T/m.a" 'j["state"]')" = installing ] || fail "state $(json "$T/m.a" 'j["state"]'), expected installing"
[ "$(json "$T/e.a" '[e["seq"] for e in j["events"]]')" = "[1, 2, 3, 4, 5]" ] || fail "A lists events $(json "$T/e.a" '[e["seq"] for e in j["events"]]')"
echo "ok: booted through A, inventory and events posted to B: both show the same machine, events and inventory"

# 3. Duplicates: 3-8 to A and B at the same moment; then 1-8 to A again.
events 3 8 >"$T/ev2"
post a application/x-ndjson "$T/ev2" >"$T/code.a" &
p1=$!
post b application/x-ndjson "$T/ev2" >"$T/code.b" &
p2=$!
wait "$p1" "$p2" || true
[ "$(cat "$T/code.a")" = 200 ] && [ "$(cat "$T/code.b")" = 200 ] ||
	fail "events 3-8 to both at once: HTTP $(cat "$T/code.a") and $(cat "$T/code.b"): $(head -c 200 "$T/resp.a") $(head -c 200 "$T/resp.b")"
stored=$(( $(json "$T/resp.a" 'j["stored"]') + $(json "$T/resp.b" 'j["stored"]') ))
dups=$(( $(json "$T/resp.a" 'j["duplicates"]') + $(json "$T/resp.b" 'j["duplicates"]') ))
[ "$stored" = 3 ] && [ "$dups" = 9 ] || fail "events 3-8 sent to both at once: stored $stored (expected 3), duplicates $dups (expected 9)"
events 1 8 >"$T/ev3"
code=$(post a application/x-ndjson "$T/ev3")
[ "$code" = 200 ] && [ "$(json "$T/resp.a" 'j["stored"]')" = 0 ] || fail "events 1-8 again: HTTP $code $(cat "$T/resp.a")"
same_machine "after duplicates"
[ "$(json "$T/e.b" '[e["seq"] for e in j["events"]]')" = "[1, 2, 3, 4, 5, 6, 7, 8]" ] ||
	fail "events after duplicates: $(json "$T/e.b" '[e["seq"] for e in j["events"]]')"
[ "$(json "$T/m.a" 'j["attempt"]["events"]')" = 8 ] || fail "the attempt counts $(json "$T/m.a" 'j["attempt"]["events"]') events, expected 8"
echo "ok: the same events sent to both instances at once are stored once"

# 4. The install finishes through B: A answers "boot the local disk".
events 9 10 0 >"$T/ev4"
code=$(post b application/x-ndjson "$T/ev4")
[ "$code" = 200 ] || fail "the install's finish to B: HTTP $code"
same_machine "after the install's finish"
[ "$(json "$T/m.a" 'j["state"]')" = installed ] || fail "after the finish through B, A says $(json "$T/m.a" 'j["state"]')"
answer a
grep -q 'inst\.report' "$T/answer" && fail "A still answers with an installer after the install finished through B"
grep -q sanboot "$T/answer" || fail "A's answer for an installed BIOS machine has no sanboot: $(head -c 300 "$T/answer")"
echo "ok: the install finished through B, A answers: boot the local disk"

# 5. reinstall through A's operator API: B answers "install".
code=$(curl -sS --max-time 10 -o "$T/resp" -w '%{http_code}' -X POST "${URL[a]}api/v1/machines/$ID/reinstall")
[ "$code" = 401 ] || fail "reinstall without the operator token: HTTP $code, expected 401"
code=$(curl -sS --max-time 10 -o "$T/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $(cat "$T/operator.token")" \
	"${URL[a]}api/v1/machines/$ID/reinstall")
[ "$code" = 200 ] || fail "reinstall through A: HTTP $code: $(head -c 200 "$T/resp")"
[ "$(json "$T/resp" 'j["state"]')" = ready ] || fail "after reinstall through A: state $(json "$T/resp" 'j["state"]')"
OLD=$TOKEN
answer b
TOKEN=$(token_of_answer)
[ -n "$TOKEN" ] || fail "B does not answer install after reinstall through A"
[ "$TOKEN" != "$OLD" ] || fail "B's new install answer reuses the old token"
curl -sf --max-time 10 "${URL[a]}api/v1/machines/$ID" >"$T/m.a"
[ "$(json "$T/m.a" 'j["state"]')" = installing ] || fail "A says $(json "$T/m.a" 'j["state"]') after B handed out an install"
[ "$(json "$T/m.a" 'j["attempt"]["number"]')" = 2 ] || fail "A shows attempt $(json "$T/m.a" 'j["attempt"]["number"]'), expected 2"
events 1 3 >"$T/ev5"
code=$(post a application/x-ndjson "$T/ev5")
[ "$code" = 200 ] && [ "$(json "$T/resp.a" 'j["stored"]')" = 3 ] || fail "events of attempt 2 to A: HTTP $code $(cat "$T/resp.a")"
echo "ok: reinstall through A, B answers install (attempt 2, a new token; A takes its events)"

# 6. 50 machines race their events to both instances at once.
if ! timeout -k 5 200 "$LOAD" --url "${URL[a]}" --mirror "${URL[b]}" --machines 50 --spread 0 --readers 2 \
	--timeout 180 --mac-prefix 0xc2 --inventory "$ROOT/tests/data/sysroot/nvme-sata-usb.json" \
	>"$T/race.txt" 2>"$T/race.log"; then
	cat "$T/race.log"
	fail "50 machines racing events to both instances"
fi
sent=$(sed -n 's/^events_sent //p' "$T/race.txt")
[ "$sent" = 4000 ] || fail "race: $sent events sent, expected 4000"
echo "ok: 50 machines raced 4000 events to both instances at once: each stored exactly once ($(sed -n 's/^events_duplicate //p' "$T/race.txt") duplicates dropped), both instances agree"
echo "PASS: two-instance"
