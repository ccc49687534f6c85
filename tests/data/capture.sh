#!/bin/bash
# Record the /sys and /proc of varied QEMU machines into tests/data/sysroot/,
# for `installer inventory --sysroot` tests. Each machine PXE-boots the real
# boot image with inst.capture: /init runs sysroot-dump (tests/data/
# sysroot-dump.sh) and prints the tree as base64 on the serial console; this
# script unpacks it to tests/data/sysroot/NAME/ and writes the inventory the
# installer makes of it to tests/data/sysroot/NAME.json (the expected output,
# to be reviewed before committing).
#
#   tests/data/capture.sh [NAME...]     default: every machine below
#
# Needs `make all` (kernel, initramfs). Runs QEMU (TCG), ~30 s per machine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/tests/data/sysroot
WORK=$ROOT/build/capture
mkdir -p "$WORK/profiles"

"$ROOT/ipxe/mkwww.sh" --boot-url http://10.0.2.100/ --kernel "$ROOT/build/kernel/vmlinuz" \
	--initrd "$ROOT/build/boot/initrd.img" --profiles "$WORK/profiles" --out "$WORK/www" \
	--no-image --append "inst.capture inst.finish=poweroff" >/dev/null

# Extra NICs, each on its own restricted user-mode network.
nic() { echo "--qemu-arg -netdev --qemu-arg user,id=x$1,restrict=on --qemu-arg -device --qemu-arg $2,netdev=x$1,mac=$3"; }

machine() { # NAME: the QEMU options of each recorded machine
	case $1 in
	nvme-sata-usb) # one NVMe, one SATA disk with an old GPT table, a USB stick
		echo "--disk $WORK/nvme.raw,if=nvme,serial=NVME0001 --disk $WORK/sata.raw,if=sata,serial=SATA0001"
		echo "--disk $WORK/usb.raw,if=usb,serial=USB0001 --uuid 3f2c6a52-9b1e-4d6c-8a0f-5e4d3c2b1a09 --sys-serial SRV-0001" ;;
	two-identical) # two identical virtio disks, distinguished only by serial
		echo "--disk $WORK/a.raw,serial=TWIN-A --disk $WORK/b.raw,serial=TWIN-B --sys-serial SRV-0002" ;;
	four-nics-uefi) # UEFI firmware, four NICs (virtio + e1000 + e1000e + e1000)
		echo "--firmware uefi --disk $WORK/c.raw,serial=UEFI0001 --mac 52:54:00:00:00:01"
		nic 1 e1000 52:54:00:00:00:02
		nic 2 e1000e 52:54:00:00:00:03
		nic 3 e1000 52:54:00:00:00:04 ;;
	*) echo "capture: unknown machine $1" >&2; exit 2 ;;
	esac
}

prepare_disks() {
	truncate -s 0 "$WORK"/*.raw 2>/dev/null || true
	truncate -s 16G "$WORK/nvme.raw"; truncate -s 32G "$WORK/sata.raw"; truncate -s 4G "$WORK/usb.raw"
	truncate -s 8G "$WORK/a.raw" "$WORK/b.raw"; truncate -s 10G "$WORK/c.raw"
	# "a disk with old partitions"
	/sbin/sfdisk -q "$WORK/sata.raw" >/dev/null <<'SFDISK'
label: gpt
size=1GiB, type=linux, name=oldroot
size=2GiB, type=swap, name=oldswap
SFDISK
}

NAMES=("$@")
[ ${#NAMES[@]} -gt 0 ] || NAMES=(nvme-sata-usb two-identical four-nics-uefi)
for name in "${NAMES[@]}"; do
	prepare_disks
	log=$WORK/$name.serial.log
	echo "capture: $name"
	# shellcheck disable=SC2046
	"$ROOT/qemu/pxeboot.sh" --www "$WORK/www" --serial-log "$log" --timeout 300 $(machine "$name")
	tr -d '\r' <"$log" | sed -n '/^----- BEGIN SYSROOT -----$/,/^----- END SYSROOT -----$/p' |
		sed '1d;$d' | base64 -d >"$WORK/$name.tar.gz"
	rm -rf "${OUT:?}/$name"
	mkdir -p "$OUT/$name"
	tar -C "$OUT/$name" -xzf "$WORK/$name.tar.gz"
	"$ROOT/build/installer/installer" inventory --sysroot "$OUT/$name" >"$OUT/$name.json"
	echo "capture: $OUT/$name ($(find "$OUT/$name" -type f | wc -l) files), $OUT/$name.json"
done
