#!/bin/bash
# fetch-signed.sh OUTDIR — fetch Debian 12's signed Secure Boot loaders.
#
# Downloads (apt-get download, so each .deb is verified against the signed
# Debian archive, from the mirror in this machine's apt sources) the pinned
# versions of shim-signed and grub-efi-amd64-signed (rootfs/versions.lock:
# SHIM_SIGNED_VERSION, GRUB_EFI_SIGNED_VERSION), unpacks them in a temporary
# directory and produces:
#
#   OUTDIR/shimx64.efi      shim, signed by Microsoft's UEFI CA; it trusts
#                           Debian's key (built in) and verifies GRUB
#   OUTDIR/grubx64.efi      GRUB for disks and CDs, signed by Debian
#                           (prefix /EFI/debian on the device it came from)
#   OUTDIR/grubnetx64.efi   GRUB for network boot, signed by Debian (prefix
#                           /grub on the TFTP server it came from)
#   OUTDIR/VERSION          KEY=VALUE: package versions and sha256 of each file
#
# When a pinned version is no longer downloadable (Debian's point releases
# replace them) the current candidate is used and a warning says so.
# Idempotent: nothing is downloaded when OUTDIR/VERSION names the pins.
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit "${1:-0}"
}

case "${1:-}" in
-h | --help) usage 0 ;;
"" | -*) usage 1 >&2 ;;
esac
[ $# -eq 1 ] || usage 1 >&2
OUTDIR=$1

HERE=$(cd "$(dirname "$0")" && pwd)
LOCK=$HERE/../rootfs/versions.lock
SHIM_SIGNED_VERSION="" GRUB_EFI_SIGNED_VERSION=""
# shellcheck source=../rootfs/versions.lock disable=SC1091
[ -f "$LOCK" ] && . "$LOCK"

log() { echo "fetch-signed: $*"; }
warn() { echo "fetch-signed: WARNING: $*" >&2; }
die() { echo "fetch-signed: error: $*" >&2; exit 1; }

FILES="shimx64.efi grubx64.efi grubnetx64.efi"
is_done() { # SHIM_VER GRUB_VER
	local f
	for f in $FILES VERSION; do [ -s "$OUTDIR/$f" ] || return 1; done
	grep -qx "SHIM_SIGNED_VERSION=$1" "$OUTDIR/VERSION" &&
		grep -qx "GRUB_EFI_SIGNED_VERSION=$2" "$OUTDIR/VERSION"
}

if [ -n "$SHIM_SIGNED_VERSION" ] && [ -n "$GRUB_EFI_SIGNED_VERSION" ] &&
	is_done "$SHIM_SIGNED_VERSION" "$GRUB_EFI_SIGNED_VERSION"; then
	log "$OUTDIR is up to date (shim-signed $SHIM_SIGNED_VERSION, grub-efi-amd64-signed $GRUB_EFI_SIGNED_VERSION)"
	touch "$OUTDIR/VERSION" # satisfy make: the lock file may be newer
	exit 0
fi

command -v apt-get >/dev/null || die "apt-get not found (Debian host needed)"
mkdir -p "$OUTDIR"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fetch-signed.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

candidate() { # PKG
	local ver
	ver=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || return 1
	echo "$ver"
}

# fetch PKG PINNED_VERSION LOCK_KEY: download into $TMP/PKG/, print the version.
fetch() {
	local pkg=$1 pin=$2 key=$3 ver
	mkdir -p "$TMP/$pkg"
	# As root apt would drop to the _apt user, which cannot write to our temp dir.
	if [ -n "$pin" ] && (cd "$TMP/$pkg" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$pin") \
		>"$TMP/$pkg.log" 2>&1; then
		echo "$pin"
		return 0
	fi
	[ -z "$pin" ] || sed 's/^/  apt: /' "$TMP/$pkg.log" >&2
	if ! ver=$(candidate "$pkg"); then
		apt-get update -qq >&2
		ver=$(candidate "$pkg") || die "apt-cache knows no $pkg"
	fi
	if [ -n "$pin" ]; then
		warn "pinned $pkg $pin is not downloadable any more; using $ver instead."
		warn "Update rootfs/versions.lock: $key=$ver"
	fi
	(cd "$TMP/$pkg" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver") >"$TMP/$pkg.log" 2>&1 || {
		sed 's/^/  apt: /' "$TMP/$pkg.log" >&2
		die "apt-get download $pkg=$ver failed"
	}
	echo "$ver"
}

log "downloading shim-signed ${SHIM_SIGNED_VERSION:-(no pin)} and grub-efi-amd64-signed ${GRUB_EFI_SIGNED_VERSION:-(no pin)}"
SHIM_VER=$(fetch shim-signed "$SHIM_SIGNED_VERSION" SHIM_SIGNED_VERSION)
GRUB_VER=$(fetch grub-efi-amd64-signed "$GRUB_EFI_SIGNED_VERSION" GRUB_EFI_SIGNED_VERSION)
for pkg in shim-signed grub-efi-amd64-signed; do
	dpkg-deb -x "$(ls "$TMP/$pkg"/*.deb)" "$TMP/x"
done

mkdir -p "$TMP/out"
take() { # SRC (in the unpacked packages) DEST
	[ -s "$TMP/x/$1" ] || die "/$1 is not in the downloaded packages"
	cp "$TMP/x/$1" "$TMP/out/$2"
}
take usr/lib/shim/shimx64.efi.signed shimx64.efi
take usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed grubx64.efi
take usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed grubnetx64.efi
{
	printf 'SHIM_SIGNED_VERSION=%s\nGRUB_EFI_SIGNED_VERSION=%s\n' "$SHIM_VER" "$GRUB_VER"
	for f in $FILES; do
		printf 'SHA256_%s=%s\n' "${f%.efi}" "$(sha256sum "$TMP/out/$f" | cut -d' ' -f1)"
	done
} >"$TMP/out/VERSION"

# VERSION (the make target) goes last.
rm -f "$OUTDIR/VERSION"
for f in $FILES; do mv "$TMP/out/$f" "$OUTDIR/$f"; done
mv "$TMP/out/VERSION" "$OUTDIR/VERSION"
log "shim-signed $SHIM_VER, grub-efi-amd64-signed $GRUB_VER in $OUTDIR"
