#!/bin/bash
# fetch-kernel.sh OUTDIR — fetch the Debian 12 kernel used as the boot kernel.
#
# Downloads (apt-get download, so the .deb is verified against the signed
# Debian archive) the versioned kernel image package that linux-image-amd64
# depends on, unpacks it in a temporary directory and produces:
#
#   OUTDIR/vmlinuz                          the kernel
#   OUTDIR/VERSION                          KEY=VALUE lines: KERNEL_RELEASE
#                                           (uname -r), KERNEL_PACKAGE,
#                                           KERNEL_VERSION (Debian version)
#   OUTDIR/modroot/lib/modules/<release>/   the full module tree + depmod data
#
# The version pinned in rootfs/versions.lock is preferred. Debian's security
# archive keeps only the newest kernel, so when the pinned one can no longer be
# downloaded the current candidate is used and a warning says so (update the
# lock file to silence it).
#
# Idempotent: when OUTDIR/VERSION already names the wanted kernel and the files
# are present, nothing is downloaded. Writes only to OUTDIR and a temp dir.
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
LOCK=$HERE/versions.lock
KERNEL_PACKAGE="" KERNEL_VERSION=""
# shellcheck source=versions.lock disable=SC1091
[ -f "$LOCK" ] && . "$LOCK"
PIN_PACKAGE=$KERNEL_PACKAGE PIN_VERSION=$KERNEL_VERSION

log() { echo "fetch-kernel: $*"; }
warn() { echo "fetch-kernel: WARNING: $*" >&2; }
die() { echo "fetch-kernel: error: $*" >&2; exit 1; }

# Is OUTDIR already complete for package $1 version $2?
is_done() {
	[ -s "$OUTDIR/vmlinuz" ] && [ -f "$OUTDIR/VERSION" ] || return 1
	grep -qx "KERNEL_PACKAGE=$1" "$OUTDIR/VERSION" &&
		grep -qx "KERNEL_VERSION=$2" "$OUTDIR/VERSION" || return 1
	local rel
	rel=$(sed -n 's/^KERNEL_RELEASE=//p' "$OUTDIR/VERSION")
	[ -n "$rel" ] && [ -f "$OUTDIR/modroot/lib/modules/$rel/modules.dep" ]
}

# The candidate: the versioned image linux-image-amd64 depends on.
candidate() {
	local pkg ver
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1)
	[ -n "$pkg" ] || return 1
	ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || return 1
	echo "$pkg $ver"
}

if [ -n "$PIN_PACKAGE" ] && is_done "$PIN_PACKAGE" "$PIN_VERSION"; then
	log "$OUTDIR is up to date ($PIN_PACKAGE $PIN_VERSION)"
	touch "$OUTDIR/vmlinuz" # satisfy make: the lock file may be newer
	exit 0
fi

command -v apt-get >/dev/null || die "apt-get not found (Debian host needed)"
command -v depmod >/dev/null || die "depmod not found (install kmod)"

mkdir -p "$OUTDIR"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fetch-kernel.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# apt-get download writes into the current directory; run it in $TMP. As root
# apt would drop to the _apt user, which cannot write to our temp dir.
download() { # PKG VERSION
	(cd "$TMP" && apt-get download -q -o APT::Sandbox::User=root "$1=$2") >"$TMP/apt.log" 2>&1
}

PKG="" VER=""
if [ -n "$PIN_PACKAGE" ] && [ -n "$PIN_VERSION" ]; then
	log "downloading pinned $PIN_PACKAGE $PIN_VERSION"
	if download "$PIN_PACKAGE" "$PIN_VERSION"; then
		PKG=$PIN_PACKAGE VER=$PIN_VERSION
	else
		sed 's/^/  apt: /' "$TMP/apt.log" >&2
	fi
fi

if [ -z "$PKG" ]; then
	if ! cand=$(candidate); then
		log "apt-cache knows no linux-image-amd64; running apt-get update"
		apt-get update -qq
		cand=$(candidate) || die "cannot resolve linux-image-amd64 with apt-cache"
	fi
	PKG=${cand% *} VER=${cand#* }
	if [ -n "$PIN_PACKAGE" ]; then
		warn "pinned kernel $PIN_PACKAGE $PIN_VERSION is not downloadable any more;"
		warn "using the current candidate $PKG $VER instead."
		warn "Update rootfs/versions.lock: KERNEL_PACKAGE=$PKG KERNEL_VERSION=$VER"
	fi
	if is_done "$PKG" "$VER"; then
		log "$OUTDIR is up to date ($PKG $VER)"
		touch "$OUTDIR/vmlinuz"
		exit 0
	fi
	log "downloading $PKG $VER"
	if ! download "$PKG" "$VER"; then
		sed 's/^/  apt: /' "$TMP/apt.log" >&2
		die "apt-get download $PKG=$VER failed"
	fi
fi

deb=$(ls "$TMP"/*.deb)
log "unpacking $(basename "$deb") ($(du -h "$deb" | cut -f1))"
dpkg-deb -x "$deb" "$TMP/x"

# Bookworm ships /boot/vmlinuz-REL and /lib/modules/REL (or /usr/lib/modules).
vmlinuz=$(ls "$TMP"/x/boot/vmlinuz-* 2>/dev/null | head -n1)
[ -n "$vmlinuz" ] || die "no /boot/vmlinuz-* in $PKG"
REL=${vmlinuz##*/vmlinuz-}
moddir=""
for d in "$TMP/x/lib/modules/$REL" "$TMP/x/usr/lib/modules/$REL"; do
	[ -d "$d" ] && { moddir=$d; break; }
done
[ -n "$moddir" ] || die "no module tree for $REL in $PKG"

# Assemble the result in $TMP/out, then move it into OUTDIR.
mkdir -p "$TMP/out/modroot/lib/modules"
cp "$vmlinuz" "$TMP/out/vmlinuz"
mv "$moddir" "$TMP/out/modroot/lib/modules/$REL"
depmod -b "$TMP/out/modroot" "$REL"
printf 'KERNEL_RELEASE=%s\nKERNEL_PACKAGE=%s\nKERNEL_VERSION=%s\n' \
	"$REL" "$PKG" "$VER" >"$TMP/out/VERSION"

# Replace OUTDIR's content; vmlinuz (the make target) goes last.
rm -rf "$OUTDIR/modroot" "$OUTDIR/VERSION" "$OUTDIR/vmlinuz"
mv "$TMP/out/modroot" "$OUTDIR/modroot"
mv "$TMP/out/VERSION" "$OUTDIR/VERSION"
mv "$TMP/out/vmlinuz" "$OUTDIR/vmlinuz"

log "kernel $REL ($PKG $VER): vmlinuz $(du -h "$OUTDIR/vmlinuz" | cut -f1)," \
	"modules $(du -sh "$OUTDIR/modroot" | cut -f1)"
