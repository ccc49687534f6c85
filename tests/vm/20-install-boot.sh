#!/bin/bash
# The install path end to end: PXE boot, install Debian from the demo image
# onto the blank virtio disk, reboot into the installed system, which must
# itself print the profile's first-boot marker (a cloud-init runcmd) on its
# serial console. A second disk holding a filesystem is attached the whole
# time and must be byte-identical afterwards.
. "$(dirname "$0")/lib.sh"

MAC=52:54:00:12:34:56
sed "s/@IMAGE_SHA256@/$(image_sha256)/" "$ROOT/profiles/default.yaml" > "$T/profiles/default.yaml"
make_www "inst.finish=reboot"
link_image
make_disk "$T/target.raw" 6G
make_disk "$T/other.raw" 512M
/sbin/mke2fs -q -F -t ext4 -L other "$T/other.raw"
echo "precious" | /sbin/debugfs -w -R "write /dev/stdin precious.txt" "$T/other.raw" >/dev/null 2>&1 || true
before=$(sha256sum < "$T/other.raw")

log "install (PXE, TCG); the guest reboots when done, which ends this QEMU run"
pxeboot --disk "$T/target.raw" --disk "$T/other.raw" --mac "$MAC" --mem 1024 --no-reboot \
	--timeout 900 --fail-on "INSTALL FAILED" || die "the install did not finish"
expect_log "<== image done"
expect_log "sha256 $(image_sha256) verified"
expect_log "<== bootloader done"
expect_log "INSTALL COMPLETE"
expect_log "INIT: installer exited with status 0"
grep -E '^\[ *[0-9.]+\] <== [a-z-]+ done in' "$SERIAL" | sed 's/^/  phase: /'
[ "$(sha256sum < "$T/other.raw")" = "$before" ] || die "the second disk changed during the install"

log "boot the installed system from its disk"
mv "$SERIAL" "$T/install.log"
pxeboot --boot-disk --disk "$T/target.raw" --disk "$T/other.raw" --mac "$MAC" --mem 1024 \
	--timeout 600 --expect "INSTALLED-SYSTEM-FIRSTBOOT-OK demo01" || die "the installed system did not reach its first-boot marker"
[ "$(sha256sum < "$T/other.raw")" = "$before" ] || die "the second disk changed"
log "ok: installed, booted, first-boot marker printed by the installed system; the other disk is untouched"
