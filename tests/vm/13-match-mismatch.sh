#!/bin/bash
# The profile chosen for a machine says, in its match: block, which machine it
# is for; this machine's SMBIOS serial differs. The installer must stop before
# any write, say why (what the profile wants, what the machine has), and exit
# with status 8. Not a dry run: without the check it would install.
. "$(dirname "$0")/lib.sh"

sed "s/@IMAGE_SHA256@/$(image_sha256)/" "$ROOT/profiles/default.yaml" |
	sed 's/^hostname: demo01$/hostname: demo01\nmatch:\n  serial: SRV-EXPECTED\n  firmware: bios/' \
	> "$T/profiles/default.yaml"
grep -q "SRV-EXPECTED" "$T/profiles/default.yaml" || die "test setup: no match block"
make_www "inst.finish=poweroff"
link_image
make_disk "$T/disk.raw" 4G

pxeboot --disk "$T/disk.raw" --sys-serial SRV-OTHER --timeout 300 || die "the guest did not power off"
expect_log "match.serial"
expect_log "SRV-EXPECTED"
expect_log "SRV-OTHER"
expect_log "nothing was written to any disk"
expect_log "INIT: installer exited with status 8"
expect_no_log "==> wipe"
all_zero "$T/disk.raw" || die "the disk was written"
log "ok: match disagreement stopped the install before any write (exit 8)"
