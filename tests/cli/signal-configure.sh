#!/bin/bash
# Children that cannot hang `installer configure --root`, and signals that
# unwind it (issue 11), on the real demo image (build/image/debian12.tar.zst):
#  - timeouts: values out of range are errors at FILE:LINE:COL;
#  - a post_install that backgrounds a daemon returns at once (the daemon
#    holds the output pipe) and the daemon is killed;
#  - a post_install past timeouts.post_install is killed: exit 6, "timed out";
#  - SIGTERM (and a second signal) during a post_install: the command and
#    what it started are killed, /proc, /sys, /dev, /dev/pts and /run are
#    unmounted from the root, exit 143 (128 + SIGTERM).
# Every installer run is bounded by timeout(1): on code without this a hang
# fails the test. Needs root (chroot, mounts) and the image.
. "$(dirname "$0")/lib.sh"
IMAGE=$ROOT/build/image/debian12.tar.zst
if [ "$(id -u)" != 0 ] || [ ! -f "$IMAGE" ]; then echo "SKIP: needs root and $IMAGE"; exit 0; fi
D=$(mktemp -d /tmp/signal-configure.XXXXXX)
mounts_below() { awk -v d="$1" '$5 == d || index($5, d "/") == 1' /proc/self/mountinfo | wc -l; }
INST_PID=
cleanup() {
	[ -z "$INST_PID" ] || kill -KILL "$INST_PID" 2>/dev/null || true
	# Never remove a tree that still has something mounted in it (it could be /dev).
	if [ "$(mounts_below "$D")" -eq 0 ]; then rm -rf "$D"; else echo "mounts left below $D: kept" >&2; fi
	rm -rf "$T"
}
trap cleanup EXIT
zstd -dc "$IMAGE" | tar -x --numeric-owner -C "$D"

# A process is gone when it no longer exists (zombies count as alive).
gone() { for _ in $(seq 50); do [ -e "/proc/$1" ] || return 0; sleep 0.1; done; return 1; }
profile() { # profile FILE POST_INSTALL_COMMAND TIMEOUTS_LINE
	cat > "$1" <<YAML
version: 1
hostname: signal-test
disk: {select: {transport: virtio}, partitions: [{size: rest, fs: ext4, mount: /}]}
image: {url: "http://10.0.2.100/debian12.tar.zst", sha256: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}
$3
post_install:
  - '$2'
YAML
}

# timeouts: validated with positions.
profile "$T/bad.yaml" "true" "timeouts: {post_install: 0, packages: 86401}"
expect_rc 3 timeout 60 "$INSTALLER" validate "$T/bad.yaml"
expect_in "$T/err" "bad.yaml:5:26: error: timeouts.post_install: expected an integer from 1 to 86400, got '0'"
expect_in "$T/err" "bad.yaml:5:39: error: timeouts.packages: expected an integer from 1 to 86400, got '86401'"
profile "$T/bad2.yaml" "true" "timeouts: {post_instal: 5}"
expect_rc 3 timeout 60 "$INSTALLER" validate "$T/bad2.yaml"
expect_in "$T/err" "bad2.yaml:5:12: error: timeouts.post_instal: unknown key"

# A daemon in the background: configure returns well within the timeout.
profile "$T/daemon.yaml" 'sleep 600 & echo $! > /root/daemon.pid; echo started' "timeouts: {post_install: 60}"
start=$(date +%s)
expect_rc 0 timeout 120 "$INSTALLER" configure --profile "$T/daemon.yaml" --root "$D"
took=$(( $(date +%s) - start ))
echo "daemon in the background: configure took $took s"
[ "$took" -lt 30 ] || die "configure took $took s"
expect_in "$T/err" "post_install[0]: started"
gone "$(cat "$D/root/daemon.pid")" || die "the background daemon survived"
[ "$(mounts_below "$D")" -eq 0 ] || die "mounts left below $D"

# Past its timeout: killed, exit 6, the reason said.
profile "$T/slow.yaml" 'sleep 600 & echo $! > /root/slow-bg.pid; sleep 600' "timeouts: {post_install: 2}"
start=$(date +%s)
expect_rc 6 timeout 120 "$INSTALLER" configure --profile "$T/slow.yaml" --root "$D"
took=$(( $(date +%s) - start ))
echo "post_install past a 2 s timeout: configure took $took s"
expect_in "$T/err" "timed out after 2 s"
expect_in "$T/err" "post_install[0] (line 7 of the profile) failed: timed out"
gone "$(cat "$D/root/slow-bg.pid")" || die "the timed-out command's background process survived"
[ "$(mounts_below "$D")" -eq 0 ] || die "mounts left below $D"

# SIGTERM during the chroot step, then SIGINT while it unwinds.
sigterm_case() { # sigterm_case SECOND_SIGNAL
	rm -f "$D/root/sig-sh.pid" "$D/root/sig-bg.pid"
	profile "$T/sig.yaml" 'echo $$ > /root/sig-sh.pid; sleep 600 & echo $! > /root/sig-bg.pid; sleep 600' ""
	timeout 120 "$INSTALLER" configure --profile "$T/sig.yaml" --root "$D" >"$T/out" 2>"$T/err" &
	INST_PID=$!
	for _ in $(seq 600); do [ -s "$D/root/sig-bg.pid" ] && break; sleep 0.1; done
	[ -s "$D/root/sig-bg.pid" ] || { cat "$T/err"; die "post_install did not start"; }
	[ "$(mounts_below "$D")" -ge 4 ] || die "the chroot step has not mounted its file systems"
	# timeout(1) runs the installer as its child: signal the installer itself.
	local inst; inst=$(pgrep -P "$INST_PID" -x installer)
	kill -TERM "$inst"
	# The second one while it unwinds (two pending at once arrive lowest number first).
	[ -z "$1" ] || { sleep 0.2; kill "-$1" "$inst" 2>/dev/null || true; }
	local rc=0
	wait "$INST_PID" || rc=$?
	INST_PID=
	echo "SIGTERM${1:+ then SIG$1} during post_install: exit $rc, $(mounts_below "$D") mounts below the root"
	[ "$rc" -eq 143 ] || { cat "$T/err"; die "exit $rc after SIGTERM, expected 143"; }
	expect_in "$T/err" "caught SIGTERM"
	expect_in "$T/err" "stopped: the installer caught a signal"
	[ "$(mounts_below "$D")" -eq 0 ] || { grep "$D" /proc/self/mountinfo; die "mounts left below $D"; }
	gone "$(cat "$D/root/sig-sh.pid")" || die "the post_install shell survived"
	gone "$(cat "$D/root/sig-bg.pid")" || die "the post_install background process survived"
	gone "$inst" || die "the installer survived"
}
sigterm_case ""
sigterm_case INT
echo "ok"
