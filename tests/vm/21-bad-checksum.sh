#!/bin/bash
# A profile whose image sha256 is wrong: the install streams the image, finds
# the mismatch, says so clearly on the console, exits with status 7, and the
# disk does not boot (no bootloader was written).
. "$(dirname "$0")/lib.sh"

WRONG=$(image_sha256 | tr '0-9a-f' '1-9a-f0')
sed "s/@IMAGE_SHA256@/$WRONG/" "$ROOT/profiles/default.yaml" > "$T/profiles/default.yaml"
make_www "inst.finish=poweroff"
link_image
make_disk "$T/target.raw" 6G

pxeboot --disk "$T/target.raw" --timeout 900 || die "the guest did not power off"
expect_log "does not match its checksum"
expect_log "expected SHA-256 $WRONG"
expect_log "INSTALL FAILED (exit status 7)"
expect_log "INIT: installer exited with status 7"
expect_no_log "==> bootloader"

# The disk must not boot: SeaBIOS runs the install-in-progress mark's
# int 0x18 and moves on.
mv "$SERIAL" "$T/install.log"
if pxeboot --boot-disk --disk "$T/target.raw" --timeout 60 --expect "Linux version"; then
	die "a disk with a failed install booted a kernel"
fi
log "ok: checksum mismatch reported, exit 7, the disk does not boot"
