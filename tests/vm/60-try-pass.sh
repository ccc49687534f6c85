#!/bin/bash
# make try with a working profile (the demo profile, a template with
# @IMAGE_SHA256@): the one full install + boot test of the suite. PXE boot,
# install Debian from the demo image onto a blank 6 GiB virtio disk, reboot
# into the installed system, which must print the profile's first-boot
# marker (a cloud-init runcmd) on its serial console; a PASS verdict with the
# phase log, exit 0. A second disk holding a filesystem is attached the
# whole time and must be byte-identical afterwards (checked here by sha256,
# and by try.sh itself).
. "$(dirname "$0")/lib.sh"

[ -f "$BUILD/image/debian12.tar.zst" ] || die "no demo image: run 'make image' first"
make_disk "$T/other.raw" 512M
/sbin/mke2fs -q -F -t ext4 -L other "$T/other.raw"
echo "precious" | /sbin/debugfs -w -R "write /dev/stdin precious.txt" "$T/other.raw" >/dev/null 2>&1 || true
before=$(sha256sum < "$T/other.raw")

log "make try: PXE boot, install, boot the installed system (TCG)"
rc=0
"$ROOT/qemu/try.sh" --profile "$ROOT/profiles/default.yaml" --disks "6G $T/other.raw,serial=OTHER" \
	--expect "INSTALLED-SYSTEM-FIRSTBOOT-OK demo01" --out "$T/try" --timeout 1200 >"$T/try.out" 2>&1 || rc=$?
cat "$T/try.out"
SERIAL=$T/try/install.log
[ "$rc" = 0 ] || die "try exited with status $rc"
grep -q "^PASS: installed on /dev/vda and the installed system booted" "$T/try.out" || die "no PASS verdict"
grep -qE '^  \[ *[0-9.]+\] <== image done in' "$T/try.out" || die "the verdict's phase log lacks the image phase"
grep -q "^unchanged: disk 1 (sha256 " "$T/try.out" || die "try.sh did not check the other disk"
expect_log "<== image done"
expect_log "sha256 $(image_sha256) verified"
expect_log "<== bootloader done"
expect_log "INSTALL COMPLETE"
expect_log "INIT: installer exited with status 0"
SERIAL=$T/try/boot.log
expect_log "INSTALLED-SYSTEM-FIRSTBOOT-OK demo01"
[ "$(sha256sum < "$T/other.raw")" = "$before" ] || die "the second disk changed"
log "ok: PASS verdict; installed, booted, first-boot marker printed by the installed system; the other disk is untouched"
