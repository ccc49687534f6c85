#!/bin/bash
# LVM: install / onto a logical volume of a fixed size and /srv onto the
# `rest` volume of one volume group over a partition (a separate /boot
# partition: extlinux cannot read a logical volume), then boot the installed
# system: it reports (cloud-init runcmd, on the serial console) that / and
# /srv are /dev/mapper/vg0-* and the volumes' sizes, which must be the
# plan's. A second disk holding a filesystem is never written.
. "$(dirname "$0")/lib.sh"

MAC=52:54:00:12:34:58
cat > "$T/profiles/default.yaml" <<EOF
version: 1
hostname: lvm01
disk:
  select: { path: /dev/vda }
  firmware: bios
  partitions:
    - { size: 512MiB, fs: ext4, mount: /boot }
    - { size: rest, lvm: vg0 }
lvm:
  - name: vg0
    volumes:
      - { name: root, size: 2GiB, fs: ext4, mount: / }
      - { name: srv, size: rest, fs: ext4, mount: /srv, label: srv }
image:
  url: http://10.0.2.100/images/debian12.tar.zst
  sha256: "$(image_sha256)"
firstboot:
  runcmd:
    - echo "LVMCHECK root=\$(findmnt -no SOURCE /) srv=\$(findmnt -no SOURCE /srv) lvs=\$(lvs --noheadings --units b --nosuffix --separator = -o lv_name,lv_size vg0 | tr -d ' ' | tr '\n' ',') LVMCHECK-END" > /dev/ttyS0
EOF
# The plan's sizes on this 4 GiB disk (GPT): partition 1 is the BIOS boot
# partition (1 MiB at 1 MiB), 2 is /boot (512 MiB at 2 MiB), 3 the physical
# volume from 514 MiB to 4095 MiB (the last MiB is left for the GPT backup):
# 3581 MiB, less 1 MiB of LVM metadata = 895 extents of 4 MiB; root 2 GiB =
# 512 extents, srv the other 383 (1532 MiB). The host's plan must agree.
ROOT_BYTES=$((512 * 4 * 1024 * 1024))
SRV_BYTES=$((383 * 4 * 1024 * 1024))
python3 - "$ROOT/tests/data/inventory/one-blank-disk.json" > "$T/inventory.json" <<'PY'
import json, sys
inv = json.load(open(sys.argv[1]))
inv["disks"][0]["size_bytes"] = 4 << 30
print(json.dumps(inv))
PY
"$BUILD/installer/installer" plan --json --profile "$T/profiles/default.yaml" --inventory "$T/inventory.json" \
	> "$T/plan.json" || die "the host cannot plan the profile"
python3 - "$T/plan.json" "$ROOT_BYTES" "$SRV_BYTES" <<'PY' || die "the host's plan disagrees with the expected sizes"
import json, sys
p = json.load(open(sys.argv[1]))
lv = {v["name"]: v["size_bytes"] for v in p["lvm"][0]["volumes"]}
assert lv == {"root": int(sys.argv[2]), "srv": int(sys.argv[3])}, lv
PY

make_www "inst.finish=reboot"
link_image
make_disk "$T/target.raw" 4G
make_disk "$T/other.raw" 256M
/sbin/mke2fs -q -F -t ext4 -L other "$T/other.raw"
before=$(sha256sum < "$T/other.raw")

log "install: /boot on a partition, / and /srv on LVM (TCG)"
pxeboot --disk "$T/target.raw" --disk "$T/other.raw" --mac "$MAC" --mem 1024 --no-reboot --timeout 1500 \
	--fail-on "INSTALL FAILED" || die "the install did not finish"
expect_log "volume group vg0 on /dev/vda3"
expect_log "/dev/mapper/vg0-root: 2.0 GiB, ext4 for /"
expect_log "/dev/mapper/vg0-srv: rest: 1.5 GiB, ext4 for /srv"
expect_log "<== storage-config done"
# The demo image's initramfs was built after lvm2 was installed: not rebuilt.
expect_log "activates volume groups already, not rebuilt"
expect_log "volume group vg0 deactivated"
expect_log "INSTALL COMPLETE"
grep -E '^\[ *[0-9.]+\] <== [a-z-]+ done in' "$SERIAL" | sed 's/^/  phase: /'
[ "$(sha256sum < "$T/other.raw")" = "$before" ] || die "the second disk changed during the install"
mv "$SERIAL" "$T/install.log"

log "boot the installed system"
pxeboot --boot-disk --disk "$T/target.raw" --disk "$T/other.raw" --mac "$MAC" --mem 1024 \
	--timeout 900 --expect "LVMCHECK-END" || die "the installed system did not report"
line=$(grep -a 'LVMCHECK root=' "$SERIAL" | grep -v 'echo' | tail -1 | tr -d '\r')
log "$line"
want="LVMCHECK root=/dev/mapper/vg0-root srv=/dev/mapper/vg0-srv lvs=root=$ROOT_BYTES,srv=$SRV_BYTES, LVMCHECK-END"
[ "$line" = "$want" ] || die "expected: $want"
[ "$(sha256sum < "$T/other.raw")" = "$before" ] || die "the second disk changed"
log "ok: / and /srv on logical volumes of the planned sizes; the second disk is untouched"
