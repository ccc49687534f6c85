#!/bin/bash
# mkwww.sh — build the directory a boot server serves (HTTP and TFTP).
#
# Usage:
#   ipxe/mkwww.sh --boot-url URL --kernel FILE --initrd FILE --profiles DIR
#                 --out OUTDIR [--append "KERNEL ARGS"] [--image FILE | --no-image]
#                 [--sign-key KEY --installer BIN]
#
#   --boot-url URL   where OUTDIR will be served, e.g. http://10.0.2.100/
#                    (a missing trailing slash is added)
#   --kernel FILE    the kernel (build/kernel/vmlinuz)
#   --initrd FILE    the initramfs (build/boot/initrd.img)
#   --profiles DIR   installation profiles, copied to OUTDIR/profiles/
#                    (may be missing or empty)
#   --out OUTDIR     created or refreshed
#   --append ARGS    extra kernel arguments, e.g. "inst.finish=poweroff"
#   --image FILE     OS image served as OUTDIR/images/<name of FILE> (a hard
#                    link when possible, else a copy); every @IMAGE_SHA256@ in
#                    the copied profiles becomes its SHA-256. Default: the
#                    demo image build/image/debian12.tar.zst when it exists
#                    (`make image`), so `make www` serves it.
#                    Its manifest (docs/manifest.md) is published beside it as
#                    OUTDIR/images/<name>.manifest: FILE.manifest when that is
#                    this image's (`make image` writes it), else made here
#                    with `installer manifest`.
#   --installer FILE the installer binary built for this host: makes a
#                    missing manifest, signs for --sign-key (default
#                    build/installer/installer; without one, no manifest and
#                    a warning)
#   --no-image       no image, even when the demo image exists; profiles keep
#                    @IMAGE_SHA256@ (the installer refuses such a profile)
#   --sign-key KEY   sign every profiles/**/*.yaml (after @IMAGE_SHA256@ is
#                    filled in) and images/*.manifest with `BIN sign --key
#                    KEY`: FILE.sig beside each (make SIGN_KEY=KEY; docs/trust.md)
#
# OUTDIR then holds:
#   boot.ipxe                 iPXE script (from ipxe/boot.ipxe.in); give it as
#                             the DHCP boot file to iPXE (QEMU's NIC ROMs are iPXE)
#   vmlinuz, initrd.img       kernel and initramfs
#   profiles/                 the profiles (@IMAGE_SHA256@ filled in)
#   images/NAME               the OS image (with --image or the demo image)
#   images/NAME.manifest      its manifest: length, sha256 of every 4 MiB chunk
#   pxelinux/lpxelinux.0      for sites that chain pxelinux: DHCP boot file
#   pxelinux/ldlinux.c32      "pxelinux/lpxelinux.0" over TFTP; it loads the
#   pxelinux/pxelinux.cfg/default   kernel and initrd over HTTP from URL
#   undionly.kpxe             iPXE for firmware whose PXE does not run iPXE:
#   ipxe.efi                  legacy BIOS PXE (undionly.kpxe), UEFI PXE
#   snponly.efi               (ipxe.efi with its own NIC drivers, or snponly.efi
#                             through the firmware's network stack), from
#                             Debian's ipxe package; the DHCP server hands them
#                             to plain PXE clients and boot.ipxe to iPXE
#                             (matching the iPXE user-class), see docs/boot.md
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
LPXELINUX=/usr/lib/PXELINUX/lpxelinux.0
LDLINUX=/usr/lib/syslinux/modules/bios/ldlinux.c32
IPXE_DIR=/usr/lib/ipxe
IPXE_BINARIES="undionly.kpxe ipxe.efi snponly.efi"

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit "${1:-0}"
}

URL="" KERNEL="" INITRD="" PROFILES="" OUT="" APPEND="" IMAGE="" NO_IMAGE="" SIGN_KEY=""
DEMO_IMAGE=$(dirname "$HERE")/build/image/debian12.tar.zst
INSTALLER=$(dirname "$HERE")/build/installer/installer
while [ $# -gt 0 ]; do
	case "$1" in
	--boot-url) URL=$2; shift 2 ;;
	--kernel) KERNEL=$2; shift 2 ;;
	--initrd) INITRD=$2; shift 2 ;;
	--profiles) PROFILES=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--append) APPEND=$2; shift 2 ;;
	--image) IMAGE=$2; shift 2 ;;
	--no-image) NO_IMAGE=1; shift ;;
	--sign-key) SIGN_KEY=$2; shift 2 ;;
	--installer) INSTALLER=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "mkwww: unknown argument: $1" >&2; usage 1 >&2 ;;
	esac
done
[ -n "$URL" ] && [ -n "$KERNEL" ] && [ -n "$INITRD" ] && [ -n "$OUT" ] || usage 1 >&2
die() { echo "mkwww: error: $*" >&2; exit 1; }
[ -f "$KERNEL" ] || die "kernel $KERNEL not found"
[ -f "$INITRD" ] || die "initrd $INITRD not found"
case "$URL" in http://* | https://*) ;; *) die "--boot-url must be an http(s) URL" ;; esac
case "$URL" in */) ;; *) URL=$URL/ ;; esac
# The values go into sed replacements and a kernel command line.
case "$URL$APPEND" in *'|'* | *'\'* | *'&'*) die "'|', '\\' and '&' are not allowed in --boot-url/--append" ;; esac

subst() { # TEMPLATE OUTFILE
	sed -e "s|@BOOT_URL@|$URL|g" -e "s|@APPEND@|$APPEND|g" "$1" >"$2.tmp"
	mv "$2.tmp" "$2"
}

mkdir -p "$OUT"
# Copy into fresh files (never through an existing link).
cp --remove-destination "$KERNEL" "$OUT/vmlinuz"
cp --remove-destination "$INITRD" "$OUT/initrd.img"
subst "$HERE/boot.ipxe.in" "$OUT/boot.ipxe"

rm -rf "$OUT/profiles"
mkdir -p "$OUT/profiles"
if [ -n "$PROFILES" ] && [ -d "$PROFILES" ]; then
	cp -R "$PROFILES/." "$OUT/profiles/"
fi

# The OS image and the profiles' @IMAGE_SHA256@.
if [ -z "$IMAGE" ] && [ -z "$NO_IMAGE" ] && [ -f "$DEMO_IMAGE" ]; then
	IMAGE=$DEMO_IMAGE
fi
if [ -n "$IMAGE" ] && [ -z "$NO_IMAGE" ]; then
	[ -f "$IMAGE" ] || die "image $IMAGE not found"
	sha=$(sha256sum "$IMAGE" | cut -d' ' -f1)
	mkdir -p "$OUT/images"
	dst=$OUT/images/$(basename "$IMAGE")
	# ln -f / cp --remove-destination replace a previous link, never write through it.
	ln -f "$IMAGE" "$dst" 2>/dev/null || cp --remove-destination "$IMAGE" "$dst"
	{ grep -rlF --null '@IMAGE_SHA256@' "$OUT/profiles" || true; } |
		xargs -0 -r sed -i "s/@IMAGE_SHA256@/$sha/g"
	echo "mkwww: image images/$(basename "$IMAGE") sha256 $sha"
	# Its manifest: the one beside it when it is this image's, else made now.
	rm -f "$dst.manifest"
	if [ -f "$IMAGE.manifest" ] && grep -qx "sha256: $sha" "$IMAGE.manifest"; then
		cp "$IMAGE.manifest" "$dst.manifest"
	elif [ -x "$INSTALLER" ]; then
		"$INSTALLER" manifest "$IMAGE" -o "$dst.manifest"
	else
		echo "mkwww: WARNING: no manifest for $IMAGE and no installer ($INSTALLER) to make one:" \
			"a boot image with trusted keys refuses this image" >&2
	fi
	[ ! -f "$dst.manifest" ] || echo "mkwww: manifest images/$(basename "$IMAGE").manifest"
elif grep -rqF '@IMAGE_SHA256@' "$OUT/profiles"; then
	echo "mkwww: WARNING: no OS image (run 'make image' or give --image):" \
		"profiles with @IMAGE_SHA256@ will be refused by the installer" >&2
fi

# Signatures (docs/trust.md): made last, over the profiles as served.
if [ -n "$SIGN_KEY" ]; then
	[ -x "$INSTALLER" ] || die "--sign-key needs --installer BIN"
	find "$OUT/profiles" -name '*.sig' -type f -delete
	{ find "$OUT/profiles" -name '*.yaml' -type f -print0 || true; } |
		xargs -0 -r "$INSTALLER" sign --key "$SIGN_KEY" >/dev/null || die "signing the profiles with $SIGN_KEY failed"
	# The image's manifest (docs/manifest.md), when one is published.
	if [ -d "$OUT/images" ]; then
		find "$OUT/images" -maxdepth 1 -name '*.manifest.sig' -type f -delete
		{ find "$OUT/images" -maxdepth 1 -name '*.manifest' -type f -print0 || true; } |
			xargs -0 -r "$INSTALLER" sign --key "$SIGN_KEY" >/dev/null || die "signing the manifest with $SIGN_KEY failed"
	fi
	echo "mkwww: signed $(find "$OUT/profiles" -name '*.yaml.sig' -type f | wc -l) profiles" \
		"and $(find "$OUT/images" -maxdepth 1 -name '*.manifest.sig' -type f 2>/dev/null | wc -l) image manifests with $SIGN_KEY"
fi

if [ -f "$LPXELINUX" ] && [ -f "$LDLINUX" ]; then
	rm -rf "$OUT/pxelinux"
	mkdir -p "$OUT/pxelinux/pxelinux.cfg"
	cp "$LPXELINUX" "$LDLINUX" "$OUT/pxelinux/"
	subst "$HERE/pxelinux.cfg.in" "$OUT/pxelinux/pxelinux.cfg/default"
else
	echo "mkwww: WARNING: no $LPXELINUX or $LDLINUX (packages pxelinux, syslinux-common): no pxelinux/" >&2
fi

missing=""
for f in $IPXE_BINARIES; do
	if [ -f "$IPXE_DIR/$f" ]; then
		cp --remove-destination "$IPXE_DIR/$f" "$OUT/$f"
	else
		missing="$missing $f"
	fi
done
[ -z "$missing" ] || echo "mkwww: WARNING: not in $IPXE_DIR (package ipxe):$missing" >&2

echo "mkwww: $OUT for $URL: vmlinuz $(stat -c %s "$OUT/vmlinuz") B," \
	"initrd.img $(stat -c %s "$OUT/initrd.img") B, $(find "$OUT/profiles" -type f | wc -l) profiles${APPEND:+, append \"$APPEND\"}"
