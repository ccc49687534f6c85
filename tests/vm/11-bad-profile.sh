#!/bin/bash
# A bad profile served to a booting machine: the console names
# file:line:column for every error, the installer exits with status 3, and
# no disk is written (a disk holding data and a blank one are both checked).
. "$(dirname "$0")/lib.sh"

# Line 5 column 11: a size that is not a size; line 9: an unknown key.
cat > "$T/profiles/default.yaml" <<'YAML'
version: 1
hostname: bad-profile
disk:
  partitions:
    - size: lots
      mount: /
image:
  url: http://10.0.2.100/images/debian12.tar.zst
  sha265: 0000000000000000000000000000000000000000000000000000000000000000
YAML
make_www "inst.finish=poweroff"
make_disk "$T/blank.raw" 2G
make_disk "$T/data.raw" 1G
# Something worth keeping on the second disk.
/sbin/mke2fs -q -F -t ext4 -L keepme "$T/data.raw"
before=$(sha256sum < "$T/data.raw")

pxeboot --disk "$T/blank.raw" --disk "$T/data.raw" --timeout 300 || die "the guest did not power off in time"

expect_log "http://10.0.2.100/profiles/default.yaml:5:"
expect_log "disk.partitions[0].size"
expect_log "http://10.0.2.100/profiles/default.yaml:9:3"
expect_log "<!! validate FAILED"
expect_log "nothing was written to any disk"
expect_log "INIT: installer exited with status 3"
expect_no_log "==> plan"
all_zero "$T/blank.raw" || die "the blank disk was written"
[ "$(sha256sum < "$T/data.raw")" = "$before" ] || die "the data disk changed"
log "ok: errors with positions on the console, exit status 3, no disk written"
