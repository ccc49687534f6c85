#!/bin/bash
# The operator command line (server/cli.c) against a real site-server on
# 127.0.0.1: every command, its text and --json output, the exit codes
# (0 ok, 2 usage, 3 not found, 4 refused, 5 unreachable), inventory and log
# byte for byte, the token never printed, terminal escapes from a machine's
# strings neutralised.
. "$(dirname "$0")/lib.sh"

# lib.sh's $SITE_SERVER is the binary; the client reads $SITE_SERVER as the
# server's URL: it never gets lib.sh's.
BIN=$SITE_SERVER
OUT=$T/out
ERR=$T/err

# cli ARGS...: run the client; RC, $OUT, $ERR
cli() {
	RC=0
	timeout 30 env -u SITE_SERVER -u SITE_TOKEN_FILE "$BIN" "$@" --server "$SITE_URL" --token-file "$T/state/operator.token" >"$OUT" 2>"$ERR" || RC=$?
}
expect_rc() {
	[ "$RC" = "$1" ] || fail "$2: exit status $RC, expected $1; stdout: $(head -c 300 "$OUT"); stderr: $(head -c 300 "$ERR")"
}
out_has() { grep -qE -- "$1" "$OUT" || fail "$2: /$1/ not in the output: $(cat "$OUT")"; }
err_has() { grep -qF -- "$1" "$ERR" || fail "$2: '$1' not on stderr: $(cat "$ERR")"; }
no_token() {
	if grep -qF -- "$SITE_OPERATOR_TOKEN" "$OUT" "$ERR"; then fail "$1: the operator token was printed"; fi
	if grep -qF -- "$TOKEN" "$OUT" "$ERR"; then fail "$1: a machine token was printed"; fi
}

make_www
site_start --www "$T/www" --policy install --url http://10.0.2.100/
TOKEN=none

# --- usage and help ------------------------------------------------------------
for c in machines show reinstall hold release assign forget inventory events log; do
	cli "$c" --help
	expect_rc 0 "$c --help"
	out_has "^Usage: site-server $c" "$c --help"
done
cli show
expect_rc 2 "show without MACHINE"
cli machines extra
expect_rc 2 "machines with an argument"
cli log 1 --json
expect_rc 2 "log --json"
cli events 1 --attempt 0
expect_rc 2 "--attempt 0"
cli assign 1 ../etc/passwd
expect_rc 2 "assign a path"
cli frobnicate
expect_rc 2 "an unknown command"
RC=0
timeout 30 env -u SITE_SERVER -u SITE_TOKEN_FILE "$BIN" machines --server http://127.0.0.1:9/ >"$OUT" 2>"$ERR" || RC=$?
expect_rc 5 "a server that is not there"
err_has "is the server running?" "unreachable"
RC=0
timeout 30 env -u SITE_SERVER -u SITE_TOKEN_FILE "$BIN" machines --server ftp://127.0.0.1/ >"$OUT" 2>"$ERR" || RC=$?
expect_rc 2 "an ftp:// server"
ok "usage, help, unreachable"

# --- an empty site --------------------------------------------------------------
cli machines
expect_rc 0 "machines (none)"
[ "$(wc -l <"$OUT")" = 1 ] || fail "machines (none): more than the header: $(cat "$OUT")"
out_has "^ID +MAC +HOSTNAME +STATE +PHASE +PROGRESS +SINCE +LAST ERROR$" "the header"

# --- a machine installing: phase, progress, error ----------------------------------
MAC=52:54:00:aa:00:01
answer "$MAC"
[ -n "$TOKEN" ] && [ "$MID" = 1 ] || fail "no token/machine from the answer"
ESC=$(printf '\033')
{
	event 1 "$MAC" start install ',"message":"installer run"'
	event 2 "$MAC" start detect
	event 3 "$MAC" finish detect ',"result":"ok","duration":1.5'
	event 4 "$MAC" start image ',"message":"http://10.0.2.100/images/debian12.tar.zst"'
	event 5 "$MAC" progress image ',"progress":{"what":"debian12.tar.zst","done":90000000,"total":200000000,"rate":12100000,"eta":31,"final":false}'
} >"$T/ev1"
post_events 1 "$TOKEN" "$T/ev1"
expect_status 200 "events"
cli machines
expect_rc 0 "machines"
out_has "^1 +$MAC +- +installing +image +45% 12\.1 MB/s ETA 0:31 +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}$" "the installing row"
no_token "machines"
cli machines --json
expect_rc 0 "machines --json"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); m=j["machines"][0]; assert m["state"]=="installing" and m["progress"]["done"]==90000000, m' "$OUT" ||
	fail "machines --json is not the API's list"

# The error, with a terminal escape in it: shown, without the escape.
{
	event 6 "$MAC" error image ",\"level\":\"error\",\"message\":\"debian12.tar.zst does not match its checksum \\u001b[2J\""
	event 7 "$MAC" finish image ',"result":"failed","duration":61.5'
	event 8 "$MAC" finish install ',"result":"failed","duration":70.0,"exit_status":7'
} >"$T/ev2"
post_events 1 "$TOKEN" "$T/ev2"
expect_status 200 "error events"
cli machines
expect_rc 0 "machines (failed)"
out_has "^1 +$MAC +- +failed +image +45% .*does not match its checksum \?\[2J$" "the failed row"
if grep -q "$ESC" "$OUT"; then fail "machines printed a terminal escape"; fi
ok "machines: state, phase, progress, error"

cli show "$MAC"
expect_rc 0 "show"
out_has "^  State +failed$" "show: state"
out_has "^  install 1, profile lookup: started .*, finished .* \([0-9.]+ s\), exit status 7, 8 events$" "show: the attempt"
out_has "^    detect +[0-9-]+ [0-9:]+ +1\.5 s +ok$" "show: detect in the timeline"
out_has "^    image +[0-9-]+ [0-9:]+ +1:02 +failed$" "show: image failed in the timeline"
out_has "^  none received$" "show: no inventory yet"
if grep -q "$ESC" "$OUT"; then fail "show printed a terminal escape"; fi
cli show "$MAC" --json
expect_rc 0 "show --json"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["attempts"][0]["phases"][1]["phase"]=="detect"' "$OUT" ||
	fail "show --json lacks the phases"

cli events 1
expect_rc 0 "events"
[ "$(wc -l <"$OUT")" = 8 ] || fail "events: not 8 lines: $(cat "$OUT")"
out_has "^     5  [0-9-]+ [0-9:]+  image +progress debian12\.tar\.zst: 45% 12\.1 MB/s ETA 0:31$" "events: progress"
out_has "^     8  .*install +finish +failed in 1:10, exit status 7$" "events: the finish"
cli events 1 --json --attempt 1
expect_rc 0 "events --json --attempt 1"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert [e["seq"] for e in j["events"]]==list(range(1,9))' "$OUT" ||
	fail "events --json"
cli events 1 --attempt 2
expect_rc 3 "events of an attempt that does not exist"
ok "show, events"

# --- inventory and log, byte for byte ---------------------------------------------
cli inventory 1
expect_rc 3 "inventory before one was sent"
INV=$ROOT/tests/data/inventory/nvme-sata-usb.json
req POST /api/v1/machines/1/report -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	-H 'X-Installer-Upload: inventory' --data-binary @"$INV"
expect_status 200 "inventory upload"
cli inventory "$MAC"
expect_rc 0 "inventory"
cmp -s "$OUT" "$INV" || fail "inventory: not the uploaded file byte for byte"
cli show 1
out_has "^  Disks +nvme0n1  16\.0 GiB  nvme  serial NVME-1  model QEMU NVMe Ctrl$" "show: the disks with serials"
out_has "^  NICs +eth0  52:54:00:12:34:56  virtio_net  link up$" "show: the NICs with MACs"
out_has "^  Memory +2\.0 GiB$" "show: memory"
out_has "^  Firmware +bios$" "show: firmware"
cli log 1
expect_rc 3 "log before one was sent"
printf 'line 1\nline 2 \303\251 tab\there\n' >"$T/log.txt"
req POST /api/v1/machines/1/report -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/plain' \
	-H 'X-Installer-Upload: log' --data-binary @"$T/log.txt"
expect_status 200 "log upload"
cli log 1 --attempt 1
expect_rc 0 "log"
cmp -s "$OUT" "$T/log.txt" || fail "log: not the uploaded text byte for byte"
ok "inventory and log"

# --- actions ----------------------------------------------------------------------
cli hold 1 --message "disk swap, ask Ana"
expect_rc 0 "hold"
out_has "^machine 1 \(52:54:00:aa:00:01\): held, message: disk swap, ask Ana$" "hold's answer"
no_token "hold"
[ "$(state 1)" = held ] || fail "hold: state not held"
cli release "$MAC"
expect_rc 0 "release"
[ "$(state 1)" = ready ] || fail "release after failed: not ready"
cli assign 1 web.yaml
expect_rc 0 "assign"
out_has "profile web\.yaml$" "assign's answer"
req GET /api/v1/machines/1
[ "$(json 'j["profile"]')" = web.yaml ] || fail "assign: profile not web.yaml"
cli assign 1 nosuch
expect_rc 1 "assign a profile that does not exist"
err_has "HTTP 400" "assign nosuch"
cli assign 1 -
expect_rc 0 "assign -"
req GET /api/v1/machines/1
[ "$(json 'j["profile"]')" = None ] || fail "assign -: profile still set"
cli reinstall 1
expect_rc 0 "reinstall"
cli show 1
out_has "^  [0-9-]+ [0-9:]+  operator  hold" "show: the audit"
cli show 1 --json
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); a=[x["action"] for x in j["audit"]]; assert len(a) >= 5, a' "$OUT" ||
	fail "the audit has not every action"

# Refused: a wrong token, a missing token file; nothing changes.
printf 'not-the-token\n' >"$T/wrong"
RC=0
timeout 30 env -u SITE_SERVER -u SITE_TOKEN_FILE "$BIN" hold 1 --server "$SITE_URL" --token-file "$T/wrong" >"$OUT" 2>"$ERR" || RC=$?
expect_rc 4 "hold with a wrong token"
if grep -q "not-the-token" "$OUT" "$ERR"; then fail "the wrong token was printed"; fi
RC=0
timeout 30 env -u SITE_SERVER SITE_TOKEN_FILE=$T/missing "$BIN" hold 1 --server "$SITE_URL" >"$OUT" 2>"$ERR" || RC=$?
expect_rc 1 "hold without a token file"
err_has "cannot read the operator token from $T/missing" "no token file"
[ "$(state 1)" = ready ] || fail "a refused hold changed the state"
# $SITE_SERVER and $SITE_TOKEN_FILE
RC=0
timeout 30 env SITE_SERVER="$SITE_URL" SITE_TOKEN_FILE="$T/state/operator.token" "$BIN" release 1 >"$OUT" 2>"$ERR" || RC=$?
expect_rc 0 "release through the environment"

cli show nosuch
expect_rc 3 "show an unknown machine"
err_has "HTTP 404" "show nosuch"
cli forget "$MAC"
expect_rc 0 "forget"
cli show "$MAC"
expect_rc 3 "show a forgotten machine"
cli machines
[ "$(wc -l <"$OUT")" = 1 ] || fail "a forgotten machine is still listed"
no_token "the end"
ok "hold, release, assign, reinstall, forget; refusals"

site_stop
ok "the operator command line"
