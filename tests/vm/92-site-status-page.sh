#!/bin/bash
# The site server's status page in a real browser during real installs
# (issue 12): Debian's headless chromium, driven over the DevTools protocol
# by tests/vm/browser.py, watches the machine table while QEMU PXE-boots
# through site-server (policy install, reached by the guest as
# http://10.0.2.100/ through pxeboot.sh's guestfwd):
#   1. machine A (blank disk, profile lookup -> default): it appears in the
#      table, its phase advances through several phases, the progress bar's
#      done value grows during the image phase, then it shows "installed";
#      its page shows the phase timeline, the events and the inventory the
#      installer uploaded.
#   2. machine B, registered by asking for its boot answer the way iPXE's
#      first request does (that answer's attempt is never used), assigned
#      with the operator command line (`site-server assign`) a profile
#      whose image sha256 is wrong, then PXE-booted: the table shows
#      "failed", the failing phase (image) and the checksum error in red;
#      its page marks the image phase failed.
# The operator command line's listing must agree (machines, show,
# inventory). Screenshots: build/vmtest/92-site-status-page/*.png.
#
# Nothing leaves 127.0.0.1: as root the whole test (server, QEMU, chromium)
# runs in a network namespace of its own with only loopback up (checked);
# chromium also maps every host name to nothing, uses a proxy on an unused
# loopback port and has background networking off; browser.py fails the run
# if the page made any request that is not to the server on 127.0.0.1.
# Every child has a timeout. One QEMU guest at a time.

if [ "$(id -u)" = 0 ] && [ -z "${SITE92_NETNS:-}" ]; then
	# A fresh network namespace for this test: gone when its last process exits.
	exec env SITE92_NETNS=1 timeout 3600 unshare --net -- "$0" "$@"
fi

. "$(dirname "$0")/lib.sh"

SERVER_BIN=$BUILD/server/site-server
PY=/usr/bin/python3
BROWSER=$ROOT/tests/vm/browser.py
MAC_A=52:54:00:12:34:92
MAC_B=52:54:00:12:35:92

[ -x "$SERVER_BIN" ] || die "no $SERVER_BIN: run 'make server'"
[ -x /usr/bin/chromium ] || die "no /usr/bin/chromium (apt-get install chromium)"
$PY -c 'import websocket' 2>/dev/null || die "no python3-websocket (apt-get install python3-websocket)"
[ -f "$BUILD/kernel/vmlinuz" ] && [ -f "$BUILD/boot/initrd.img" ] || die "no kernel/initrd: run 'make www'"

if [ -n "${SITE92_NETNS:-}" ]; then
	ip link set lo up || die "cannot bring up loopback in the test's network namespace"
	links=$(ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')
	[ "$links" = "lo " ] || die "the test's network namespace has other links: $links"
	[ -z "$(ip route show default)" ] && [ -z "$(ip -6 route show default)" ] || die "a default route in the namespace"
	log "in a network namespace of its own: only lo ($(ip -o -4 addr show lo | awk '{print $4}'))"
else
	log "not root: no network namespace; chromium's own rules keep it on 127.0.0.1"
fi

PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 0.3
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Profiles: the demo profile, and one whose image checksum is wrong.
SUM=$(image_sha256)
WRONG=$(echo "$SUM" | tr '0-9a-f' '1-9a-f0')
sed "s/@IMAGE_SHA256@/$SUM/" "$ROOT/profiles/default.yaml" > "$T/profiles/default.yaml"
sed "s/@IMAGE_SHA256@/$WRONG/; s/^hostname: .*/hostname: badsum92/" "$ROOT/profiles/default.yaml" > "$T/profiles/badsum.yaml"
make_www ""
# The image inside the served tree (site-server refuses symlinks that leave
# it): a hard link to the demo image, a copy when that cannot be.
[ -f "$BUILD/image/debian12.tar.zst" ] || die "no demo image: run 'make image' first"
mkdir -p "$T/www/images"
IMG=$(readlink -f "$BUILD/image/debian12.tar.zst")
ln -f "$IMG" "$T/www/images/debian12.tar.zst" 2>/dev/null || cp "$IMG" "$T/www/images/debian12.tar.zst"
# QEMU's TFTP hands iPXE this tree's boot.ipxe; make it ask the server, whose
# generated /boot.ipxe chains to the per-machine answer.
printf '#!ipxe\nchain http://10.0.2.100/boot.ipxe\n' >"$T/www/boot.ipxe"
make_disk "$T/a.raw" 6G
make_disk "$T/b.raw" 6G

# The server: policy install, loopback, a free port; what machines are told:
# http://10.0.2.100/ (the guestfwd). The guest powers off when done.
mkdir -p "$T/state"
timeout 3000 "$SERVER_BIN" serve --listen 127.0.0.1:0 --port-file "$T/port" --www "$T/www" \
	--state-dir "$T/state" --url http://10.0.2.100/ --policy install \
	--append "no_timer_check inst.finish=poweroff" >"$T/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
[ -s "$T/port" ] || { cat "$T/server.log" >&2; die "site-server did not start"; }
URL=$(cat "$T/port")
case "$URL" in http://127.0.0.1:[0-9]*/) ;; *) die "site-server listens on $URL, not 127.0.0.1" ;; esac
PORT=${URL#http://127.0.0.1:}
PORT=${PORT%/}
export SITE_SERVER=$URL SITE_TOKEN_FILE=$T/state/operator.token
log "site-server on $URL (log $T/server.log)"

cli() { timeout 60 "$SERVER_BIN" "$@"; }

# Wait for the browser to show the page, then boot (the page must see the
# machine appear).
start_browser() { # NAME ARGS...: browser.py in the background, log $T/NAME.log
	local name=$1
	shift
	timeout 1800 $PY "$BROWSER" "$@" --url "$URL" --out "$T" >"$T/$name.log" 2>&1 &
	BROWSER_PID=$!
	PIDS+=($BROWSER_PID)
	for _ in $(seq 600); do
		grep -q "browser: screenshot\|FAIL" "$T/$name.log" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$T/$name.log" >&2
	die "the browser did not open the page within 60 s"
}
finish_browser() { # NAME: wait for it; its log on stdout
	local name=$1 rc=0
	wait "$BROWSER_PID" || rc=$?
	sed 's/^/  /' "$T/$name.log"
	return $rc
}

log "1. machine A ($MAC_A): a PXE install watched on the status page"
start_browser watch watch --mac "$MAC_A" --timeout 1500 --min-phases 3 --inventory
SERIAL=$T/serial-a.log
pxeboot --port "$PORT" --disk "$T/a.raw" --mac "$MAC_A" --mem 1024 --no-reboot --timeout 1500 \
	--fail-on "INSTALL FAILED" || die "machine A's install did not finish (serial console: $SERIAL)"
expect_log "INSTALL COMPLETE"
finish_browser watch || die "the status page did not show machine A's install (see above)"

log "the operator command line agrees"
cli machines | tee "$T/machines-1.txt"
grep -E "^1 +$MAC_A +.* installed " "$T/machines-1.txt" >/dev/null || die "'site-server machines' does not list A as installed"
cli show "$MAC_A" >"$T/show-a.txt" || die "'site-server show' failed"
grep -E "^ +image +.* ok$" "$T/show-a.txt" >/dev/null || die "'site-server show' lacks the image phase: $(cat "$T/show-a.txt")"
grep -E "^  Disks +vda  6\.0 GiB  virtio" "$T/show-a.txt" >/dev/null || die "'site-server show' lacks the inventory's disk"
grep -E "^  NICs +eth0  $MAC_A " "$T/show-a.txt" >/dev/null || die "'site-server show' lacks the inventory's NIC"
cli inventory "$MAC_A" >"$T/inventory-a.json" || die "'site-server inventory' failed"
$PY -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["disks"][0]["name"] == "vda"' "$T/inventory-a.json" ||
	die "'site-server inventory' is not the installer's inventory JSON"
sed -n '1,60s/^/  /p' "$T/show-a.txt"

log "2. machine B ($MAC_B): registered, assigned a profile with a wrong image checksum, PXE-booted"
# Its first boot request, as iPXE makes it: the server creates the machine
# (policy install) and hands out an attempt (a machine token) that is never
# used, like a machine that lost power right after its boot answer.
curl -sS --max-time 30 -o /dev/null -w '%{http_code}\n' "${URL}ipxe/answer?mac=$MAC_B&platform=pcbios&arch=i386" |
	grep -qx 200 || die "the boot answer for $MAC_B failed"
cli assign "$MAC_B" badsum.yaml || die "'site-server assign $MAC_B badsum.yaml' failed"
cli machines | sed 's/^/  /'
start_browser failed failed --mac "$MAC_B" --phase image --error checksum --timeout 1500
SERIAL=$T/serial-b.log
pxeboot --port "$PORT" --disk "$T/b.raw" --mac "$MAC_B" --mem 1024 --no-reboot --timeout 1500 ||
	die "machine B's guest did not power off after its failed install (serial console: $SERIAL)"
expect_log "does not match its checksum"
expect_log "INSTALL FAILED (exit status 7)"
finish_browser failed || die "the status page did not show machine B's failure (see above)"

cli machines | tee "$T/machines-2.txt"
grep -E "^2 +$MAC_B +.* failed +image .*checksum" "$T/machines-2.txt" >/dev/null ||
	die "'site-server machines' does not list B as failed in image with the checksum error"
cli events "$MAC_B" >"$T/events-b.txt" || die "'site-server events' failed"
grep -q "image .* error" "$T/events-b.txt" || die "'site-server events' shows no image error"

# Screenshots, and that they are PNG images.
n=0
for f in "$T"/*.png; do
	[ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || die "$f is not a PNG"
	n=$((n + 1))
done
[ "$n" -ge 6 ] || die "only $n screenshots"
log "screenshots:"
ls -l "$T"/*.png | sed 's/^/  /'
log "ok: the status page showed A appear, advance through its phases, stream its image and end installed, and B fail in image with the checksum error in red; nothing left 127.0.0.1"
