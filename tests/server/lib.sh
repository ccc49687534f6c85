# shellcheck shell=bash
# Shared by tests/server/*.sh (sourced; tests/run.sh does not run it): start
# site-server on 127.0.0.1 with a free port in a temporary directory, talk to
# it with curl (every call has a time limit), stop it, clean up.
#
#   site_start [serve options]   sets SITE_URL, SITE_PID, SITE_OPERATOR_TOKEN
#   site_stop                    SIGTERM, expects exit status 0 within 10 s
#   req METHOD PATH [curl args]  sets STATUS, BODY (file $T/body), HEADERS ($T/headers)
#   expect_status N WHAT         fails the test unless STATUS is N
#   fail MESSAGE                 prints FAIL, the server's last log lines, exits 1

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SITE_SERVER=${SITE_SERVER_BIN:-$ROOT/build/server/site-server}
T=$(mktemp -d /tmp/site-test.XXXXXX)
SITE_PID=
SITE_URL=
SITE_OPERATOR_TOKEN=
STATUS=
BODY=$T/body
HEADERS=$T/headers
SITE_LOG=$T/server.log

site_cleanup() {
	if [ -n "$SITE_PID" ] && kill -0 "$SITE_PID" 2>/dev/null; then
		kill -TERM "$SITE_PID" 2>/dev/null
		sleep 0.5
		kill -KILL "$SITE_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap site_cleanup EXIT

fail() {
	echo "FAIL: $*"
	if [ -f "$SITE_LOG" ]; then
		echo "--- the server's log (last 30 lines)"
		tail -30 "$SITE_LOG"
	fi
	exit 1
}

ok() {
	echo "ok: $*"
}

[ -x "$SITE_SERVER" ] || fail "no $SITE_SERVER (make server)"
command -v curl > /dev/null || fail "no curl"

# site_start [serve options]: a server in $T/state (SQLite unless --db is given)
site_start() {
	rm -f "$T/port"
	"$SITE_SERVER" serve --listen 127.0.0.1:0 --port-file "$T/port" --state-dir "$T/state" "$@" \
		> "$T/server.stdout" 2>> "$SITE_LOG" &
	SITE_PID=$!
	for _ in $(seq 100); do
		[ -s "$T/port" ] && break
		kill -0 "$SITE_PID" 2>/dev/null || fail "site-server exited at start"
		sleep 0.1
	done
	[ -s "$T/port" ] || fail "site-server did not write its port file in 10 s"
	SITE_URL=$(cat "$T/port")
	case $SITE_URL in
	http://127.0.0.1:[0-9]*/) ;;
	*) fail "port file: unexpected '$SITE_URL'" ;;
	esac
	grep -qx "listening on $SITE_URL" "$T/server.stdout" || fail "no 'listening on $SITE_URL' on stdout"
	SITE_OPERATOR_TOKEN=$(cat "$T/state/operator.token")
	[ "$(stat -c %a "$T/state/operator.token")" = 600 ] || fail "operator.token is not mode 0600"
}

site_stop() {
	local rc
	kill -TERM "$SITE_PID"
	for _ in $(seq 100); do
		kill -0 "$SITE_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$SITE_PID" 2>/dev/null && fail "site-server did not stop within 10 s of SIGTERM"
	wait "$SITE_PID"
	rc=$?
	SITE_PID=
	[ "$rc" -eq 0 ] || fail "site-server exited with $rc after SIGTERM"
	# Under SITE_SERVER_BIN=build/asan/site-server (tests/run.sh's server-asan)
	if grep -nE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$SITE_LOG"; then
		fail "a sanitizer report in the server's log (above)"
	fi
}

# req METHOD PATH [curl args...]
req() {
	local method=$1 path=$2
	shift 2
	rm -f "$BODY" "$HEADERS"
	STATUS=$(curl -sS --path-as-is --max-time 20 -X "$method" -o "$BODY" -D "$HEADERS" -w '%{http_code}' \
		"$@" "${SITE_URL%/}$path") || STATUS=000
	touch "$BODY" "$HEADERS"
}

expect_status() {
	[ "$STATUS" = "$1" ] || fail "$2: status $STATUS, expected $1; body: $(head -c 300 "$BODY")"
}

expect_body() {
	local got
	got=$(cat "$BODY")
	[ "$got" = "$1" ] || fail "$2: body '$got', expected '$1'"
}

body_has() {
	grep -qF -- "$1" "$BODY" || fail "$2: '$1' not in the body: $(head -c 500 "$BODY")"
}

body_lacks() {
	if grep -qF -- "$1" "$BODY"; then
		fail "$2: '$1' in the body"
	fi
}

log_has() {
	grep -qF -- "$1" "$SITE_LOG" || fail "$2: '$1' not in the server's log"
}

header() {
	tr -d '\r' < "$HEADERS" | sed -n "s/^$1: //Ip" | tail -1
}

# json EXPR: evaluate a Python expression over the body parsed as j
json() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$BODY" "$1"
}

# answer MAC [PLATFORM]: GET /ipxe/answer; sets TOKEN and MID when it boots the installer
answer() {
	req GET "/ipxe/answer?mac=$1&uuid=00000000-0000-0000-0000-000000000000&serial=&platform=${2:-pcbios}&arch=x86_64"
	expect_status 200 "answer for $1"
	head -1 "$BODY" | grep -qx '#!ipxe' || fail "answer for $1 is not an iPXE script"
	local t m
	t=$(sed -n 's/.* inst\.report\.token=\([0-9a-f]*\).*/\1/p' "$BODY")
	m=$(sed -n 's|.* inst\.report=[^ ]*/api/v1/machines/\([0-9]*\)/report.*|\1|p' "$BODY")
	# Local and hold answers carry neither: the last ones stay.
	if [ -n "$t" ]; then
		TOKEN=$t MID=$m
	fi
}

# event SEQ MAC TYPE PHASE [extra json]: one event line
event() {
	printf '{"seq":%s,"time":"2026-12-07T18:00:%02d.000000Z","monotonic":1.0,"machine_id":"%s","machine_id_source":"boot-mac","phase":"%s","type":"%s"%s}\n' \
		"$1" "$(( $1 % 60 ))" "$2" "$4" "$3" "${5:-}"
}

# post_events ID TOKEN FILE
post_events() {
	req POST "/api/v1/machines/$1/report" -H "Authorization: Bearer $2" \
		-H 'Content-Type: application/x-ndjson' --data-binary @"$3"
}

operator() {
	local name=$1 action=$2 body=${3:-}
	if [ -n "$body" ]; then
		req POST "/api/v1/machines/$name/$action" -H "Authorization: Bearer $SITE_OPERATOR_TOKEN" \
			-H 'Content-Type: application/json' --data-binary "$body"
	else
		req POST "/api/v1/machines/$name/$action" -H "Authorization: Bearer $SITE_OPERATOR_TOKEN"
	fi
}

# state ID: the machine's state through the read API
state() {
	req GET "/api/v1/machines/$1"
	expect_status 200 "GET machine $1"
	json 'j["state"]'
}

# events_count ID: events stored for the machine's current attempt
events_count() {
	req GET "/api/v1/machines/$1"
	expect_status 200 "GET machine $1"
	json 'j["attempt"]["events"] if j["attempt"] else 0'
}

make_www() {
	mkdir -p "$T/www/profiles"
	head -c 300000 /dev/urandom > "$T/www/vmlinuz"
	head -c 1000 /dev/urandom > "$T/www/initrd.img"
	printf 'disks: []\n' > "$T/www/profiles/default.yaml"
	printf 'disks: []\n# web\n' > "$T/www/profiles/web.yaml"
}
