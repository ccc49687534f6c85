#!/bin/bash
# The only disk holds data (a partition table and a filesystem) and the
# profile does not allow wiping: the installer refuses it at plan time,
# explains why, exits with status 4, and the disk is byte-identical.
. "$(dirname "$0")/lib.sh"

sed "s/@IMAGE_SHA256@/$(image_sha256)/" "$ROOT/profiles/default.yaml" > "$T/profiles/default.yaml"
make_www "inst.finish=poweroff"
make_disk "$T/data.raw" 2G
/sbin/sfdisk -q "$T/data.raw" <<'SFDISK' >/dev/null
label: gpt
start=2048, size=1048576, type=linux, name=olddata
SFDISK
/sbin/mke2fs -q -F -t ext4 -L olddata -E offset=1048576 "$T/data.raw" 512M
before=$(sha256sum < "$T/data.raw")

pxeboot --disk "$T/data.raw" --timeout 300 || die "the guest did not power off"
expect_log "refusing to use /dev/vda: it holds data"
expect_log "set disk.wipe: true"
expect_log "INIT: installer exited with status 4"
expect_no_log "==> wipe"
[ "$(sha256sum < "$T/data.raw")" = "$before" ] || die "the disk changed"
log "ok: refused at plan time, exit 4, disk byte-identical"
