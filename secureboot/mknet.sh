#!/bin/bash
# mknet.sh — the TFTP root of a Secure Boot network boot: shim, Debian's
# signed network GRUB, its grub.cfg, and the kernel and initramfs GRUB loads
# (over TFTP: Debian's signed GRUB has no HTTP client).
#
# Usage:
#   secureboot/mknet.sh --signed DIR --kernel FILE --initrd FILE
#                       --boot-url URL --out DIR [--append ARGS]
#
#   --signed DIR     secureboot/fetch-signed.sh output (build/secureboot)
#   --kernel FILE    the Debian-signed kernel (build/kernel/vmlinuz)
#   --initrd FILE    the initramfs (build/boot/initrd.img)
#   --boot-url URL   where the boot tree (ipxe/mkwww.sh output) is served:
#                    the installer fetches profiles/ from it (inst.profiles=)
#   --out DIR        the TFTP root to write into; may be the boot tree itself
#                    (`make secureboot` and the QEMU tests, where QEMU's TFTP
#                    serves build/www), or a site's TFTP root
#                    (ipxe/mkdnsmasq.sh's tftp/)
#   --append ARGS    extra kernel arguments, e.g. "inst.finish=poweroff"
#
# DIR then holds (only these are written; the rest of DIR is left alone):
#   shimx64.efi      the DHCP boot file for UEFI x86-64 clients with Secure
#                    Boot (option 93 = 7 or 9); signed by Microsoft's UEFI CA
#   grubx64.efi      Debian's signed grubnetx64.efi: shim fetches the file of
#                    this name from the directory its own boot file came from
#   grub/grub.cfg    GRUB's configuration (its built-in prefix is /grub)
#   vmlinuz, initrd.img   the kernel and the initramfs
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit "${1:-0}"
}

SIGNED="" KERNEL="" INITRD="" URL="" OUT="" APPEND=""
while [ $# -gt 0 ]; do
	case "$1" in
	--signed) SIGNED=$2; shift 2 ;;
	--kernel) KERNEL=$2; shift 2 ;;
	--initrd) INITRD=$2; shift 2 ;;
	--boot-url) URL=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--append) APPEND=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "mknet: unknown argument: $1" >&2; usage 1 >&2 ;;
	esac
done
[ -n "$SIGNED" ] && [ -n "$KERNEL" ] && [ -n "$INITRD" ] && [ -n "$URL" ] && [ -n "$OUT" ] || usage 1 >&2
die() { echo "mknet: error: $*" >&2; exit 1; }
for f in shimx64.efi grubnetx64.efi; do
	[ -s "$SIGNED/$f" ] || die "$SIGNED/$f not found (secureboot/fetch-signed.sh $SIGNED)"
done
[ -f "$KERNEL" ] || die "kernel $KERNEL not found"
[ -f "$INITRD" ] || die "initrd $INITRD not found"
case "$URL" in http://* | https://*) ;; *) die "--boot-url must be an http(s) URL" ;; esac
case "$URL" in */) ;; *) URL=$URL/ ;; esac
# The values go into sed replacements and a GRUB script line: no GRUB
# quoting, expansion or statement characters.
case "$URL" in *[\|\\\&\$\;\'\"\`\{\}\#[:space:]]*) die "--boot-url must not contain | \\ & \$ ; quotes { } # or spaces" ;; esac
case "$APPEND" in *[\|\\\&\$\;\'\"\`\{\}\#]* | *$'\n'*) die "--append must not contain | \\ & \$ ; quotes { } # or newlines" ;; esac

mkdir -p "$OUT/grub"
cp --remove-destination "$SIGNED/shimx64.efi" "$OUT/shimx64.efi"
cp --remove-destination "$SIGNED/grubnetx64.efi" "$OUT/grubx64.efi"
# Copy into fresh files (never through an existing link); OUT may be the
# boot tree that already holds these very files.
[ "$KERNEL" -ef "$OUT/vmlinuz" ] || cp --remove-destination "$KERNEL" "$OUT/vmlinuz"
[ "$INITRD" -ef "$OUT/initrd.img" ] || cp --remove-destination "$INITRD" "$OUT/initrd.img"
sed -e "s|@BOOT_URL@|$URL|g" -e "s|@APPEND@|$APPEND|g" \
	"$HERE/grub-net.cfg.in" >"$OUT/grub/grub.cfg.tmp"
mv "$OUT/grub/grub.cfg.tmp" "$OUT/grub/grub.cfg"
echo "mknet: $OUT: shimx64.efi (boot file), grubx64.efi, grub/grub.cfg, vmlinuz, initrd.img; profiles from $URL${APPEND:+, append \"$APPEND\"}"
