# Shared helpers for the VM tests (sourced). Each test gets a work directory
# build/vmtest/NAME with its own boot tree (www/), profiles and disks, and is
# judged by markers on the guest's serial console (serial.log).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$ROOT/build
NAME=$(basename "$0" .sh)
T=$BUILD/vmtest/$NAME
rm -rf "$T"
mkdir -p "$T/profiles"
SERIAL=$T/serial.log

log() { echo "[$(date +%T)] $*"; }
die() {
	echo "FAIL: $*" >&2
	if [ -f "$SERIAL" ]; then
		echo "--- last serial console lines ($SERIAL):" >&2
		tail -40 "$SERIAL" >&2
		echo "FAIL: $*" >&2 # again, last: a log's tail shows why
	fi
	exit 1
}

# make_www "KERNEL ARGS": the boot tree for this test, with $T/profiles.
# no_timer_check: under TCG on a busy host the guest kernel's IO-APIC timer
# check can fail and panic ("IO-APIC + timer doesn't work!"); QEMU's timer
# works, so the check is skipped (qemu/try.sh does the same).
make_www() {
	"$ROOT/ipxe/mkwww.sh" --boot-url http://10.0.2.100/ --kernel "$BUILD/kernel/vmlinuz" \
		--initrd "$BUILD/boot/initrd.img" --profiles "$T/profiles" --out "$T/www" \
		--append "$1 no_timer_check" >/dev/null
}

# Serve the shared demo OS image in this test's tree (no copy).
link_image() {
	[ -f "$BUILD/image/debian12.tar.zst" ] || die "no demo image: run 'make image' first"
	mkdir -p "$T/www/images"
	ln -sf "$BUILD/image/debian12.tar.zst" "$T/www/images/debian12.tar.zst"
}

image_sha256() { cut -d' ' -f1 "$BUILD/image/debian12.tar.zst.sha256"; }

# A sparse raw disk of SIZE (e.g. 4G).
make_disk() { rm -f "$1"; truncate -s "$2" "$1"; }

# pxeboot ARGS...: PXE-boot with this test's tree; serial console in $SERIAL.
pxeboot() {
	"$ROOT/qemu/pxeboot.sh" --www "$T/www" --serial-log "$SERIAL" "$@"
}

expect_log() { grep -qF -- "$1" "$SERIAL" || die "the serial console lacks: $1"; }
expect_no_log() { ! grep -qF -- "$1" "$SERIAL" || die "the serial console shows: $1"; }

# True when FILE holds only zero bytes (a blank disk stayed blank).
all_zero() { cmp -s -n "$(stat -c %s "$1")" "$1" /dev/zero; }
