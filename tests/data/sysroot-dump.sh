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

mkdir -p "$OUT/proc"
copy_attr "$SRC/proc/cpuinfo" "$OUT/proc/cpuinfo"
grep -E '^(MemTotal|MemFree|MemAvailable):' "$SRC/proc/meminfo" > "$OUT/proc/meminfo" || true

# Git keeps no empty directories: directories that matter by their existence
# get a .keep file.
keepdir() { mkdir -p "$1" && : >"$1/.keep"; }
if [ -d "$SRC/sys/firmware/efi" ]; then keepdir "$OUT/sys/firmware/efi"; fi

for f in sys_vendor product_name product_version product_serial product_uuid \
	 board_vendor board_name bios_vendor bios_version chassis_type; do
	copy_attr "$SRC/sys/class/dmi/id/$f" "$OUT/sys/class/dmi/id/$f"
done

# Block devices: /sys/block/X -> ../devices/.../block/X
mkdir -p "$OUT/sys/block"
for link in "$SRC"/sys/block/*; do
	[ -e "$link" ] || continue
	name=$(basename "$link")
	case $name in loop*|ram*|zram*|dm-*|md*|sr*|fd*|nbd*) continue;; esac
	real=$(readlink -f "$link")
	rel=${real#"$SRC"/sys/}                 # devices/pci.../block/vda
	dst="$OUT/sys/$rel"
	mkdir -p "$dst/queue" "$dst/device"
	for a in size removable ro serial wwid; do copy_attr "$real/$a" "$dst/$a"; done
	for a in logical_block_size physical_block_size rotational; do
		copy_attr "$real/queue/$a" "$dst/queue/$a"
	done
	for a in model vendor serial wwid vpd_pg80; do copy_attr "$real/device/$a" "$dst/device/$a"; done
	for part in "$real"/"$name"*; do
		[ -f "$part/partition" ] || continue
		p=$(basename "$part")
		for a in partition start size; do copy_attr "$part/$a" "$dst/$p/$a"; done
	done
	ln -sfn "../$rel" "$OUT/sys/block/$name"
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
