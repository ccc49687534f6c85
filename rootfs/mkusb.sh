#!/bin/bash
# mkusb.sh — build the installer medium: one hybrid ISO 9660 image that boots
# from a USB stick or a DVD, under BIOS (isolinux) and UEFI (systemd-boot), and
# carries the kernel, the initramfs, the profile(s) and the OS image, so a site
# installs with no network at all.
#
# Usage:
#   usb/mkusb.sh --kernel FILE --initrd FILE --profile PATH --image FILE
#                --installer FILE --out FILE.iso [--label LABEL] [--append ARGS]
#                [--sign-key KEY] [--signed DIR]
#
#   --kernel FILE     the kernel (build/kernel/vmlinuz)
#   --initrd FILE     the initramfs (build/boot/initrd.img)
#   --profile PATH    a profile file (it becomes profiles/default.yaml on the
#                     medium), or a profile tree (copied as profiles/: the
#                     installer looks up mac/, uuid/, serial/ and default.yaml
#                     as it does over HTTP). Every @IMAGE_SHA256@ becomes the
#                     image's SHA-256; then every profile is validated with
#                     `installer validate` and the build stops on any error.
#                     The image URL should be relative to the profile, e.g.
#                     "../images/debian12.tar.zst" in default.yaml.
#   --image FILE      the OS image, put on the medium as images/<its name>,
#                     with its manifest images/<its name>.manifest (signed
#                     with --sign-key)
#   --installer FILE  the installer binary built for this host (validation)
#   --out FILE        the image to write (build/usb/installer.iso)
#   --label LABEL     ISO volume id the installer finds the medium by
#                     (inst.medium=LABEL=...); default BMI_INSTALL. Letters,
#                     digits and '_', at most 32
#   --append ARGS     extra kernel arguments (e.g. "inst.finish=poweroff")
#   --sign-key KEY    sign every profile on the medium (FILE.yaml.sig, after
#                     @IMAGE_SHA256@): needed when the initramfs has trusted
#                     keys (make usb SITE_KEYS=... SIGN_KEY=..., docs/trust.md)
#   --signed DIR      boot UEFI through Debian's signed Secure Boot chain
#                     instead of systemd-boot: DIR is secureboot/fetch-signed.sh
#                     output (build/secureboot); the ESP gets shim as
#                     EFI/BOOT/BOOTX64.EFI, Debian's signed GRUB beside it
#                     (EFI/BOOT/grubx64.efi) and EFI/debian/grub.cfg (GRUB's
#                     built-in prefix). Boots with Secure Boot on or off
#                     (docs/secureboot.md)
#
# The image is an isohybrid: written to a USB stick with dd it is a disk whose
# MBR boots isolinux (BIOS) and whose partition 2 is an EFI system partition
# (UEFI: EFI/BOOT/BOOTX64.EFI = systemd-boot); burnt to a DVD it boots through
# El Torito (isolinux, and the same ESP image as the EFI boot image).
# The ESP image is built with mkfs.vfat and mtools, without mounting anything.
set -euo pipefail

ISOLINUX_BIN=/usr/lib/ISOLINUX/isolinux.bin
ISOHDPFX=/usr/lib/ISOLINUX/isohdpfx.bin
LDLINUX=/usr/lib/syslinux/modules/bios/ldlinux.c32
SDBOOT=/usr/lib/systemd/boot/efi/systemd-bootx64.efi

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit "${1:-0}"
}

KERNEL="" INITRD="" PROFILE="" IMAGE="" INSTALLER="" OUT="" LABEL=BMI_INSTALL APPEND="" SIGN_KEY="" SIGNED=""
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) KERNEL=$2; shift 2 ;;
	--initrd) INITRD=$2; shift 2 ;;
	--profile) PROFILE=$2; shift 2 ;;
	--image) IMAGE=$2; shift 2 ;;
	--installer) INSTALLER=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--label) LABEL=$2; shift 2 ;;
	--append) APPEND=$2; shift 2 ;;
	--sign-key) SIGN_KEY=$2; shift 2 ;;
	--signed) SIGNED=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "mkusb: unknown argument: $1" >&2; usage 1 >&2 ;;
	esac
done
die() { echo "mkusb: error: $*" >&2; exit 1; }
[ -n "$KERNEL" ] && [ -n "$INITRD" ] && [ -n "$PROFILE" ] && [ -n "$IMAGE" ] && [ -n "$INSTALLER" ] &&
	[ -n "$OUT" ] || usage 1 >&2
for f in "$KERNEL" "$INITRD" "$IMAGE" "$ISOLINUX_BIN" "$ISOHDPFX" "$LDLINUX" "$SDBOOT"; do
	[ -f "$f" ] || die "$f not found (make deps installs isolinux, syslinux-common, systemd-boot-efi)"
done
[ -x "$INSTALLER" ] || die "installer $INSTALLER not found"
INSTALLER=$(realpath "$INSTALLER")
[ -e "$PROFILE" ] || die "profile $PROFILE not found"
command -v xorriso >/dev/null || die "xorriso not found (make deps)"
command -v mcopy >/dev/null && command -v mkfs.vfat >/dev/null || die "mtools/dosfstools not found (make deps)"
case "$LABEL" in *[!A-Za-z0-9_]* | "") die "--label: letters, digits and '_' only" ;; esac
[ "${#LABEL}" -le 32 ] || die "--label: at most 32 characters (ISO 9660 volume id)"
# APPEND goes into sed replacements and boot loader configuration lines.
case "$APPEND" in *'|'* | *'\'* | *'&'* | *$'\n'*) die "'|', '\\', '&' and newlines are not allowed in --append" ;; esac
if [ -n "$SIGNED" ]; then
	for f in shimx64.efi grubx64.efi; do
		[ -s "$SIGNED/$f" ] || die "$SIGNED/$f not found (make secureboot)"
	done
	# ... and into a GRUB script line: no expansion, quoting or statements.
	case "$APPEND" in *[\$\;\'\"\`\{\}\#]*) die "with --signed, \$ ; quotes { } and # are not allowed in --append" ;; esac
fi

OUTDIR=$(dirname "$OUT")
mkdir -p "$OUTDIR"
WORK=$(mktemp -d "$OUTDIR/.mkusb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
TREE=$WORK/tree
mkdir -p "$TREE/isolinux" "$TREE/boot" "$TREE/profiles"

# --- profiles: the image's digest, then validation ------------------------------------
IMAGE_NAME=$(basename "$IMAGE")
SHA=$(sha256sum "$IMAGE" | cut -d' ' -f1)
if [ -d "$PROFILE" ]; then
	cp -R "$PROFILE/." "$TREE/profiles/"
else
	cp "$PROFILE" "$TREE/profiles/default.yaml"
fi
{ grep -rlF --null '@IMAGE_SHA256@' "$TREE/profiles" || true; } | xargs -0 -r sed -i "s/@IMAGE_SHA256@/$SHA/g"
# The profiles the installer looks up (fragments they include are checked with them).
mapfile -t LOOKUP < <(cd "$TREE/profiles" && find . -maxdepth 1 -name default.yaml &&
	find ./mac ./uuid ./serial -maxdepth 1 -name '*.yaml' 2>/dev/null | sort)
[ ${#LOOKUP[@]} -gt 0 ] || die "$PROFILE: no default.yaml and no mac/, uuid/ or serial/ profiles"
(cd "$TREE/profiles" && "$INSTALLER" validate "${LOOKUP[@]}") >"$WORK/validate.log" 2>&1 || {
	sed 's/^/  /' "$WORK/validate.log" >&2
	die "invalid profile(s) in $PROFILE: the medium was not built"
}
# Signatures (docs/trust.md), over the profiles as they are on the medium.
if [ -n "$SIGN_KEY" ]; then
	find "$TREE/profiles" -name '*.sig' -type f -delete
	find "$TREE/profiles" -name '*.yaml' -type f -print0 |
		xargs -0 -r "$INSTALLER" sign --key "$SIGN_KEY" >/dev/null || die "signing the profiles with $SIGN_KEY failed"
fi
# The image's manifest beside it (docs/manifest.md): the installer checks the
# image chunk by chunk against it, and with trusted keys requires it, signed.
mkdir -p "$TREE/images"
"$INSTALLER" manifest "$IMAGE" -o "$TREE/images/$IMAGE_NAME.manifest" || die "cannot make the manifest of $IMAGE"
if [ -n "$SIGN_KEY" ]; then
	"$INSTALLER" sign --key "$SIGN_KEY" "$TREE/images/$IMAGE_NAME.manifest" >/dev/null ||
		die "signing the image manifest with $SIGN_KEY failed"
fi
if grep -rqE '^[[:space:]]*url:[[:space:]]*["'\'']?https?://' "$TREE/profiles"; then
	echo "mkusb: WARNING: a profile's image url is an http(s) URL: installing from this medium" \
		"will need that server (make the url relative: ../images/$IMAGE_NAME)" >&2
fi

# --- BIOS: isolinux --------------------------------------------------------------------
CMDLINE="console=tty0 console=ttyS0,115200 inst.medium=LABEL=$LABEL${APPEND:+ $APPEND}"
cp "$ISOLINUX_BIN" "$LDLINUX" "$TREE/isolinux/"
cat >"$TREE/isolinux/isolinux.cfg" <<-CFG
	SERIAL 0 115200
	SAY Bare-metal installer: installing from this medium (label $LABEL)
	DEFAULT install
	PROMPT 0
	TIMEOUT 0
	LABEL install
	  KERNEL /vmlinuz
	  INITRD /initrd.img
	  APPEND $CMDLINE
CFG

# --- UEFI: an ESP image with systemd-boot, the kernel and the initramfs ---------------
# systemd-boot reads only its own partition, so the kernel and initramfs are
# in the ESP image as well as in the ISO tree (for isolinux).
cat >"$WORK/loader.conf" <<-CFG
	default install.conf
	timeout 0
CFG
cat >"$WORK/install.conf" <<-CFG
	title Bare-metal installer (from this medium, label $LABEL)
	linux /vmlinuz
	initrd /initrd.img
	options $CMDLINE
CFG
# With --signed: shim -> Debian's signed GRUB -> EFI/debian/grub.cfg instead.
# GRUB runs `linux` through shim's verifier: only a kernel signed with a
# key shim trusts (Debian's) boots; the initramfs is not verified.
cat >"$WORK/grub.cfg" <<-CFG
	# Generated by rootfs/mkusb.sh: the installer medium's UEFI boot through
	# shim and Debian's signed GRUB (docs/secureboot.md). \$root is the ESP
	# (EFI/debian/grub.cfg) or the ISO 9660 file system (boot/grub/grub.cfg).
	set timeout=0
	echo "installer: Secure Boot chain (shim, signed GRUB) from this medium (label $LABEL), \$root"
	echo "installer: loading the kernel /vmlinuz"
	if linux /vmlinuz $CMDLINE; then
		echo "installer: loading the initramfs /initrd.img"
		if initrd /initrd.img; then
			boot
		fi
	fi
	echo "installer: boot FAILED: the kernel was refused (no valid signature?) or not found; rebooting in 30 s"
	sleep 30
	reboot
CFG
if [ -n "$SIGNED" ]; then
	# Where Debian's signed GRUB looks for its configuration: $prefix is
	# /EFI/debian on the device it was loaded from, but when the firmware
	# boots the whole stick (or the El Torito image) GRUB cannot name that
	# device and falls back to `search --file /.disk/info` and
	# ($root)/boot/grub/grub.cfg, as on Debian's own media: that is the ISO
	# 9660 file system, which has /vmlinuz and /initrd.img too.
	mkdir -p "$TREE/.disk" "$TREE/boot/grub"
	echo "Bare-metal installer medium (label $LABEL)" >"$TREE/.disk/info"
	cp "$WORK/grub.cfg" "$TREE/boot/grub/grub.cfg"
	loader_size=$(($(stat -c %s "$SIGNED/shimx64.efi") + $(stat -c %s "$SIGNED/grubx64.efi")))
else
	loader_size=$(stat -c %s "$SDBOOT")
fi
payload=$(($(stat -c %s "$KERNEL") + $(stat -c %s "$INITRD") + loader_size))
esp_kib=$((payload / 1024 * 11 / 10 + 2048))
ESP=$TREE/boot/esp.img
# A fixed volume id and no label: the ESP must not carry the medium's label.
mkfs.vfat -C -i 0b0071e5 "$ESP" "$esp_kib" >/dev/null
export MTOOLS_SKIP_CHECK=1
if [ -n "$SIGNED" ]; then
	mmd -i "$ESP" ::/EFI ::/EFI/BOOT ::/EFI/debian
	mcopy -i "$ESP" "$SIGNED/shimx64.efi" ::/EFI/BOOT/BOOTX64.EFI
	mcopy -i "$ESP" "$SIGNED/grubx64.efi" ::/EFI/BOOT/grubx64.efi
	mcopy -i "$ESP" "$WORK/grub.cfg" ::/EFI/debian/grub.cfg
else
	mmd -i "$ESP" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries
	mcopy -i "$ESP" "$SDBOOT" ::/EFI/BOOT/BOOTX64.EFI
	mcopy -i "$ESP" "$WORK/loader.conf" ::/loader/loader.conf
	mcopy -i "$ESP" "$WORK/install.conf" ::/loader/entries/install.conf
fi
mcopy -i "$ESP" "$KERNEL" ::/vmlinuz
mcopy -i "$ESP" "$INITRD" ::/initrd.img

# --- the ISO ----------------------------------------------------------------------------
# Large files are grafted from where they are (no copy into the tree).
rm -f "$OUT.tmp"
xorriso -as mkisofs -quiet -r -J -joliet-long -V "$LABEL" -o "$OUT.tmp" \
	-isohybrid-mbr "$ISOHDPFX" \
	-b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
	-eltorito-alt-boot -e boot/esp.img -no-emul-boot -isohybrid-gpt-basdat \
	-graft-points "$TREE" "vmlinuz=$KERNEL" "initrd.img=$INITRD" "images/$IMAGE_NAME=$IMAGE" \
	2>"$WORK/xorriso.log" || {
	cat "$WORK/xorriso.log" >&2
	die "xorriso failed"
}
mv "$OUT.tmp" "$OUT"
echo "mkusb: $OUT: $(($(stat -c %s "$OUT") / 1048576)) MiB, label $LABEL," \
	"$(find "$TREE/profiles" -type f | wc -l) profile file(s), images/$IMAGE_NAME sha256 $SHA," \
	"UEFI: $([ -n "$SIGNED" ] && echo "shim + signed GRUB (Secure Boot)" || echo systemd-boot)"
