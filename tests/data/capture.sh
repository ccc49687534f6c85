#!/bin/bash
# Record the /sys and /proc of varied QEMU machines into tests/data/sysroot/,
# for `installer inventory --sysroot` tests. Each machine PXE-boots the real
# boot image with inst.capture: /init runs sysroot-dump (tests/data/
# sysroot-dump.sh) and prints the tree as base64 on the serial console; this
# script unpacks it to tests/data/sysroot/NAME/ and writes the inventory the
# installer makes of it to tests/data/sysroot/NAME.json (the expected output,
# to be reviewed before committing).
#
# One machine, debian12-udev, instead boots the installed demo system
# (build/demo/disk.img from `make demo`, through a copy-on-write overlay)
# with many kinds of disks, runs sysroot-dump there over SSH, and also
# records the names udev made for the disks in /dev/disk/by-id and by-path
# (tests/data/sysroot/debian12-udev.udev): the reference for the names the
# installer computes without udev. Its root disk is mounted: the "boot
# medium" of that recording.
#
#   tests/data/capture.sh [NAME...]     default: every machine below
#
# Needs `make all` (kernel, initramfs; rebuild the initramfs after changing
# sysroot-dump.sh). Runs QEMU (TCG), ~30 s per machine, ~3 min for
# debian12-udev.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/tests/data/sysroot
WORK=$ROOT/build/capture
ALL=(nvme-sata-usb two-identical four-nics-uefi mixed-ssd-hdd debian12-udev)
mkdir -p "$WORK/profiles"

"$ROOT/ipxe/mkwww.sh" --boot-url http://10.0.2.100/ --kernel "$ROOT/build/kernel/vmlinuz" \
	--initrd "$ROOT/build/boot/initrd.img" --profiles "$WORK/profiles" --out "$WORK/www" \
	--no-image --append "inst.capture inst.finish=poweroff" >/dev/null

# The QEMU options of each machine, into ARGS (pxeboot.sh options; --qemu-arg
# for what --disk cannot say: rotation rate, WWN, model, the controller port).
ARGS=()
qemu() { for a in "$@"; do ARGS+=(--qemu-arg "$a"); done; }
# An extra NIC on its own restricted user-mode network: N MODEL MAC.
nic() { qemu -netdev "user,id=x$1,restrict=on" -device "$2,netdev=x$1,mac=$3"; }
# A SATA disk on a port of the chipset's AHCI controller (00:1f.2, "ide"):
# ID FILE PORT SERIAL MODEL ROTATION_RATE (1 = SSD, 0 = not reported) WWN
sata() {
	qemu -drive "file=$WORK/$2,if=none,id=$1,format=raw,cache=unsafe"
	qemu -device "ide-hd,drive=$1,bus=ide.$3,serial=$4,model=$5,rotation_rate=$6,wwn=$7"
}

machine() { # NAME
	ARGS=()
	case $1 in
	nvme-sata-usb) # one NVMe, one SATA disk with an old GPT table, a USB stick
		ARGS+=(--disk "$WORK/nvme.raw,if=nvme,serial=NVME0001" --disk "$WORK/sata.raw,if=sata,serial=SATA0001")
		ARGS+=(--disk "$WORK/usb.raw,if=usb,serial=USB0001" --uuid 3f2c6a52-9b1e-4d6c-8a0f-5e4d3c2b1a09)
		ARGS+=(--sys-serial SRV-0001) ;;
	two-identical) # two identical virtio disks, distinguished only by serial
		ARGS+=(--disk "$WORK/a.raw,serial=TWIN-A" --disk "$WORK/b.raw,serial=TWIN-B" --sys-serial SRV-0002) ;;
	four-nics-uefi) # UEFI firmware, four NICs (virtio + e1000 + e1000e + e1000)
		ARGS+=(--firmware uefi --disk "$WORK/c.raw,serial=UEFI0001" --mac 52:54:00:00:00:01)
		nic 1 e1000 52:54:00:00:00:02
		nic 2 e1000e 52:54:00:00:00:03
		nic 3 e1000 52:54:00:00:00:04 ;;
	mixed-ssd-hdd) # a spinning SATA disk, two SATA SSDs (long models), an NVMe
		ARGS+=(--disk "$WORK/mix-nvme.raw,if=nvme,serial=NVME-MIX-01" --sys-serial SRV-0003)
		sata h0 mix-hdd.raw 0 WD-WCAS00000064 "WDC WD640AAKS-00A7B0" 0 0x50014ee000000064
		sata h1 mix-ssd16.raw 2 S5Y1NJ0R100016 "Samsung SSD 870 EVO 16GB" 1 0x5002538e00000016
		sata h2 mix-ssd32.raw 4 S5Y1NJ0R100032 "Samsung SSD 870 EVO 32GB" 1 0x5002538e00000032 ;;
	debian12-udev) # the installed demo system and one disk of every kind
		ARGS+=(--boot-disk --disk "$WORK/udev-root.qcow2" --disk "$WORK/u-virtio.raw,serial=VIRT-0001")
		ARGS+=(--disk "$WORK/u-nvme2.raw,if=nvme,serial=NVME-0002" --disk "$WORK/u-usb.raw,if=usb,serial=USB-0001")
		ARGS+=(--disk "$WORK/u-scsi1.raw,if=scsi,serial=SCSI-0001")
		sata h0 u-hdd.raw 0 HDD-0001 "WDC WD6400AAKS-00A7B0 Long Name" 0 0x5000c5001234abcd
		sata h1 u-ssd1.raw 2 SSD-0001 "QEMU HARDDISK" 1 0
		# A second AHCI controller, probed first: its ports are ata1-6,
		# the chipset's ata7-12, and by-path uses the port on the controller.
		qemu -device ahci,id=ahci1 -drive "file=$WORK/u-ssd2.raw,if=none,id=h2,format=raw,cache=unsafe"
		qemu -device "ide-hd,drive=h2,bus=ahci1.1,serial=SSD-0002,rotation_rate=1,wwn=0x55cd2e4150000001"
		qemu -drive "file=$WORK/u-nvme1.raw,if=none,id=n1,format=raw,cache=unsafe"
		qemu -device nvme,id=nvme1,serial=NVME-0001 -device nvme-ns,drive=n1,bus=nvme1,nsid=1
		# An NVMe subsystem (multi-controller capable): the kernel puts
		# the namespace below virtual/nvme-subsystem/.
		qemu -device nvme-subsys,id=nvmesubsys0,nqn=nqn.2019-08.org.qemu:mp0
		qemu -device nvme,id=nvmemp,serial=NVME-MP-01,subsys=nvmesubsys0
		qemu -drive "file=$WORK/u-nvmemp.raw,if=none,id=nmp,format=raw,cache=unsafe"
		qemu -device nvme-ns,drive=nmp,bus=nvmemp,nsid=1
		qemu -drive "file=$WORK/u-scsi2.raw,if=none,id=s2,format=raw,cache=unsafe"
		qemu -device "scsi-hd,drive=s2,bus=scsi0.0,serial=SCSI-0002,wwn=0x5000c500deadbeef,scsi-id=3" ;;
	*) echo "capture: unknown machine $1" >&2; exit 2 ;;
	esac
}

prepare_disks() {
	rm -f "$WORK"/*.raw "$WORK"/*.qcow2
	truncate -s 16G "$WORK/nvme.raw"; truncate -s 32G "$WORK/sata.raw"; truncate -s 4G "$WORK/usb.raw"
	truncate -s 8G "$WORK/a.raw" "$WORK/b.raw"; truncate -s 10G "$WORK/c.raw"
	truncate -s 64G "$WORK/mix-hdd.raw"; truncate -s 16G "$WORK/mix-ssd16.raw"
	truncate -s 32G "$WORK/mix-ssd32.raw"; truncate -s 8G "$WORK/mix-nvme.raw"
	truncate -s 4G "$WORK/u-virtio.raw"; truncate -s 6G "$WORK/u-nvme2.raw"; truncate -s 8G "$WORK/u-nvme1.raw"
	truncate -s 12G "$WORK/u-nvmemp.raw"
	truncate -s 128G "$WORK/u-usb.raw"; truncate -s 3G "$WORK/u-scsi1.raw"; truncate -s 5G "$WORK/u-scsi2.raw"
	truncate -s 64G "$WORK/u-hdd.raw"; truncate -s 16G "$WORK/u-ssd1.raw"; truncate -s 32G "$WORK/u-ssd2.raw"
	# "a disk with old partitions"
	/sbin/sfdisk -q "$WORK/sata.raw" >/dev/null <<'SFDISK'
label: gpt
size=1GiB, type=linux, name=oldroot
size=2GiB, type=swap, name=oldswap
SFDISK
}

# PXE boot with inst.capture: the tree comes on the serial console.
capture_pxe() { # NAME
	local log=$WORK/$1.serial.log
	"$ROOT/qemu/pxeboot.sh" --www "$WORK/www" --serial-log "$log" --timeout 300 "${ARGS[@]}"
	tr -d '\r' <"$log" | sed -n '/^----- BEGIN SYSROOT -----$/,/^----- END SYSROOT -----$/p' |
		sed '1d;$d' | base64 -d >"$WORK/$1.tar.gz"
}

# Boot the installed demo system and record it over SSH, with udev's names.
capture_ssh() { # NAME
	local demo=$ROOT/build/demo/disk.img key=$WORK/key port pid deadline
	[ -f "$demo" ] || { echo "capture: $1 needs $demo (make demo)" >&2; exit 1; }
	qemu-img create -q -f qcow2 -b "$demo" -F raw "$WORK/udev-root.qcow2"
	install -m 0600 "$ROOT/tests/data/keys/demo_ed25519" "$key"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$ROOT/qemu/pxeboot.sh" --ssh-port "$port" --serial-log "$WORK/$1.serial.log" --timeout 900 \
		"${ARGS[@]}" >"$WORK/$1.qemu.log" 2>&1 &
	pid=$!
	ssh_() {
		ssh -i "$key" -p "$port" -o BatchMode=yes -o ConnectTimeout=10 -o StrictHostKeyChecking=no \
			-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR admin@127.0.0.1 "$@"
	}
	deadline=$(($(date +%s) + 600))
	until ssh_ true 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ] ||
			{ echo "capture: no SSH into $1 (see $WORK/$1.serial.log)" >&2; kill "$pid" 2>/dev/null; exit 1; }
		sleep 5
	done
	# udev settles the links at boot; wait for it, then record.
	ssh_ 'sudo udevadm settle; cat >/tmp/sysroot-dump && sudo rm -rf /tmp/sr &&
		sudo sh /tmp/sysroot-dump /tmp/sr && sudo tar -C /tmp/sr -czf - .' \
		<"$ROOT/tests/data/sysroot-dump.sh" >"$WORK/$1.tar.gz"
	ssh_ 'for l in /dev/disk/by-id/* /dev/disk/by-path/*; do
		case $l in *-part[0-9]*) continue ;; esac
		echo "$(basename "$(dirname "$l")") $(basename "$l") $(basename "$(readlink "$l")")"
	done' >"$OUT/$1.udev"
	ssh_ 'sudo poweroff' || true
	wait "$pid" || true
}

NAMES=("$@")
[ ${#NAMES[@]} -gt 0 ] || NAMES=("${ALL[@]}")
for name in "${NAMES[@]}"; do
	prepare_disks
	echo "capture: $name"
	machine "$name"
	case $name in
	debian12-udev) capture_ssh "$name" ;;
	*) capture_pxe "$name" ;;
	esac
	rm -rf "${OUT:?}/$name"
	mkdir -p "$OUT/$name"
	tar -C "$OUT/$name" -xzf "$WORK/$name.tar.gz"
	"$ROOT/build/installer/installer" inventory --sysroot "$OUT/$name" >"$OUT/$name.json"
	echo "capture: $OUT/$name ($(find "$OUT/$name" -type f | wc -l) files), $OUT/$name.json"
done
rm -f "$WORK"/*.raw "$WORK"/*.qcow2
