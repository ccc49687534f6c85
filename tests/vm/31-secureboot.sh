#!/bin/bash
# Secure Boot: OVMF with Secure Boot enforcing and Microsoft's keys enrolled
# (OVMF_CODE_4M.secboot.fd + a copy of OVMF_VARS_4M.ms.fd, pxeboot.sh
# --firmware uefi-sb), three boots, one QEMU guest at a time:
#   1. network: the firmware's own PXE client (no iPXE ROM) fetches shim over
#      QEMU's TFTP, shim fetches Debian's signed GRUB, GRUB loads the
#      Debian-signed kernel and our initramfs over HTTP; the installer reaches
#      its plan (dry run) and reports Secure Boot on (inventory secure_boot).
#   2. the USB medium (rootfs/mkusb.sh: shim as EFI/BOOT/BOOTX64.EFI) under
#      the same firmware reaches its plan (dry run), Secure Boot on.
#   3. the same network boot with the kernel's signature removed: GRUB (through
#      shim's verifier) refuses it, no "Linux version" line appears.
# SB_CASES="net usb unsigned" picks cases (default: all three).
. "$(dirname "$0")/lib.sh"

SIGNED=$BUILD/secureboot
[ -s "$SIGNED/shimx64.efi" ] || die "no $SIGNED/shimx64.efi: run 'make secureboot' first"
[ -f /usr/share/OVMF/OVMF_CODE_4M.secboot.fd ] && [ -f /usr/share/OVMF/OVMF_VARS_4M.ms.fd ] ||
	die "OVMF's Secure Boot firmware not found (apt-get install ovmf)"
CASES=${SB_CASES:-net usb unsigned}
APPEND="inst.finish=poweroff inst.dryrun"
trap 'rm -f "$T"/*.raw "$T"/*.iso "$T"/www/vmlinuz "$T"/www/initrd.img' EXIT

cat >"$T/profiles/default.yaml" <<'YAML'
version: 1
hostname: sb-test
disk:
  select: { transport: virtio }
  partitions:
    - { size: 256MiB, fs: swap }
    - { size: rest, fs: ext4, mount: / }
image:
  url: http://10.0.2.100/images/debian12.tar.zst
  sha256: 0000000000000000000000000000000000000000000000000000000000000000
users:
  - name: admin
    password_hash: "!"
    ssh_authorized_keys: [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHYCnJ5PLuIoMsXW6YvbF6XJf2gLlFsp3JSy16PdpqyR test" ]
YAML

# The Secure Boot network tree: the boot tree plus shim, GRUB and grub.cfg.
sb_www() {
	make_www "$APPEND"
	"$ROOT/secureboot/mknet.sh" --signed "$SIGNED" --kernel "$T/www/vmlinuz" --initrd "$T/www/initrd.img" --boot-url http://10.0.2.100/ --out "$T/www" \
		--append "$APPEND no_timer_check" >/dev/null || die "secureboot/mknet.sh failed"
}

# sb_netboot TIMEOUT [pxeboot args]: the firmware's own PXE (no NIC ROM), shim as boot file.
sb_netboot() {
	local to=$1
	shift
	pxeboot --firmware uefi-sb --no-nic-rom --bootfile shimx64.efi --disk "$T/disk.raw" \
		--timeout "$to" "$@"
}

# The markers of a Secure Boot boot that reached the dry-run plan.
expect_sb_plan() {
	expect_log "Linux version"
	expect_log "Secure boot enabled"
	expect_log '"secure_boot": true'
	grep -qE '<== detect done .*: uefi firmware \(Secure Boot on\)' "$SERIAL" ||
		die "the installer did not report Secure Boot on"
	expect_log "<== plan done"
	expect_log "dry run: stopping after the plan"
	expect_log "INIT: installer exited with status 0"
	all_zero "$T/disk.raw" || die "the disk was written in a dry run"
}

for c in $CASES; do
	case "$c" in
	net)
		sb_www
		make_disk "$T/disk.raw" 3G
		log "1. network: PXE -> shim -> GRUB -> signed kernel + initramfs (OVMF Secure Boot, TCG)"
		sb_netboot 900 || die "the Secure Boot network boot did not power off in time"
		expect_log "installer: Secure Boot chain (shim, signed GRUB)"
		expect_log "installer: loading the initramfs"
		expect_sb_plan
		mv "$SERIAL" "$T/net.log"
		log "ok: network boot under Secure Boot reached the plan, Secure Boot on"
		;;
	usb)
		[ -f "$BUILD/image/debian12.tar.zst" ] || die "no demo image: run 'make image' first"
		sed 's/^hostname: .*/hostname: usb01/' "$ROOT/profiles/usb.yaml" >"$T/usb.yaml"
		"$ROOT/rootfs/mkusb.sh" --kernel "$BUILD/kernel/vmlinuz" --initrd "$BUILD/boot/initrd.img" \
			--profile "$T/usb.yaml" --image "$BUILD/image/debian12.tar.zst" \
			--installer "$BUILD/installer/installer" --signed "$SIGNED" \
			--append "inst.dryrun inst.finish=poweroff no_timer_check" --out "$T/installer.iso" >/dev/null ||
			die "rootfs/mkusb.sh failed"
		make_disk "$T/disk.raw" 6G
		log "2. USB medium: shim (EFI/BOOT/BOOTX64.EFI) -> GRUB -> signed kernel (OVMF Secure Boot, no network)"
		pxeboot --boot-disk --no-net --firmware uefi-sb --disk "$T/installer.iso,if=usb,serial=USBSTICK" \
			--disk "$T/disk.raw" --timeout 900 || die "the Secure Boot USB boot did not power off in time"
		expect_log "installer: Secure Boot chain (shim, signed GRUB) from this medium"
		expect_log "INIT: inst.medium=LABEL=BMI_INSTALL: installing from the boot medium"
		expect_sb_plan
		rm -f "$T/installer.iso"
		mv "$SERIAL" "$T/usb.log"
		log "ok: USB medium under Secure Boot reached the plan, Secure Boot on"
		;;
	unsigned)
		sb_www
		# The same kernel with its Authenticode signature removed.
		"$ROOT/secureboot/pe-unsign.py" "$BUILD/kernel/vmlinuz" "$T/www/vmlinuz.unsigned" ||
			die "could not strip the kernel's signature"
		mv "$T/www/vmlinuz.unsigned" "$T/www/vmlinuz"
		make_disk "$T/disk.raw" 3G
		log "3. network with an unsigned kernel: must be refused (OVMF Secure Boot, TCG)"
		sb_netboot 600 --expect "installer: boot FAILED" || die "no refusal of the unsigned kernel seen"
		expect_log "installer: loading the kernel"
		expect_no_log "Linux version"
		expect_no_log "installer: loading the initramfs"
		expect_log "error: bad shim signature"
		all_zero "$T/disk.raw" || die "the disk was written"
		mv "$SERIAL" "$T/unsigned.log"
		log "ok: the unsigned kernel was refused, no Linux started"
		;;
	*) die "unknown case $c (SB_CASES: net usb unsigned)" ;;
	esac
done
log "ok: Secure Boot cases passed: $CASES"
