#!/bin/bash
# `installer discover` on a recorded machine against a loopback HTTP server
# that records POSTs (qemu/serve.sh --record) and serves the answer of
# inst.wait= from a file: the inventory upload (header, token, machine id,
# a body identical to `installer inventory --json`), the events (phases
# detect, discover), exit 0 on {"action":"reboot"}; waiting while the answer
# says "wait" and leaving soon after it changes; SIGTERM while waiting (exit
# 143, the log uploaded); no inst.wait=; a bad inst.mode= refused; `installer
# run` refusing inst.mode=discover, and uploading the inventory before it
# fails on a missing profile. docs/installer.md, docs/events.md.
. "$(dirname "$0")/lib.sh"
SYSROOT=$ROOT/tests/data/sysroot/nvme-sata-usb
CHECK=$ROOT/tests/vm/events-check.py
TOKEN=cli-discover-token-5d1a
UUID=3f2c6a52-9b1e-4d6c-8a0f-5e4d3c2b1a09 # the recorded machine's SMBIOS UUID
mkdir -p "$T/www"
PORT=$("$ROOT/qemu/serve.sh" start --dir "$T/www" --pidfile "$T/pid" --record "$T/posts.jsonl" 2>/dev/null)
pid=""
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; "$ROOT/qemu/serve.sh" stop --pidfile "$T/pid"; rm -rf "$T"' EXIT
BASE=http://127.0.0.1:$PORT
CMDLINE="inst.mode=discover inst.report=$BASE/api/v1/machines/7/report inst.report.token=$TOKEN inst.wait=$BASE/next"

"$INSTALLER" inventory --sysroot "$SYSROOT" > "$T/inventory.json"
discover() { # [CMDLINE]
	INSTALLER_PROC_CMDLINE=${1:-$CMDLINE} timeout 120 "$INSTALLER" discover --sysroot "$SYSROOT"
}
# In the background, output in $T/outN and $T/errN; $pid is timeout's, which
# passes signals on to the installer.
discover_bg() { # N
	(INSTALLER_PROC_CMDLINE=$CMDLINE exec timeout 120 "$INSTALLER" discover --sysroot "$SYSROOT") \
		> "$T/out$1" 2> "$T/err$1" &
	pid=$!
}
# wait_for FILE TEXT: until FILE holds TEXT (at most 15 s)
wait_for() {
	for _ in $(seq 150); do
		grep -qF -- "$2" "$1" && return 0
		sleep 0.1
	done
	cat "$1" >&2
	die "$1 lacks: $2"
}
# wait_bg WANT WHAT: wait for the background discover, require exit status WANT
wait_bg() {
	set +e
	wait "$pid"
	local rc=$?
	set -e
	pid=""
	[ "$rc" -eq "$1" ] || die "discover exited $rc $2, expected $1"
}
# The one inventory upload of the recording: its headers are right and its
# body is `installer inventory --json`'s output, byte for byte.
check_inventory() {
	python3 - "$T/posts.jsonl" "$T/inventory.json" "$TOKEN" "$UUID" <<-'PY' || die "the inventory upload"
	import json, sys
	posts = [json.loads(l) for l in open(sys.argv[1])]
	inv = [p for p in posts if p["headers"].get("X-Installer-Upload") == "inventory"]
	assert len(inv) == 1, "%d inventory uploads" % len(inv)
	h = inv[0]["headers"]
	assert inv[0]["path"] == "/api/v1/machines/7/report", inv[0]["path"]
	assert h.get("Content-Type") == "application/json", h
	assert h.get("Authorization") == "Bearer " + sys.argv[3], "no bearer token"
	assert h.get("X-Installer-Machine-Id") == sys.argv[4], h
	assert inv[0]["body"] == open(sys.argv[2]).read(), "the body is not installer inventory --json"
	PY
}
no_token() { # FILE...
	! grep -qF -- "$TOKEN" "$@" || die "the token is in $*"
}

# 1. The server answers "reboot" at once: detect, upload, discover, exit 0.
echo '{"action":"reboot","state":"ready"}' > "$T/www/next"
expect_rc 0 discover
expect_in "$T/out" "<== discover done"
expect_in "$T/out" "the site server released this machine (state ready)"
expect_in "$T/out" "report: the inventory ("
expect_in "$T/out" "events delivered to $BASE/api/v1/machines/7/report"
check_inventory
python3 "$CHECK" "$T/posts.jsonl" --token "$TOKEN" --exit 0 --machine-id "$UUID" --phases detect,discover \
	--inventory "$T/inventory.json" >/dev/null || die "events of discover"
grep -q '"phase":"install","type":"start".*"message":"installer discover"' "$T/out" || die "no 'installer discover' start event"
no_token "$T/out" "$T/err"
# And the upload is what `installer plan --inventory` takes as it is.
python3 -c 'import json, sys
for l in open(sys.argv[1]):
    p = json.loads(l)
    if p["headers"].get("X-Installer-Upload") == "inventory": sys.stdout.write(p["body"])' "$T/posts.jsonl" > "$T/uploaded.json"
printf 'version: 1\nhostname: d1\ndisk: { select: { transport: nvme }, partitions: [ { size: rest, mount: / } ] }\nimage: { url: "http://h/i.tar.zst", sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef }\n' > "$T/p.yaml"
expect_rc 0 "$INSTALLER" plan --profile "$T/p.yaml" --inventory "$T/uploaded.json"
expect_in "$T/out" "/dev/nvme0n1"

# 2. "wait" until the file changes: one human line, then exit soon after the change.
rm -f "$T/posts.jsonl"
echo '{"action":"wait","state":"discovered"}' > "$T/www/next"
discover_bg 2
wait_for "$T/out2" "discover: waiting for the site server to release this machine (state discovered)"
sleep 12 # at least one more poll that says "wait"
kill -0 "$pid" 2>/dev/null || { cat "$T/out2" "$T/err2" >&2; die "discover ended while the answer was 'wait'"; }
[ "$(grep -c '^\[.*] *discover: waiting for' "$T/out2")" -eq 1 ] || die "more than one waiting line within a minute"
echo '{"action":"reboot","state":"ready"}' > "$T/www/next"
t0=$(date +%s)
wait_bg 0 "after the release"
[ $(( $(date +%s) - t0 )) -le 25 ] || die "discover took more than 25 s to notice the release"
expect_in "$T/out2" "(state ready)"
python3 "$CHECK" "$T/posts.jsonl" --token "$TOKEN" --exit 0 --phases detect,discover \
	--inventory "$T/inventory.json" >/dev/null || die "events of the waiting discover"

# 3. SIGTERM while waiting: a failure (143), the finish event and the log upload.
rm -f "$T/posts.jsonl"
echo '{"action":"wait","state":"discovered"}' > "$T/www/next"
discover_bg 3
wait_for "$T/out3" "discover: waiting for"
kill -TERM "$pid"
t0=$(date +%s)
wait_bg 143 "after SIGTERM"
[ $(( $(date +%s) - t0 )) -le 15 ] || die "discover took more than 15 s to stop after SIGTERM"
expect_in "$T/out3" "<!! discover FAILED"
python3 "$CHECK" "$T/posts.jsonl" --token "$TOKEN" --exit 143 --phases detect,discover --log-upload \
	--inventory "$T/inventory.json" >/dev/null || die "events of the interrupted discover"

# 4. The server cannot answer (404): a warning, and it keeps asking.
rm -f "$T/www/next" "$T/posts.jsonl"
discover_bg 4
wait_for "$T/err4" "warning: discover: cannot ask the site server ($BASE/next: HTTP 404); asking again every 10 s"
kill -0 "$pid" 2>/dev/null || die "discover gave up on a 404"
echo '{"action":"reboot"}' > "$T/www/next"
wait_bg 0 "after the answer appeared"

# 5. No inst.wait=: the inventory only, exit 0 after the events.
rm -f "$T/posts.jsonl"
expect_rc 0 discover "inst.mode=discover inst.report=$BASE/api/v1/machines/7/report inst.report.token=$TOKEN"
expect_in "$T/out" "no inst.wait=URL"
check_inventory
python3 "$CHECK" "$T/posts.jsonl" --token "$TOKEN" --exit 0 --phases detect --inventory "$T/inventory.json" \
	>/dev/null || die "events of the inventory-only discover"
! grep -q '"phase":"discover"' "$T/out" || die "a discover phase without inst.wait="

# 6. A bad inst.mode= is refused, naming the word, by both commands; nothing is sent.
rm -f "$T/posts.jsonl"
expect_rc 2 discover "inst.mode=discovery inst.report=$BASE/r"
expect_in "$T/err" "inst.mode: expected install or discover, not 'discovery'"
INSTALLER_PROC_CMDLINE="inst.mode=Install inst.profiles=$BASE/" expect_rc 2 "$INSTALLER" run --sysroot "$SYSROOT" --dry-run
expect_in "$T/err" "inst.mode: expected install or discover, not 'Install'"
expect_rc 2 discover "inst.mode=discover inst.wait=file://$T/www/next"
expect_in "$T/err" "inst.wait: expected an http:// or https:// URL"
# A machine booted to be discovered is never installed.
INSTALLER_PROC_CMDLINE="$CMDLINE inst.profiles=$BASE/" expect_rc 2 "$INSTALLER" run --sysroot "$SYSROOT" --dry-run
expect_in "$T/err" "inst.mode=discover: this machine is to be discovered, not installed"
[ ! -e "$T/posts.jsonl" ] || die "a refused command line sent something"

# 7. `installer run` uploads the inventory after detection, also when it
# fails later (no profile: 404, exit 5).
INSTALLER_PROC_CMDLINE="inst.report=$BASE/api/v1/machines/7/report inst.report.token=$TOKEN inst.profile=$BASE/missing.yaml" \
	expect_rc 5 timeout 120 "$INSTALLER" run --sysroot "$SYSROOT" --dry-run
check_inventory
python3 "$CHECK" "$T/posts.jsonl" --token "$TOKEN" --exit 5 --phases detect,fetch-profile --log-upload \
	--inventory "$T/inventory.json" >/dev/null || die "events of the failed run"
no_token "$T/out" "$T/err"
echo ok
