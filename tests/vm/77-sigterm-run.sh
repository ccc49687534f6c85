#!/bin/bash
# SIGTERM during `installer run` unwinds like a failure (issue 11). A RAID1
# install (two disks, / on md0, an LVM volume group on md1) whose
# post_install sends SIGTERM to the installer ($PPID of the command) and then
# sleeps: the command is killed with its process group, the step fails, and
# the installer unmounts /mnt/target, deactivates vg0 and stops md0 and md1,
# reports the install's finish event with exit status 143 (128 + SIGTERM)
# and exits 143. rootfs/init then prints what is still set up: nothing. The
# bootloader step never ran: the disks' MBR boot code area still holds the
# install-in-progress mark (no boot code). A third
# disk holding a filesystem is byte-identical.
. "$(dirname "$0")/lib.sh"

MAC=52:54:00:12:34:77
cat > "$T/profiles/default.yaml" <<EOF
version: 1
hostname: sigterm01
disk:
  select: { serial: SIG-A }
  mirror: { select: { serial: SIG-B } }
  firmware: bios
  partitions:
    - { size: 2560MiB, raid: md0 }
    - { size: rest, raid: md1 }
raid:
  - { name: md0, level: 1, fs: ext4, mount: / }
  - { name: md1, level: 1, lvm: vg0 }
lvm:
  - name: vg0
    volumes:
      - { name: srv, size: rest, fs: ext4, mount: /srv }
image:
  url: http://10.0.2.100/images/debian12.tar.zst
  sha256: "$(image_sha256)"
post_install:
  - echo "SIGTERM-SENDER pid \$\$ sends SIGTERM to the installer (pid \$PPID)"; kill -TERM \$PPID; sleep 600
EOF
make_www "inst.finish=poweroff"
link_image
make_disk "$T/a.raw" 4G
make_disk "$T/b.raw" 4G
make_disk "$T/other.raw" 256M
/sbin/mke2fs -q -F -t ext4 -L other "$T/other.raw"
before=$(sha256sum < "$T/other.raw")
cleanup() { rm -f "$T/a.raw" "$T/b.raw" "$T/other.raw"; }
trap cleanup EXIT

log "RAID1 + LVM install whose post_install sends SIGTERM to the installer, TCG"
pxeboot --disk "$T/a.raw,serial=SIG-A" --disk "$T/b.raw,serial=SIG-B" --disk "$T/other.raw,serial=OTHER" \
	--mac "$MAC" --mem 1024 --no-reboot --timeout 1800 --fail-on "INSTALL COMPLETE" ||
	die "the guest did not power off after the interrupted install"
grep -a -E 'SIGTERM-SENDER|caught SIGTERM|stopped|INSTALL FAILED|exited with status|left set up' "$SERIAL" |
	grep -av 'echo "SIGTERM' | sed 's/^/  console: /' | tail -20
expect_log "SIGTERM-SENDER pid"
expect_log "installer: caught SIGTERM; stopping and undoing what was set up"
expect_log "INSTALL FAILED"
expect_log "INIT: installer exited with status 143"
expect_log "INIT: left set up: 0 mounts below /mnt/target, 0 md arrays, 0 dm mappings"
expect_no_log "INSTALL COMPLETE"
# The install's finish event with the signal's exit status.
grep -a '"phase":"install"' "$SERIAL" | grep -a '"type":"finish"' | grep -aq '"exit_status":143' ||
	die "no finish event of the install with exit status 143 on the console"
# No boot code: the MBR boot code area (the first 440 bytes) of both disks
# is still the install-in-progress mark (docs/installer.md), CRC intact.
for d in a b; do
	python3 - "$T/$d.raw" <<'PY' || die "disk $d: its boot code area is not the install-in-progress mark (boot code written?)"
import sys, zlib
b = open(sys.argv[1], "rb").read(440)
assert b[:5] == bytes([0xcd, 0x18, 0xf4, 0xeb, 0xfd]), b[:8].hex()
assert b[8:32] == b"BMI-INSTALL-IN-PROGRESS\0", b[8:32]
assert int.from_bytes(b[436:440], "little") == zlib.crc32(b[:436]), "CRC"
PY
done
[ "$(sha256sum < "$T/other.raw")" = "$before" ] || die "the third disk changed"
log "ok: SIGTERM mid-install: exit 143, finish event 143, nothing mounted, no md, no dm, the mark on both disks; other disk untouched"
