#!/bin/bash
# rootfs/mkusb.sh builds the installer medium from a small stand-in OS image:
# an ISO 9660 with the medium's label, isolinux for BIOS, an ESP image with
# systemd-boot, the kernel, the initramfs and a loader entry for UEFI, the
# profile with the image's sha256 filled in, and the image itself; both boot
# loaders pass inst.medium=LABEL=... An invalid profile stops the build.
# (Booting it: tests/vm/40-usb-bios.sh, 41-usb-uefi.sh.)
. "$(dirname "$0")/lib.sh"
command -v xorriso >/dev/null && command -v mcopy >/dev/null || die "xorriso/mtools missing (make deps)"

# Stand-ins for the kernel, initramfs and image: only their bytes matter here.
head -c 300000 /dev/urandom >"$T/vmlinuz"
head -c 200000 /dev/urandom >"$T/initrd.img"
mkdir -p "$T/root/etc" && echo stand-in >"$T/root/etc/hostname"
tar -C "$T/root" -cf - . | zstd -q >"$T/os.tar.zst"
SHA=$(sha256sum "$T/os.tar.zst" | cut -d' ' -f1)
sed 's/^hostname: .*/hostname: cli01/' "$ROOT/profiles/usb.yaml" >"$T/profile.yaml"
sed -i 's|url: ../images/debian12.tar.zst|url: ../images/os.tar.zst|' "$T/profile.yaml"

mk() { "$ROOT/rootfs/mkusb.sh" --kernel "$T/vmlinuz" --initrd "$T/initrd.img" --image "$T/os.tar.zst" \
	--installer "$INSTALLER" "$@"; }

expect_rc 0 mk --profile "$T/profile.yaml" --out "$T/iso/m.iso" --label SITE_A --append "inst.finish=poweroff"
expect_in "$T/out" "label SITE_A"
ISO=$T/iso/m.iso
# The volume id the installer looks for, and the hybrid MBR: partition 2 is
# the EFI system partition.
[ "$(blkid -p -s LABEL -o value "$ISO")" = SITE_A ] || die "ISO label is not SITE_A"
[ "$(blkid -p -s TYPE -o value "$ISO")" = iso9660 ] || die "not an ISO 9660"
/sbin/fdisk -l "$ISO" >"$T/fdisk"
grep -Eq "m\.iso2 .* ef " "$T/fdisk" || { cat "$T/fdisk" >&2; die "no EFI partition in the hybrid MBR"; }

x() { xorriso -osirrox on -indev "$ISO" -extract "$1" "$2" >/dev/null 2>&1 || die "$1 is not on the medium"; }
x /profiles/default.yaml "$T/default.yaml"
x /images/os.tar.zst "$T/os.out"
x /vmlinuz "$T/vmlinuz.out"
x /initrd.img "$T/initrd.out"
x /isolinux/isolinux.cfg "$T/isolinux.cfg"
x /isolinux/isolinux.bin "$T/isolinux.bin"
x /isolinux/ldlinux.c32 "$T/ldlinux.c32"
x /boot/esp.img "$T/esp.img"
cmp -s "$T/os.out" "$T/os.tar.zst" && cmp -s "$T/vmlinuz.out" "$T/vmlinuz" && cmp -s "$T/initrd.out" "$T/initrd.img" ||
	die "the image, kernel or initramfs on the medium differ from the inputs"
expect_in "$T/default.yaml" "sha256: \"$SHA\""
expect_in "$T/default.yaml" "url: ../images/os.tar.zst"
expect_in "$T/isolinux.cfg" "APPEND console=tty0 console=ttyS0,115200 inst.medium=LABEL=SITE_A inst.finish=poweroff"

# The ESP: systemd-boot as the removable-media path, kernel, initramfs, entry.
export MTOOLS_SKIP_CHECK=1
mtype -i "$T/esp.img" ::/loader/entries/install.conf >"$T/entry"
expect_in "$T/entry" "options console=tty0 console=ttyS0,115200 inst.medium=LABEL=SITE_A inst.finish=poweroff"
expect_in "$T/entry" "linux /vmlinuz"
expect_in "$T/entry" "initrd /initrd.img"
mcopy -i "$T/esp.img" ::/EFI/BOOT/BOOTX64.EFI "$T/bootx64.efi"
cmp -s "$T/bootx64.efi" /usr/lib/systemd/boot/efi/systemd-bootx64.efi || die "EFI/BOOT/BOOTX64.EFI is not systemd-boot"
mcopy -i "$T/esp.img" ::/initrd.img "$T/esp-initrd"
cmp -s "$T/esp-initrd" "$T/initrd.img" || die "the ESP's initramfs differs"
# The ESP must not carry the medium's label (the installer would find two).
[ "$(blkid -p -s LABEL -o value "$T/esp.img")" != SITE_A ] || die "the ESP has the medium's label"

# The installer's own view of a medium profile: the image next to it.
mkdir -p "$T/medium/profiles" && cp "$T/default.yaml" "$T/medium/profiles/"
expect_rc 0 "$INSTALLER" plan --profile "$T/medium/profiles/default.yaml" \
	--inventory "$ROOT/tests/data/inventory/one-blank-disk.json"
expect_in "$T/out" "Image:      $T/medium/images/os.tar.zst"

# An invalid profile: the error with FILE:LINE:COLUMN, no medium.
sed 's/^hostname: .*/hostname: -bad/' "$T/profile.yaml" >"$T/bad.yaml"
expect_rc 1 mk --profile "$T/bad.yaml" --out "$T/bad/m.iso"
expect_in "$T/err" "default.yaml:12:11: error: hostname: invalid hostname '-bad'"
expect_in "$T/err" "the medium was not built"
[ ! -e "$T/bad/m.iso" ] || die "a medium was built from an invalid profile"
# A bad label.
expect_rc 1 mk --profile "$T/profile.yaml" --out "$T/bad/m.iso" --label "a b"
echo ok
