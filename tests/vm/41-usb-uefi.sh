#!/bin/bash
# The installer medium under UEFI, with no network at all: a QEMU machine
# (OVMF, -nic none) boots `make usb`'s hybrid ISO attached as a USB stick
# (qemu-xhci + usb-storage, writable): the firmware starts systemd-boot from
# the stick's EFI system partition, the installer finds the medium by its
# label, takes the profile and the OS image from it, never considers the stick
# as a target, and installs onto the blank virtio disk (a UEFI plan). The
# stick is byte-identical afterwards.
# Then the installed system boots under OVMF (systemd-boot on its ESP, the
# NVRAM entry the installer wrote) to its first-boot marker.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/usb.lib"

usb_build "$T/installer.iso"
make_disk "$T/target.raw" 6G
before=$(sha256sum <"$T/installer.iso")

log "install from the USB stick (OVMF, no network, TCG); the guest reboots when done, which ends this QEMU run"
usb_boot uefi "$T/installer.iso" "$T/target.raw" --efivars "$T/efivars.fd" ||
	die "the install from the medium did not finish"
usb_expect_install
expect_log "<== detect done"
grep -qE '<== detect done .*: uefi firmware' "$SERIAL" || die "the installer did not see UEFI firmware"
[ "$(sha256sum <"$T/installer.iso")" = "$before" ] || die "the USB stick changed during the install"

log "boot the installed system from its disk (OVMF, same NVRAM)"
mv "$SERIAL" "$T/install.log"
usb_boot_installed uefi "$T/target.raw" --efivars "$T/efivars.fd"
log "ok: installed from the USB stick under UEFI without network, booted; the stick is unchanged"
