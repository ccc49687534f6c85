#!/bin/bash
# Event reporting of `installer run` (--dry-run on a recorded machine) to a
# loopback HTTP server that records POSTs (qemu/httpd.py --record): the
# events of a run are complete, in order and carry the bearer token; the
# inventory is uploaded once the profile names the report URL, and is
# `installer inventory --json` byte for byte; a failing run also uploads its
# log; canary secrets in the profile appear in no event, no log and no
# output; a dead report server is a warning and leaves the exit status alone.
# docs/events.md.
. "$(dirname "$0")/lib.sh"
SYSROOT=$ROOT/tests/data/sysroot/nvme-sata-usb
CHECK=$ROOT/tests/vm/events-check.py
HASH='$6$CanarySaltCli$zQm1V7jPq0fNf3B9YyJc8o1yQ2fN8Wm3rJtC5hX0uB4dL6eK9aS2gH7iO1pU3vW5xY8zA0bC2dE4fG6hI8jK0l'
TOKEN=cli-canary-token-4f7e
PASS=CliCanaryPass-81c2
mkdir -p "$T/www"
PORT=$("$ROOT/qemu/serve.sh" start --dir "$T/www" --pidfile "$T/pid" --record "$T/posts.jsonl" 2>/dev/null)
trap '"$ROOT/qemu/serve.sh" stop --pidfile "$T/pid"; rm -rf "$T"' EXIT

profile() { # REPORT_PORT [MATCH_SERIAL]
	cat <<-YAML
	version: 1
	hostname: srv01
	disk: { select: { transport: nvme }, partitions: [ { size: rest, mount: / } ] }
	image: { url: "http://canary:$PASS@h/i.tar.zst", sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef }
	users:
	  - { name: root, password_hash: "$HASH" }
	report: { url: "http://127.0.0.1:$1/events", token: $TOKEN }
	YAML
	[ -z "${2:-}" ] || printf 'match: { serial: %s }\n' "$2"
}
run() {
	INSTALLER_PROC_CMDLINE="inst.profile=file://$T/www/p.yaml" "$INSTALLER" run --sysroot "$SYSROOT" --dry-run
}
no_canary() { # FILE...
	for s in "$HASH" "$TOKEN" "$PASS"; do
		! grep -qF -- "$s" "$@" || die "a canary secret (${s:0:10}...) is in $*"
	done
}
bodies() {
	python3 -c 'import json, sys
for l in open(sys.argv[1]): print(json.loads(l)["body"])' "$T/posts.jsonl" > "$T/bodies"
}

# 1. A run that succeeds: every event delivered, with the token, and the
# inventory (queued at detection, sent once the profile named the URL).
"$INSTALLER" inventory --sysroot "$SYSROOT" > "$T/inventory.json"
profile "$PORT" > "$T/www/p.yaml"
expect_rc 0 run
expect_in "$T/out" "report: "
expect_in "$T/out" "events delivered to http://127.0.0.1:$PORT/events"
expect_in "$T/out" "report: the inventory ("
python3 "$CHECK" "$T/posts.jsonl" --token "$TOKEN" --exit 0 --machine-id-source smbios-uuid \
	--phases detect,fetch-profile,validate,match,plan --inventory "$T/inventory.json" >/dev/null ||
	die "events of the dry run"
grep -q '^{"seq":1,.*"phase":"install","type":"start"' "$T/out" || die "no install start event on the console"
bodies
no_canary "$T/out" "$T/err" "$T/bodies"

# 2. A run that fails (the profile is not for this machine, exit 8): the log is uploaded.
rm -f "$T/posts.jsonl"
profile "$PORT" NOT-THIS-ONE > "$T/www/p.yaml"
expect_rc 8 run
expect_in "$T/out" "report: the installer log ("
python3 "$CHECK" "$T/posts.jsonl" --token "$TOKEN" --exit 8 --log-upload --phases detect,match >/dev/null ||
	die "events and log of the failed run"
bodies
grep -qF "<!! match FAILED" "$T/bodies" || die "the uploaded log lacks the failure"
grep -q '"type":"error","level":"error","message":"file://.*match.serial' "$T/bodies" || die "no error event for the profile error"
no_canary "$T/out" "$T/err" "$T/bodies"

# 3. A dead report server (nothing listens on the port): a warning, same exit status, bounded time.
DEAD=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
profile "$DEAD" > "$T/www/p.yaml"
t0=$(date +%s)
expect_rc 0 run
[ $(( $(date +%s) - t0 )) -le 40 ] || die "a dead report server held the run up for more than 40 s"
expect_in "$T/err" "warning: report: cannot deliver events"
no_canary "$T/out" "$T/err"
echo ok
