#!/bin/bash
# demo.sh — `make demo`: PXE-boot a QEMU machine with a blank disk, install
# Debian on it, then boot the installed system from that disk. The serial
# consoles are shown here and kept in build/demo/install.log and boot.log.
#
# Usage: qemu/demo.sh [--firmware bios|uefi] [--timeout SECONDS] [--no-boot-disk]
#   --no-boot-disk   stop after the install (skip booting the installed disk)
# Needs `make all` first (build/kernel/vmlinuz, build/boot/initrd.img); builds
# the demo OS image (rootfs/mkimage.sh, cached in build/image/) if missing.
# Environment: QEMU_ACCEL=kvm to use KVM instead of TCG.
#
# Boot tree: the demo serves its own copy, build/demo/www, made by
# ipxe/mkwww.sh from the same kernel, initramfs, profiles/ and image as
# build/www but with `--append inst.finish=poweroff`. build/www stays what a
# real site serves (default finish: reboot on success, shell on failure); the
# demo's install run must end by itself whatever the installer's result, so its
# guest powers off and QEMU exits (-no-reboot too, so a reboot would also end
# it). The demo then reads the installer's exit status from the serial log.
#
# The disk is build/demo/disk.img, a blank 8 GiB sparse file made anew on
# every run (virtio). After a successful install the machine is booted from
# it until the installed system prints the first-boot marker of
# profiles/default.yaml (INSTALLED-SYSTEM-FIRSTBOOT-OK), then stopped; boot it
# again by hand with:
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
FIRMWARE=bios TIMEOUT=1800 BOOT_DISK=1
MARKER=INSTALLED-SYSTEM-FIRSTBOOT-OK
while [ $# -gt 0 ]; do
	case "$1" in
	--firmware) FIRMWARE=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--no-boot-disk) BOOT_DISK=""; shift ;;
	-h | --help) usage 0 ;;
	*) echo "demo: unknown argument: $1" >&2; usage 1 >&2 ;;
	esac
done

for f in "$BUILD/kernel/vmlinuz" "$BUILD/boot/initrd.img"; do
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
	--profiles "$TOP/profiles" --image "$IMAGE" --out "$DEMO/www" \
	--append "inst.finish=poweroff"

rm -f "$DEMO/disk.img"
truncate -s 8G "$DEMO/disk.img"
EFIVARS=()
if [ "$FIRMWARE" = uefi ]; then
	rm -f "$DEMO/efivars.fd" # NVRAM kept from the install to the disk boot
	EFIVARS=(--efivars "$DEMO/efivars.fd")
fi

T0=$(date +%s)
echo "demo: 1/2 PXE boot and install; serial console follows (log: $DEMO/install.log)"
rc=0
"$HERE/pxeboot.sh" --www "$DEMO/www" --disk "$DEMO/disk.img" \
	--firmware "$FIRMWARE" "${EFIVARS[@]}" --serial-log "$DEMO/install.log" --console \
	--no-reboot --timeout "$TIMEOUT" || rc=$?
echo

status=$(tr -d '\r' <"$DEMO/install.log" |
	sed -n 's/^INIT: installer exited with status \([0-9]*\).*/\1/p' | tail -n1)
if [ "$rc" -ne 0 ]; then
	echo "demo: FAILED: the machine did not power off (pxeboot status $rc)" >&2
	exit 1
elif [ -z "$status" ]; then
	echo "demo: FAILED: the installer did not run (see $DEMO/install.log)" >&2
	exit 1
elif [ "$status" -ne 0 ]; then
	echo "demo: FAILED: installer exited with status $status (see $DEMO/install.log)" >&2
	exit 1
fi
echo "demo: installer finished (status 0), machine powered off"
[ -n "$BOOT_DISK" ] || exit 0

echo "demo: install phases (from the installer's own report):"
tr -d '\r' <"$DEMO/install.log" | sed -n 's/^\[ *[0-9.]*\] <== \([a-z-]*\) done in \([0-9.]*s\).*/    \1 \2/p'
t_install=$(($(date +%s) - T0))

echo "demo: 2/2 booting the installed system from its disk (log: $DEMO/boot.log)"
# A free loopback port for the SSH forward.
rm -f "$DEMO/boot.log"
SSH_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
T1=$(date +%s)
"$HERE/pxeboot.sh" --boot-disk --disk "$DEMO/disk.img" --ssh-port "$SSH_PORT" \
	--firmware "$FIRMWARE" "${EFIVARS[@]}" --serial-log "$DEMO/boot.log" \
	--timeout "$TIMEOUT" >"$DEMO/boot-qemu.log" 2>&1 &
QEMU_PID=$!
trap 'kill $QEMU_PID 2>/dev/null || true' EXIT
# Show the installed system's console while it boots.
for _ in $(seq 50); do [ -f "$DEMO/boot.log" ] && break; sleep 0.2; done
tail -n +1 -f "$DEMO/boot.log" 2>/dev/null &
TAIL_PID=$!
deadline=$(($(date +%s) + TIMEOUT))
until grep -q "$MARKER" "$DEMO/boot.log" 2>/dev/null; do
	if ! kill -0 "$QEMU_PID" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
		kill "$TAIL_PID" 2>/dev/null || true
		echo "demo: FAILED: the installed system did not print $MARKER (see $DEMO/boot.log)" >&2
		exit 1
	fi
	sleep 1
done
t_marker=$(($(date +%s) - T1))
kill "$TAIL_PID" 2>/dev/null || true
echo
echo "demo: the installed system printed its first-boot marker after ${t_marker}s; checking it over SSH"
rc=0
"$HERE/verify-installed.sh" --port "$SSH_PORT" --key "$TOP/tests/data/keys/demo_ed25519" \
	--user admin --hostname demo01 --mac 52:54:00:12:34:56 --poweroff || rc=$?
wait "$QEMU_PID" 2>/dev/null || true
trap - EXIT
t_total=$(($(date +%s) - T0))
echo "demo: times: PXE boot + install ${t_install}s, boot of the installed system to its first-boot marker ${t_marker}s, whole demo ${t_total}s"
if [ "$rc" -ne 0 ]; then
	echo "demo: FAILED: the installed system is not as the profile says (above)" >&2
	exit 1
fi
echo "demo: OK: Debian installed from profiles/default.yaml, booted, and checked over SSH."
echo "demo: boot it again: qemu/pxeboot.sh --boot-disk --disk $DEMO/disk.img --console --timeout 3600"
