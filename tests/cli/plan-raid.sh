#!/bin/bash
# RAID1 (disk.mirror + raid:) in the plan, from saved inventories: the
# mirror disk is chosen by its own select (never the target, never the boot
# medium), the whole stack is printed, and plan-time refusals name the disks
# and sizes: members of different sizes, a layout larger than the disks,
# /boot off the arrays, references to arrays that do not exist.
. "$(dirname "$0")/lib.sh"
INV=$ROOT/tests/data/inventory
SHA=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

profile() { # FILE ROOT-SIZE [MIRROR-SELECT]
	cat > "$1" <<YAML
version: 1
hostname: raid01
disk:
  select: { serial: A }
  mirror: { select: ${3:-"{ serial: B }"} }
  firmware: bios
  partitions:
    - { size: 512MiB, raid: md0 }
    - { size: $2, raid: md1 }
raid:
  - { name: md0, fs: ext4, mount: /boot }
  - { name: md1, fs: ext4, mount: /, label: root }
image: { url: http://h/i.tar.zst, sha256: $SHA }
YAML
}

# A good plan: both disks, both arrays, the boot array with metadata 1.0.
profile "$T/good.yaml" rest
expect_rc 0 "$INSTALLER" plan --profile "$T/good.yaml" --inventory "$INV/two-identical.json"
expect_in "$T/out" "Target:     /dev/vda"
expect_in "$T/out" "Mirror:     /dev/vdb"
expect_in "$T/out" "gpt (on both disks)"
expect_in "$T/out" "member of md0"
expect_in "$T/out" "/dev/md0 RAID1 (mdadm, metadata 1.0: extlinux boots from either member) = /dev/vda partition 2 + /dev/vdb partition 2"
expect_in "$T/out" "/dev/md1 RAID1 (mdadm, metadata 1.2) = /dev/vda partition 3 + /dev/vdb partition 3"
expect_rc 0 "$INSTALLER" plan --json --profile "$T/good.yaml" --inventory "$INV/two-identical.json"
python3 - "$T/out" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
assert p["mirror"]["devnode"] == "/dev/vdb", p["mirror"]
r = {a["name"]: a for a in p["raid"]}
assert r["md0"]["metadata"] == "1.0" and r["md0"]["holds_boot"] and r["md0"]["mount"] == "/boot", r
assert r["md1"]["metadata"] == "1.2" and r["md1"]["disks"] == ["/dev/vda", "/dev/vdb"], r
parts = {x["number"]: x for x in p["partitions"]}
assert parts[2]["raid"] == "md0" and parts[3]["raid"] == "md1", parts
PY

# Members of different sizes beyond the 1% tolerance: both disks and sizes named.
expect_rc 4 "$INSTALLER" plan --profile "$T/good.yaml" --inventory "$INV/two-different-sizes.json"
expect_in "$T/err" "$T/good.yaml:5:"
expect_in "$T/err" "differ in size beyond the 1% tolerance"
expect_in "$T/err" "/dev/vda has 8.0 GiB (8589934592 bytes)"
expect_in "$T/err" "/dev/vdb has 10.0 GiB (10737418240 bytes)"

# A layout larger than the disks.
profile "$T/big.yaml" 9GiB
expect_rc 4 "$INSTALLER" plan --profile "$T/big.yaml" --inventory "$INV/two-identical.json"
expect_in "$T/err" "larger than the disk"

# The mirror is never the target: a select that matches only the target.
profile "$T/self.yaml" rest "{ serial: A }"
expect_rc 4 "$INSTALLER" plan --profile "$T/self.yaml" --inventory "$INV/two-identical.json"
expect_in "$T/err" "no disk matches for the mirror"
expect_in "$T/err" "/dev/vda: the target disk (disk.select)"

# ... nor the installer's boot medium, even when named by path.
sed -e 's/serial: A/serial: 2130311A0001/' -e 's/{ serial: B }/{ path: \/dev\/sdc }/' \
	-e 's/firmware: bios/firmware: bios/' "$T/good.yaml" > "$T/usb.yaml"
expect_rc 4 "$INSTALLER" plan --profile "$T/usb.yaml" --inventory "$INV/usb-boot-medium.json"
expect_in "$T/err" "/dev/sdc: the installer's boot medium"

# /boot must be on an array, or the second disk cannot boot alone.
cat > "$T/noboot.yaml" <<YAML
version: 1
hostname: raid01
disk:
  select: { serial: A }
  mirror: { select: { serial: B } }
  firmware: bios
  partitions:
    - { size: 512MiB, fs: ext4, mount: /boot }
    - { size: rest, raid: md1 }
raid:
  - { name: md1, fs: ext4, mount: / }
image: { url: http://h/i.tar.zst, sha256: $SHA }
YAML
expect_rc 4 "$INSTALLER" plan --profile "$T/noboot.yaml" --inventory "$INV/two-identical.json"
expect_in "$T/err" "must be on a RAID1 array, so that either disk boots alone"

# Profile errors (exit 3) with positions: an array nobody defined, RAID
# without a second disk, a member with a filesystem of its own.
cat > "$T/bad.yaml" <<YAML
version: 1
hostname: raid01
disk:
  partitions:
    - { size: 512MiB, raid: md7 }
    - { size: rest, raid: md1, fs: ext4 }
raid:
  - { name: md1, fs: ext4, mount: / }
  - { name: raid9, level: 5, mount: /srv }
image: { url: http://h/i.tar.zst, sha256: $SHA }
YAML
expect_rc 3 "$INSTALLER" plan --profile "$T/bad.yaml" --inventory "$INV/two-identical.json"
expect_in "$T/err" "$T/bad.yaml:6:32: error: disk.partitions[1].fs: a partition with 'raid' holds no filesystem of its own"
expect_in "$T/err" "$T/bad.yaml:9:13: error: raid[1].name: invalid RAID array name 'raid9'"
expect_in "$T/err" "$T/bad.yaml:9:27: error: raid[1].level: unsupported RAID level '5'"
expect_in "$T/err" "disk.partitions[0].raid: no RAID array 'md7' in the raid: section"
expect_in "$T/err" "disk.partitions[1].raid: RAID1 needs a second disk: add disk.mirror.select"
echo "ok"
