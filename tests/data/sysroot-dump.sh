#!/bin/sh
# Record the parts of /sys and /proc that `installer inventory` reads, as a
# tree that `installer inventory --sysroot DIR` can read back. Run it on the
# machine to record (the boot image has it as /usr/bin/sysroot-dump), or on
# any Linux host:
#
#   tests/data/sysroot-dump.sh OUTDIR
#
# Symlinks that the installer resolves (/sys/block/X, /sys/class/net/X and
# the driver link) are kept as relative links inside OUTDIR; everything else
# is copied as plain files. Nothing outside OUTDIR is written.
set -eu

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
case "${1:-}" in -h|--help|"") usage; exit 2;; esac
OUT=$1
SRC=${SYSROOT_DUMP_SOURCE:-}   # for testing the dumper itself

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

copy_attr() { # copy_attr SRCFILE DESTFILE
	[ -f "$1" ] && [ -r "$1" ] || return 0
	mkdir -p "$(dirname "$2")"
	# sysfs files report size 4096; read them with cat (some refuse reads).
	cat "$1" > "$2" 2>/dev/null || rm -f "$2"
}

mkdir -p "$OUT/proc/self"
copy_attr "$SRC/proc/cpuinfo" "$OUT/proc/cpuinfo"
# What is mounted: a disk with a mounted partition is the installer's own
# boot medium.
copy_attr "$SRC/proc/self/mountinfo" "$OUT/proc/self/mountinfo"
grep -E '^(MemTotal|MemFree|MemAvailable):' "$SRC/proc/meminfo" > "$OUT/proc/meminfo" || true

# Git keeps no empty directories: directories that matter by their existence
# get a .keep file.
keepdir() { mkdir -p "$1" && : >"$1/.keep"; }
if [ -d "$SRC/sys/firmware/efi" ]; then keepdir "$OUT/sys/firmware/efi"; fi

for f in sys_vendor product_name product_version product_serial product_uuid \
	 board_vendor board_name bios_vendor bios_version chassis_type; do
	copy_attr "$SRC/sys/class/dmi/id/$f" "$OUT/sys/class/dmi/id/$f"
done

# holders DIR DEST: the names of the devices stacked on DIR (device-mapper,
# md), as empty directories (the installer reads only the names).
holders() {
	for h_h in "$1"/holders/*; do
		[ -e "$h_h" ] || continue
		keepdir "$2/holders/$(basename "$h_h")"
	done
}

# ancestors REAL: what udev's path_id and usb_id read from the devices above
# a disk: each device's subsystem (the link, kept as it is: only its name
# matters) and uevent (DEVTYPE), libata port numbers, USB device descriptors,
# and the SCSI hosts next to the disk's host (path_id numbers hosts from the
# lowest sibling).
ancestors() {
	a_p=$SRC/sys
	for a_c in $(echo "${1#"$SRC"/sys/}" | tr '/' ' '); do
		a_p=$a_p/$a_c
		a_d=$OUT/sys/${a_p#"$SRC"/sys/}
		if [ -L "$a_p/subsystem" ]; then
			mkdir -p "$a_d"
			ln -sfn "$(readlink "$a_p/subsystem")" "$a_d/subsystem"
			copy_attr "$a_p/uevent" "$a_d/uevent"
		fi
		case $a_c in
		ata[0-9]*)
			copy_attr "$a_p/ata_port/$a_c/port_no" "$a_d/ata_port/$a_c/port_no" ;;
		host[0-9]*)
			for a_s in "${a_p%/*}"/host[0-9]*; do
				[ -d "$a_s" ] && keepdir "$OUT/sys/${a_s#"$SRC"/sys/}"
			done ;;
		[0-9]*-[0-9]*)
			for a in serial idVendor idProduct manufacturer product; do copy_attr "$a_p/$a" "$a_d/$a"; done ;;
		esac
	done
}

# Block devices: /sys/block/X -> ../devices/.../block/X
mkdir -p "$OUT/sys/block"
for link in "$SRC"/sys/block/*; do
	[ -e "$link" ] || continue
	name=$(basename "$link")
	real=$(readlink -f "$link")
	rel=${real#"$SRC"/sys/}                 # devices/pci.../block/vda
	dst="$OUT/sys/$rel"
	case $name in
	loop*|ram*|zram*|sr*|fd*|nbd*) continue ;;
	dm-*|md*)
		# Not disks, but they may hold a mounted filesystem on a disk.
		copy_attr "$real/dev" "$dst/dev"
		holders "$real" "$dst"
		ln -sfn "../$rel" "$OUT/sys/block/$name"
		continue ;;
	esac
	mkdir -p "$dst/queue" "$dst/device"
	for a in dev size removable ro hidden serial wwid nsid eui nguid uuid; do copy_attr "$real/$a" "$dst/$a"; done
	for a in logical_block_size physical_block_size rotational; do
		copy_attr "$real/queue/$a" "$dst/queue/$a"
	done
	# vpd_pg83: device identifiers (WWN); vpd_pg89: ATA IDENTIFY data (the
	# full model name, the WWN), as udev's ata_id reads them.
	for a in model vendor serial name wwid vpd_pg80 vpd_pg83 vpd_pg89; do copy_attr "$real/device/$a" "$dst/device/$a"; done
	holders "$real" "$dst"
	for part in "$real"/"$name"*; do
		[ -f "$part/partition" ] || continue
		p=$(basename "$part")
		for a in partition start size dev; do copy_attr "$part/$a" "$dst/$p/$a"; done
		holders "$part" "$dst/$p"
	done
	ancestors "$real"
	ln -sfn "../$rel" "$OUT/sys/block/$name"
	# A multipath NVMe namespace (below virtual/nvme-subsystem/) is named
	# after the controller its name carries: /sys/class/nvme/nvmeN.
	case $real in */nvme-subsystem/*)
		ctrl=nvme$(echo "$name" | sed 's/^nvme\([0-9]*\).*/\1/')
		if [ -e "$SRC/sys/class/nvme/$ctrl" ]; then
			creal=$(readlink -f "$SRC/sys/class/nvme/$ctrl")
			mkdir -p "$OUT/sys/class/nvme" "$OUT/sys/${creal#"$SRC"/sys/}"
			ln -sfn "../../${creal#"$SRC"/sys/}" "$OUT/sys/class/nvme/$ctrl"
			ancestors "$creal"
		fi ;;
	esac
done

# NICs with a device: /sys/class/net/X -> ../../devices/.../net/X
mkdir -p "$OUT/sys/class/net"
for link in "$SRC"/sys/class/net/*; do
	[ -e "$link/device" ] || continue
	name=$(basename "$link")
	real=$(readlink -f "$link")
	rel=${real#"$SRC"/sys/}
	dst="$OUT/sys/$rel"
	mkdir -p "$dst/device"
	for a in address operstate carrier speed mtu; do copy_attr "$real/$a" "$dst/$a"; done
	if [ -e "$real/device/driver" ]; then
		drv=$(basename "$(readlink -f "$real/device/driver")")
		keepdir "$OUT/sys/bus/drivers/$drv"
		# relative link from $dst/device to sys/bus/drivers/$drv
		up=$(echo "$rel/device" | sed 's|[^/]*|..|g')
		ln -sfn "$up/bus/drivers/$drv" "$dst/device/driver"
	fi
	ln -sfn "../../$rel" "$OUT/sys/class/net/$name"
done

echo "sysroot-dump: recorded $(ls "$OUT/sys/block" | wc -l) disk(s), $(ls "$OUT/sys/class/net" | wc -l) NIC(s) in $OUT" >&2
