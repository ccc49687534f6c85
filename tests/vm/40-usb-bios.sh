#!/bin/bash
# The installer medium under BIOS, with no network at all: a QEMU machine
# (SeaBIOS, -nic none) boots `make usb`'s hybrid ISO attached as a USB stick
# (qemu-xhci + usb-storage, writable), the installer finds the medium by its
# label, takes the profile and the OS image from it, never considers the stick
# as a target, and installs onto the blank virtio disk; then the installed
# system boots from that disk and prints its first-boot marker. The stick is
# byte-identical afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/usb.lib"

usb_build "$T/installer.iso"
make_disk "$T/target.raw" 6G
before=$(sha256sum <"$T/installer.iso")

log "install from the USB stick (SeaBIOS, no network, TCG); the guest reboots when done, which ends this QEMU run"
usb_boot bios "$T/installer.iso" "$T/target.raw" || die "the install from the medium did not finish"
usb_expect_install
[ "$(sha256sum <"$T/installer.iso")" = "$before" ] || die "the USB stick changed during the install"

log "boot the installed system from its disk"
mv "$SERIAL" "$T/install.log"
usb_boot_installed bios "$T/target.raw"
log "ok: installed from the USB stick without network, booted; the stick is unchanged"
