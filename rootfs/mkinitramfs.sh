#!/bin/bash
# mkinitramfs.sh — build the installer's initramfs (a compressed cpio archive).
#
# Usage:
#   rootfs/mkinitramfs.sh --kernel-dir DIR --installer BIN --out FILE
#                         [--compress auto|zstd|xz|gzip] [--module-compression none|xz]
#                         [--keep-staging DIR] [--keys FILE]
#
#   --kernel-dir DIR   output of rootfs/fetch-kernel.sh (VERSION, modroot/)
#   --installer BIN    installed as /usr/bin/installer (ELF or script)
#   --out FILE         the initramfs to write
#   --compress C       archive compression; auto (default) builds zstd and xz
#                      and keeps the smaller one (the Debian kernel has both).
#                      Default: $INITRAMFS_COMPRESS if set, else auto.
#   --module-compression none|xz
#                      none (default): modules stay plain .ko inside the
#                      compressed archive. Measured: that archive is ~4% smaller
#                      than one of .ko.xz files, loads faster, and avoids the
#                      kernel's "Invalid ELF header magic" message busybox
#                      causes by trying finit_module() on a .ko.xz first. Costs
#                      ~10 MB more RAM while the installer runs.
#   --keep-staging DIR also copy the staging root to DIR (for inspection)
#   --site-ca FILE     the site CA (PEM, one or more CA certificates) as
#                      /etc/installer/site-ca.pem: every https request of the
#                      installer is verified against it only (docs/tls.md).
#                      An empty FILE means none (make SITE_CA=... passes it)
#   --keys FILE        the site's trusted signing keys (make SITE_KEYS=FILE),
#                      checked with the installer and installed as
#                      /etc/installer/trusted.keys: every profile, fragment,
#                      file and LUKS key file must then be signed
#                      (docs/trust.md). Without it the image has no keys.
#
# Content: busybox-static as userland, /init (rootfs/init), the udhcpc script,
# the kernel modules of rootfs/modules.list plus their dependencies (with
# depmod data made for them), the installer, the real tools the
# install needs (mke2fs, mkfs.fat, sfdisk, extlinux, zstd, ...) with every
# shared library they load (ldd, recursively), syslinux's MBRs and some BIOS .c32
# modules, the CA bundle, and a minimal /etc. ICU's 30 MB data library, if the
# installer pulls it in, is replaced by an empty stub (see icu_stub below).
#
# Layout is Debian's merged /usr: files live under usr/, and bin, sbin, lib,
# lib64 are relative links to usr/*. Real tools win over busybox applets of
# the same name: an applet link is made only where no real file exists.
#
# Safety (see shared FACTS.md, "Tools inside the initramfs"): every file is
# copied into plain directories while the staging root holds NO symlink at all;
# every link is made at the very end and is relative. Before each copy the
# destination is checked to resolve inside the staging root.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)

# Real tools copied by their host path (links among them are reproduced):
# what the installer runs (mke2fs, mkfs.fat, mkswap, extlinux; mdadm, lvm
# (its command links are only for the shell: the installer runs `lvm CMD`),
# dmsetup and cryptsetup for RAID1, LVM and LUKS2; efibootmgr for the UEFI
# NVRAM entry) and, for an
# operator in the shell after a failure, blkid and wipefs. The installer
# itself partitions with libparted and decompresses with libarchive, so
# sfdisk (+ libfdisk, libreadline), e2fsck and zstd stay out: the boot image
# is kept under 20 MB.
TOOLS="
/sbin/mke2fs /sbin/mkfs.ext4 /sbin/mkfs.ext3 /sbin/mkfs.ext2
/sbin/mkfs.fat /sbin/mkfs.vfat /sbin/mkdosfs /sbin/fatlabel
/sbin/mkswap /sbin/blkid /sbin/wipefs
/usr/bin/extlinux
/sbin/mdadm
/sbin/lvm /sbin/pvcreate /sbin/vgcreate /sbin/lvcreate /sbin/pvs /sbin/vgs /sbin/lvs
/sbin/vgchange /sbin/lvchange /sbin/pvremove /sbin/vgremove /sbin/lvremove
/sbin/dmsetup
/sbin/cryptsetup
/usr/bin/efibootmgr
"
# Data files copied as they are (globs allowed). extlinux --install writes
# ldlinux.sys/ldlinux.c32 from its own copy; the .c32 modules here are what an
# extlinux.conf may load: a menu (menu.c32 + libutil, libcom32), chain.c32.
# systemd-bootx64.efi (systemd-boot-efi) goes onto UEFI installs' ESP.
# libgcc_s.so.1 is dlopen()ed by glibc when a thread exits (pthread_exit's
# unwinding): cryptsetup luksFormat (argon2 threads) aborts without it, and
# ldd does not list it.
SYSLINUX_BIOS=/usr/lib/syslinux/modules/bios
DATA="
/usr/lib/syslinux/mbr/mbr.bin
/usr/lib/syslinux/mbr/gptmbr.bin
$SYSLINUX_BIOS/ldlinux.c32 $SYSLINUX_BIOS/libcom32.c32 $SYSLINUX_BIOS/libutil.c32
$SYSLINUX_BIOS/menu.c32 $SYSLINUX_BIOS/chain.c32
/etc/ssl/certs/ca-certificates.crt
/usr/lib/systemd/boot/efi/systemd-bootx64.efi
/usr/lib/x86_64-linux-gnu/libgcc_s.so.1
"
BUSYBOX=/bin/busybox

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit "${1:-0}"
}

KDIR="" INSTALLER="" OUT="" COMPRESS=${INITRAMFS_COMPRESS:-auto} MODCOMP=none KEEP="" SITE_CA="" KEYS=""
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel-dir) KDIR=$2; shift 2 ;;
	--installer) INSTALLER=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--compress) COMPRESS=$2; shift 2 ;;
	--module-compression) MODCOMP=$2; shift 2 ;;
	--keep-staging) KEEP=$2; shift 2 ;;
	--site-ca) SITE_CA=$2; shift 2 ;;
	--keys) KEYS=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "mkinitramfs: unknown argument: $1" >&2; usage 1 >&2 ;;
	esac
done
[ -n "$KDIR" ] && [ -n "$INSTALLER" ] && [ -n "$OUT" ] || usage 1 >&2

log() { echo "mkinitramfs: $*"; }
warn() { echo "mkinitramfs: WARNING: $*" >&2; }
die() { echo "mkinitramfs: error: $*" >&2; exit 1; }

[ -f "$KDIR/VERSION" ] || die "$KDIR/VERSION missing (run rootfs/fetch-kernel.sh)"
KDIR=$(realpath "$KDIR") # modprobe prints absolute paths
KERNEL_RELEASE=$(sed -n 's/^KERNEL_RELEASE=//p' "$KDIR/VERSION")
MODSRC=$KDIR/modroot/lib/modules/$KERNEL_RELEASE
[ -d "$MODSRC" ] || die "no module tree $MODSRC"
[ -f "$INSTALLER" ] || die "installer $INSTALLER not found"
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (apt-get install busybox-static)"
# A real static busybox, not a link some earlier build left behind.
[ ! -L "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 ||
	die "$BUSYBOX is not the static busybox (reinstall busybox-static)"

# Warn when the installed busybox-static is not the pinned one.
BUSYBOX_STATIC_VERSION=""
eval "$(grep '^BUSYBOX_STATIC_VERSION=' "$HERE/versions.lock" || true)"
bbver=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || echo unknown)
[ "$bbver" = "$BUSYBOX_STATIC_VERSION" ] ||
	warn "busybox-static is $bbver, versions.lock pins $BUSYBOX_STATIC_VERSION"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mkinitramfs.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir "$TMP/root"
ROOT=$(realpath "$TMP/root")
LINKS=$TMP/links # "LINKPATH TARGET" lines (absolute guest paths), made at the end
: >"$LINKS"

# --- helpers ---------------------------------------------------------------

# Guest path P -> where it lands under the merged-/usr layout.
usrpath() {
	case "$1" in
	/bin/* | /sbin/* | /lib/* | /lib64/*) echo "/usr$1" ;;
	*) echo "$1" ;;
	esac
}

# copy_in SRC GUESTPATH: copy a regular file; refuse any destination that
# does not resolve to itself inside the staging root (no writing through links).
copy_in() {
	local src=$1 dst=$ROOT$2
	mkdir -p "$(dirname "$dst")"
	[ "$(realpath -m "$dst")" = "$dst" ] || die "refusing to write through a link: $dst"
	cp --remove-destination -L --preserve=mode,timestamps "$src" "$dst"
}

# add_file HOSTPATH: copy a host file to the same (canonical) path in the
# guest. A symlink on the host becomes a relative link in the guest (made at
# the end) and its target is copied too.
add_file() {
	local p=$1 dir canon target
	[ -e "$p" ] || die "missing on the build host: $p"
	dir=$(realpath "$(dirname "$p")")
	canon=$dir/$(basename "$p")
	if [ -L "$canon" ]; then
		target=$(realpath "$canon")
		add_file "$target"
		echo "$canon $target" >>"$LINKS"
	elif [ ! -e "$ROOT$canon" ]; then
		copy_in "$canon" "$canon"
	fi
}

# add_libs FILE: the shared libraries FILE needs (ldd is recursive already),
# with the dynamic loader. Non-ELF files and static binaries are skipped.
add_libs() {
	local out lib
	out=$(ldd "$1" 2>&1) || return 0
	if grep -q 'not found' <<<"$out"; then
		echo "$out" >&2
		die "unresolved libraries for $1"
	fi
	for lib in $(echo "$out" | sed -n 's/.*=> \(\/[^ ]*\) (.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
		add_file "$lib"
		# The loader is referenced as /lib64/...; keep that path working.
		case "$lib" in /lib64/* | /usr/lib64/*) echo "$(usrpath "$lib") $(realpath "$lib")" >>"$LINKS" ;; esac
	done
}

# --- 1. skeleton, busybox, /init ---------------------------------------------
log "staging in $ROOT (kernel $KERNEL_RELEASE)"
for d in usr/bin usr/sbin usr/lib usr/lib64 usr/share/udhcpc etc root dev proc sys run tmp mnt var/log; do
	mkdir -p "$ROOT/$d"
done
chmod 1777 "$ROOT/tmp"
chmod 700 "$ROOT/root"
copy_in "$BUSYBOX" /usr/bin/busybox
copy_in "$HERE/init" /init
chmod 755 "$ROOT/init"
copy_in "$HERE/udhcpc.script" /usr/share/udhcpc/default.script
# Records /sys and /proc for tests/data (inst.capture, see /init).
copy_in "$HERE/../tests/data/sysroot-dump.sh" /usr/bin/sysroot-dump
chmod 755 "$ROOT/usr/bin/sysroot-dump"
chmod 755 "$ROOT/usr/share/udhcpc/default.script"

# --- 2. installer and real tools with their libraries ------------------------
copy_in "$INSTALLER" /usr/bin/installer
chmod 755 "$ROOT/usr/bin/installer"
add_libs "$INSTALLER"
for t in $TOOLS; do
	add_file "$t"
	add_libs "$t"
done
for pattern in $DATA; do
	for f in $pattern; do
		if [ -e "$f" ]; then add_file "$f"; else warn "not on this host, skipped: $f"; fi
	done
done

# ICU's data library (~30 MB, pulled in by libarchive -> libxml2 -> libicuuc)
# is replaced by a stub, as ICU's own "stubdata" library does: an empty data
# table. ICU then reports "data not found" if ever asked for a converter;
# libxml2 needs one only for exotic XML encodings, libarchive uses libxml2 only
# for the xar format. Everything else links and runs unchanged.
icu_stub() { # GUESTPATH of libicudata.so.NN.x
	local lib=$1 major
	major=$(basename "$lib" | sed -n 's/^libicudata\.so\.\([0-9][0-9]*\).*/\1/p')
	[ -n "$major" ] || return 0
	command -v cc >/dev/null || { warn "no cc: keeping the full $lib"; return 0; }
	cat >"$TMP/icustub.c" <<-EOF
		/* Empty ICU data table (the layout of ICU's stubdata.cpp). */
		#include <stdint.h>
		struct icu_data_header {
			uint16_t header_size; uint8_t magic1, magic2;
			uint16_t size, reserved_word;
			uint8_t is_big_endian, charset_family, sizeof_uchar, reserved_byte;
			uint8_t data_format[4], format_version[4], data_version[4];
			char padding[8];
			uint32_t count, reserved;
			int fake_name_and_data[4];
		};
		__attribute__((visibility("default")))
		const struct icu_data_header icudt${major}_dat = {
			32, 0xda, 0x27, 20, 0, 0, 0, 2, 0,
			{ 0x54, 0x6f, 0x43, 0x50 }, { 1, 0, 0, 0 }, { 0, 0, 0, 0 },
			{ 0 }, 0, 0, { 0 }
		};
	EOF
	cc -shared -fPIC -O2 -s -Wl,-soname,"libicudata.so.$major" -o "$TMP/icustub.so" "$TMP/icustub.c"
	log "replacing $lib ($(stat -c %s "$ROOT$lib") bytes) by a stub ($(stat -c %s "$TMP/icustub.so") bytes)"
	copy_in "$TMP/icustub.so" "$lib"
}
for lib in "$ROOT"/usr/lib/x86_64-linux-gnu/libicudata.so.*; do
	if [ -f "$lib" ] && [ ! -L "$lib" ]; then icu_stub "${lib#"$ROOT"}"; fi
done

# Libraries the installer can never reach at run time are replaced by stubs,
# and what only they needed is dropped (about 11 MB raw, 2 MB compressed):
#   librtmp (+ GnuTLS, nettle, GMP, p11-kit): libcurl needs it for rtmp://
#     only; the installer allows http, https and file (CURLOPT_PROTOCOLS_STR).
#   libldap, liblber (+ SASL, GnuTLS again): libcurl needs them for ldap://
#     only.
#   libxml2 (+ ICU, libstdc++): libarchive needs it for the xar format only;
#     the installer enables the tar format alone.
#   libsystemd (+ libgcrypt, libgpg-error): lvm needs it for the journal
#     (log/journal, unset), lvmdbusd notification (global/notify_dbus = 0 in
#     the initramfs lvm.conf) and appmachineid system IDs (unused).
# A stub exports the functions the consumer imports, with their symbol
# versions, each returning 0 (NULL): never called on the installer's paths.
# Entries: SONAME:CONSUMER, the consumer a soname in $LIBDIR or a host path.
UNREACHABLE="librtmp.so.1:libcurl.so.4 libldap-2.5.so.0:libcurl.so.4 liblber-2.5.so.0:libcurl.so.4 libxml2.so.2:libarchive.so.13"
UNREACHABLE="$UNREACHABLE libsystemd.so.0:/sbin/lvm"
LIBDIR=/usr/lib/x86_64-linux-gnu
unreachable_stub() { # SONAME CONSUMER-SONAME
	local soname=$1 consumer=$2 real syms
	case "$consumer" in /*) ;; *) consumer=$LIBDIR/$consumer ;; esac
	real=$(realpath "$LIBDIR/$soname")
	[ -e "$ROOT$real" ] || return 0
	command -v cc >/dev/null || { warn "no cc: keeping the full $soname"; return 0; }
	# "VERSION SYMBOL" for every function the consumer imports from it.
	syms=$(nm -D --defined-only "$real" | awk '{print $3}' | sed 's/@.*//' | sort -u)
	objdump -T "$consumer" | awk '$3 == "*UND*" {v=$5; gsub(/[()]/, "", v); print v, $6}' |
		while read -r ver sym; do
			# A here-string, not `echo | grep -q`: grep -q exits at the first
			# match, echo may then die of SIGPIPE and pipefail drops the symbol.
			if grep -qx -- "$sym" <<<"$syms"; then echo "$ver $sym"; fi
		done | sort -u >"$TMP/stub.syms"
	{
		echo "/* Stub of $soname for the installer's initramfs (see mkinitramfs.sh). */"
		awk '{print "void *" $2 "(void) { return 0; }"}' "$TMP/stub.syms"
	} >"$TMP/stub.c"
	awk '$1 != "Base" {v[$1] = v[$1] " " $2 ";"} END {for (k in v) print k " { global:" v[k] " };"}' \
		"$TMP/stub.syms" >"$TMP/stub.map"
	# Unversioned imports ("Base") need no version script.
	verscript=()
	if [ -s "$TMP/stub.map" ]; then verscript=(-Wl,--version-script="$TMP/stub.map"); fi
	cc -shared -fPIC -O2 -s -fno-builtin -Wl,-soname,"$soname" "${verscript[@]}" \
		-o "$TMP/stub.so" "$TMP/stub.c"
	log "replacing $soname ($(stat -c %s "$ROOT$real") bytes) by a stub of $(wc -l <"$TMP/stub.syms") functions ($(stat -c %s "$TMP/stub.so") bytes)"
	rm -f "$ROOT$real"
	copy_in "$TMP/stub.so" "$real"
}
for pair in $UNREACHABLE; do unreachable_stub "${pair%%:*}" "${pair#*:}"; done

# Drop libraries that nothing in the image needs any more: walk DT_NEEDED
# from every executable, resolving sonames as the loader would here.
needed_closure() {
	local todo f so path seen=" "
	todo=$(find "$ROOT/usr/bin" "$ROOT/usr/sbin" -type f)
	while [ -n "$todo" ]; do
		set -- $todo
		f=$1; shift; todo="$*"
		for so in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			path=""
			for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib /lib; do
				[ -e "$d/$so" ] && { path=$(realpath "$d/$so"); break; }
			done
			[ -n "$path" ] || continue
			case "$seen" in *" $path "*) continue ;; esac
			seen="$seen$path "
			echo "$path"
			[ -e "$ROOT$path" ] && todo="$todo $ROOT$path"
		done
	done
}
needed_closure | sort -u >"$TMP/needed"
dropped=0
for lib in $(find "$ROOT/usr/lib/x86_64-linux-gnu" -maxdepth 1 -type f -name '*.so*'); do
	guest=${lib#"$ROOT"}
	if ! grep -qx "$guest" "$TMP/needed" && ! grep -qx "$(realpath "/lib/x86_64-linux-gnu/${guest##*/}" 2>/dev/null)" "$TMP/needed"; then
		# libgcc_s is dlopen()ed (see DATA above), never NEEDED.
		case "$guest" in */ld-linux* | */libgcc_s.so*) continue ;; esac
		rm -f "$lib"
		dropped=$((dropped + 1))
	fi
done
# Links to dropped libraries go too.
awk '{print}' "$LINKS" | while read -r link target; do
	[ -e "$ROOT$target" ] && echo "$link $target"
done >"$TMP/links.kept"
mv "$TMP/links.kept" "$LINKS"
log "dropped $dropped libraries only the stubbed ones needed"

# --- 3. kernel modules: list + dependencies, depmod ---------------------------------
MODS=$TMP/mods # a separate plain tree: depmod -b needs /lib/modules/REL
MODDST=$MODS/lib/modules/$KERNEL_RELEASE
mkdir -p "$MODDST"
nmods=0 missing=""
for m in $(sed 's/#.*//' "$HERE/modules.list"); do
	if ! deps=$(modprobe -d "$KDIR/modroot" -S "$KERNEL_RELEASE" --show-depends --ignore-install "$m" 2>/dev/null); then
		missing="$missing $m"
		continue
	fi
	for ko in $(echo "$deps" | sed -n 's/^insmod \([^ ]*\).*/\1/p'); do
		rel=${ko#"$MODSRC"/}
		case "$rel" in /*) die "module $ko is outside $MODSRC" ;; esac
		[ -e "$MODDST/$rel" ] || [ -e "$MODDST/$rel.xz" ] && continue
		mkdir -p "$MODDST/$(dirname "$rel")"
		case "$MODCOMP" in
		xz) xz --check=crc32 -9 -c "$ko" >"$MODDST/$rel.xz" ;;
		none) cp "$ko" "$MODDST/$rel" ;;
		*) die "--module-compression none|xz" ;;
		esac
		nmods=$((nmods + 1))
	done
done
[ -z "$missing" ] || warn "modules not in kernel $KERNEL_RELEASE, skipped:$missing"
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -f "$MODSRC/$f" ] && cp "$MODSRC/$f" "$MODDST/"
done
depmod -b "$MODS" "$KERNEL_RELEASE"
mkdir -p "$ROOT/usr/lib/modules"
cp -r "$MODDST" "$ROOT/usr/lib/modules/"
log "$nmods kernel modules ($(du -sh "$MODDST" | cut -f1), compression: $MODCOMP)"

# --- 4. minimal /etc ------------------------------------------------------------
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\n' >"$ROOT/etc/group"
printf 'hosts: files dns\n' >"$ROOT/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$ROOT/etc/hosts"
printf 'installer\n' >"$ROOT/etc/hostname"
{
	cat "$KDIR/VERSION"
	echo "BUSYBOX_STATIC_VERSION=$bbver"
	echo "BUILT=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$ROOT/etc/installer-image"
# The trusted signing keys (docs/trust.md): a keyring the installer cannot
# read would stop every install, so it is checked here.
if [ -n "$KEYS" ]; then
	"$INSTALLER" verify --keys "$KEYS" >"$TMP/keys.log" 2>&1 || {
		cat "$TMP/keys.log" >&2
		die "--keys $KEYS: not a usable keyring"
	}
	mkdir -p "$ROOT/etc/installer"
	install -m 0644 "$KEYS" "$ROOT/etc/installer/trusted.keys"
	log "trusted keys: $(sed 's/^.*: key //' "$TMP/keys.log" | paste -sd, -)"
fi
# LVM without udev (the initramfs has none): libdevmapper makes the /dev
# nodes itself and nothing waits for udev cookies; no lvmetad/polld/dmeventd.
mkdir -p "$ROOT/etc/lvm"
cat >"$ROOT/etc/lvm/lvm.conf" <<'EOF'
# Installer initramfs: no udev, no daemons (rootfs/mkinitramfs.sh).
devices {
	obtain_device_list_from_udev = 0
	external_device_info_source = "none"
}
activation {
	udev_sync = 0
	udev_rules = 0
	monitoring = 0
}
global {
	use_lvmpolld = 0
	notify_dbus = 0
}
backup {
	backup = 0
	archive = 0
}
EOF

# The site CA (docs/tls.md): checked here, checked again by the installer.
if [ -n "$SITE_CA" ] && [ -s "$SITE_CA" ]; then
	if command -v openssl >/dev/null; then
		openssl x509 -in "$SITE_CA" -noout 2>/dev/null || die "--site-ca $SITE_CA: not a PEM certificate"
		log "site CA: $(openssl x509 -in "$SITE_CA" -noout -subject) (sha256 of the DER form" \
			"$(openssl x509 -in "$SITE_CA" -outform DER | sha256sum | cut -d' ' -f1))"
	else
		grep -q -- '-----BEGIN CERTIFICATE-----' "$SITE_CA" || die "--site-ca $SITE_CA: no PEM certificate in it"
		log "site CA: $SITE_CA"
	fi
	mkdir -p "$ROOT/etc/installer"
	copy_in "$SITE_CA" /etc/installer/site-ca.pem
	chmod 644 "$ROOT/etc/installer/site-ca.pem"
else
	log "no site CA: https is verified against the system CA bundle"
fi

# The console for the kernel to hand to /init (devtmpfs is mounted later).
if [ "$(id -u)" = 0 ]; then
	mknod -m 600 "$ROOT/dev/console" c 5 1
	mknod -m 666 "$ROOT/dev/null" c 1 3
else
	warn "not root: no /dev/console node; /init reopens the console after mounting devtmpfs"
fi

# --- 5. links, all relative, all last ---------------------------------------------
# Merged /usr.
ln -s usr/bin "$ROOT/bin"
ln -s usr/sbin "$ROOT/sbin"
ln -s usr/lib "$ROOT/lib"
ln -s usr/lib64 "$ROOT/lib64"
# Links of the copied files (e.g. mkfs.ext4 -> mke2fs, the loader in lib64).
sort -u "$LINKS" | while read -r link target; do
	link=$(usrpath "$link")
	[ -e "$ROOT$link" ] || [ -L "$ROOT$link" ] && continue
	mkdir -p "$ROOT$(dirname "$link")"
	ln -s "$(realpath -s -m --relative-to="$(dirname "$link")" "$target")" "$ROOT$link"
done
# busybox applets, only where no real tool of that name exists in either bin dir.
napplets=0 shadowed=""
for a in $("$BUSYBOX" --list-full); do
	name=${a##*/}
	case "$a" in
	linuxrc | sbin/init | */busybox) continue ;; # /init is ours
	bin/* | usr/bin/*) dir=/usr/bin target=busybox ;;
	sbin/* | usr/sbin/*) dir=/usr/sbin target=../bin/busybox ;;
	*) continue ;;
	esac
	if [ -e "$ROOT/usr/bin/$name" ] || [ -e "$ROOT/usr/sbin/$name" ] ||
		[ -L "$ROOT/usr/bin/$name" ] || [ -L "$ROOT/usr/sbin/$name" ]; then
		shadowed="$shadowed $name"
		continue
	fi
	ln -s "$target" "$ROOT$dir/$name"
	napplets=$((napplets + 1))
done
log "$napplets busybox applets; real tools used instead of applets:$shadowed"

# Final check: no absolute symlink anywhere in the staging root.
bad=$(find "$ROOT" -type l -lname '/*' -print)
[ -z "$bad" ] || die "absolute symlinks in staging: $bad"

# The installer must load in its image: a missing library or a stub missing a
# symbol shows only at boot otherwise ("installer exited with status 127").
if [ "$(id -u)" = 0 ]; then
	chroot "$ROOT" /usr/bin/installer version >/dev/null ||
		die "the installer does not run in the staging root (chroot $ROOT /usr/bin/installer version)"
	chroot "$ROOT" /usr/bin/efibootmgr --version >/dev/null ||
		die "efibootmgr does not run in the staging root"
fi

# --- 6. archive --------------------------------------------------------------------
raw=$TMP/initrd.cpio
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc --owner=0:0 --reproducible) >"$raw"
rawsize=$(stat -c %s "$raw")

compress() { # METHOD -> $TMP/initrd.METHOD
	case "$1" in
	zstd) zstd -q -19 -T0 -c "$raw" >"$TMP/initrd.zstd" ;;
	# x86 BCJ filter: ~2% smaller on this mostly-code archive; the kernel's
	# xz decoder supports it. CRC32: the kernel's decoder has no CRC64/SHA.
	xz) xz -T1 --check=crc32 --x86 --lzma2=preset=9 -c "$raw" >"$TMP/initrd.xz" ;;
	gzip) gzip -9 -n -c "$raw" >"$TMP/initrd.gzip" ;;
	*) die "unknown compression: $1" ;;
	esac
}
case "$COMPRESS" in
auto)
	compress zstd & # both at once: ~30 s and ~50 s for a full installer image
	compress xz &
	wait %1 || die "zstd failed"
	wait %2 || die "xz failed"
	if [ "$(stat -c %s "$TMP/initrd.xz")" -lt "$(stat -c %s "$TMP/initrd.zstd")" ]; then
		method=xz
	else
		method=zstd
	fi
	log "zstd $(stat -c %s "$TMP/initrd.zstd") bytes, xz $(stat -c %s "$TMP/initrd.xz") bytes: using $method"
	;;
*) compress "$COMPRESS"; method=$COMPRESS ;;
esac

mkdir -p "$(dirname "$OUT")"
cp "$TMP/initrd.$method" "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
if [ -n "$KEEP" ]; then
	case "$(realpath -m "$KEEP")" in / | /usr | /etc | /bin | /sbin | /lib | "$HOME") die "refusing --keep-staging $KEEP" ;; esac
	rm -rf "$KEEP"
	mkdir -p "$KEEP"
	cp -a "$ROOT/." "$KEEP/" # a plain copy: every link in it is relative
fi

size=$(stat -c %s "$OUT")
ksize=$(stat -c %s "$KDIR/vmlinuz" 2>/dev/null || echo 0)
log "wrote $OUT: $size bytes ($((size / 1024)) KiB, $method; $((rawsize / 1024)) KiB uncompressed)"
log "kernel + initramfs: $(((size + ksize) / 1024)) KiB"
