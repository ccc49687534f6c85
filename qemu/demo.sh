#!/bin/bash
# demo.sh — `make demo`: the site server (build/server/site-server, policy
# install) serves the boot tree on 127.0.0.1; one QEMU machine with a blank
# disk and network-first boot order (as rack machines often are) PXE-boots,
# the server answers "install", Debian is installed, the installer reboots,
# the machine PXE-boots again and the server, which recorded the install's
# exit status 0, answers "boot the local disk"; the installed system boots and
# is checked over SSH. One continuous QEMU run, its serial console shown here
# and kept in build/demo/serial.log. The status page's address is printed at
# the start: open it in a browser to watch the install.
#
# Usage: qemu/demo.sh [--firmware bios|uefi] [--timeout SECONDS] [--keep-serving]
#   --keep-serving   leave the site server running at the end (Ctrl-C stops it)
# Needs `make all` first (build/kernel/vmlinuz, build/boot/initrd.img,
# build/server/site-server); builds the demo OS image (rootfs/mkimage.sh,
# cached in build/image/) if missing.
# Environment: QEMU_ACCEL=kvm to use KVM instead of TCG.
#
# Boot tree: build/demo/www, made by ipxe/mkwww.sh from the same kernel,
# initramfs, profiles/ and image as build/www. The server's state (SQLite, the
# operator token) is build/demo/site, made anew on every run; its log is
# build/demo/server.log. The disk is build/demo/disk.img, a blank 8 GiB sparse
# file made anew on every run (virtio). Boot the installed system again by
# hand with:
#   qemu/pxeboot.sh --boot-disk --disk build/demo/disk.img --console --timeout 3600
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
BUILD=$TOP/build
DEMO=$BUILD/demo

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit "${1:-0}"
}
FIRMWARE=bios TIMEOUT=1800 KEEP=""
MARKER=INSTALLED-SYSTEM-FIRSTBOOT-OK
while [ $# -gt 0 ]; do
	case "$1" in
	--firmware) FIRMWARE=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--keep-serving) KEEP=1; shift ;;
	-h | --help) usage 0 ;;
	*) echo "demo: unknown argument: $1" >&2; usage 1 >&2 ;;
	esac
done
case "$TIMEOUT" in '' | *[!0-9]*) echo "demo: bad --timeout $TIMEOUT" >&2; exit 1 ;; esac

SITE=$BUILD/server/site-server
for f in "$BUILD/kernel/vmlinuz" "$BUILD/boot/initrd.img" "$SITE"; do
	[ -f "$f" ] || { echo "demo: $f missing: run 'make all' first" >&2; exit 1; }
done

mkdir -p "$DEMO"
IMAGE=$BUILD/image/debian12.tar.zst
if [ ! -f "$IMAGE" ]; then
	echo "demo: no OS image yet: building it (rootfs/mkimage.sh, ~2 minutes, once)"
	"$TOP/rootfs/mkimage.sh" --out "$BUILD/image"
fi
"$TOP/ipxe/mkwww.sh" --boot-url http://10.0.2.100/ \
	--kernel "$BUILD/kernel/vmlinuz" --initrd "$BUILD/boot/initrd.img" \
	--profiles "$TOP/profiles" --image "$IMAGE" --out "$DEMO/www"

rm -f "$DEMO/disk.img" "$DEMO/serial.log"
truncate -s 8G "$DEMO/disk.img"
EFIVARS=()
if [ "$FIRMWARE" = uefi ]; then
	rm -f "$DEMO/efivars.fd"
	EFIVARS=(--efivars "$DEMO/efivars.fd")
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- the site server ---------------------------------------------------------------
rm -rf "$DEMO/site"
mkdir -p "$DEMO/site"
PORT=$(free_port)
URL=http://127.0.0.1:$PORT/
SERVER_PID="" QEMU_PID="" TAIL_PID=""
cleanup() {
	[ -z "$TAIL_PID" ] || kill "$TAIL_PID" 2>/dev/null || true
	# pxeboot.sh stops its QEMU on TERM.
	[ -z "$QEMU_PID" ] || kill "$QEMU_PID" 2>/dev/null || true
	[ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
	wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
"$SITE" serve --listen "127.0.0.1:$PORT" --www "$DEMO/www" --state-dir "$DEMO/site" \
	--url http://10.0.2.100/ --policy install </dev/null >"$DEMO/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 60); do
	curl -sf --max-time 2 "${URL}healthz" >/dev/null 2>&1 && break
	kill -0 "$SERVER_PID" 2>/dev/null || { cat "$DEMO/server.log" >&2; echo "demo: FAILED: the site server did not start" >&2; exit 1; }
	sleep 0.25
done
curl -sf --max-time 2 "${URL}healthz" >/dev/null 2>&1 || { echo "demo: FAILED: the site server does not answer" >&2; exit 1; }
site() { SITE_SERVER=$URL SITE_TOKEN_FILE=$DEMO/site/operator.token timeout 30 "$SITE" "$@"; }
echo "demo: site server on 127.0.0.1:$PORT (policy install; log $DEMO/server.log)"
echo "demo: status page: $URL"

# --- one machine, network first on every boot ------------------------------------------
SSH_PORT=$(free_port)
T0=$(date +%s)
echo "demo: PXE boot -> install -> reboot -> PXE -> the server answers 'local' -> the installed system;"
echo "demo: serial console follows (log: $DEMO/serial.log)"
"$HERE/pxeboot.sh" --www "$DEMO/www" --port "$PORT" --bootfile http://10.0.2.100/boot.ipxe \
	--boot-order net-first --disk "$DEMO/disk.img" --ssh-port "$SSH_PORT" \
	--firmware "$FIRMWARE" "${EFIVARS[@]}" --serial-log "$DEMO/serial.log" \
	--timeout "$TIMEOUT" >"$DEMO/pxeboot.log" 2>&1 &
QEMU_PID=$!
for _ in $(seq 50); do [ -f "$DEMO/serial.log" ] && break; sleep 0.2; done
tail -n +1 -f "$DEMO/serial.log" 2>/dev/null &
TAIL_PID=$!

# wait_for STRING: until it is on the serial console; fails when the machine
# stops, the install fails, or the time is up.
deadline=$((T0 + TIMEOUT))
wait_for() {
	until grep -qF -- "$1" "$DEMO/serial.log" 2>/dev/null; do
		if grep -q '^INIT: installer exited with status [1-9]' "$DEMO/serial.log" 2>/dev/null; then
			echo; echo "demo: FAILED: the install failed (see $DEMO/serial.log; $URL shows the error)" >&2
			return 1
		fi
		if ! kill -0 "$QEMU_PID" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
			echo; echo "demo: FAILED: no '$1' on the console (see $DEMO/serial.log, $DEMO/pxeboot.log)" >&2
			return 1
		fi
		sleep 1
	done
}
wait_for "INIT: installer exited with status 0"
t_install=$(($(date +%s) - T0))
wait_for "$MARKER"
t_marker=$(($(date +%s) - T0 - t_install))
kill "$TAIL_PID" 2>/dev/null || true
TAIL_PID=""
echo
echo "demo: installed (status 0) after ${t_install}s; the machine rebooted, PXE-booted again, the server"
echo "demo: answered 'local', and the installed system printed its first-boot marker ${t_marker}s later"
echo "demo: install phases (from the installer's own report):"
tr -d '\r' <"$DEMO/serial.log" | sed -n 's/^\[ *[0-9.]*\] <== \([a-z-]*\) done in \([0-9.]*s\).*/    \1 \2/p'
echo "demo: checking the installed system over SSH"
rc=0
"$HERE/verify-installed.sh" --port "$SSH_PORT" --key "$TOP/tests/data/keys/demo_ed25519" \
	--user admin --hostname demo01 --mac 52:54:00:12:34:56 --poweroff || rc=$?
for _ in $(seq 120); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.5; done
echo "demo: the server's record of the machine (site-server show 52:54:00:12:34:56):"
site show 52:54:00:12:34:56 | sed 's/^/    /' || true
t_total=$(($(date +%s) - T0))
echo "demo: times: PXE boot + install ${t_install}s, reboot -> local -> first-boot marker ${t_marker}s, whole run ${t_total}s"
if [ "$rc" -ne 0 ]; then
	echo "demo: FAILED: the installed system is not as the profile says (above)" >&2
	exit 1
fi
echo "demo: OK: Debian installed from profiles/default.yaml through the site server, booted from its disk, checked over SSH."
if [ -n "$KEEP" ]; then
	echo "demo: the site server keeps running: $URL (Ctrl-C stops it)"
	wait "$SERVER_PID" || true
fi
echo "demo: boot it again: qemu/pxeboot.sh --boot-disk --disk $DEMO/disk.img --console --timeout 3600"
