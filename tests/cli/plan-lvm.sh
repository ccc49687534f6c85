#!/bin/bash
# LVM in the plan, from a saved inventory (one-blank-disk.json: /dev/vda,
# 8 GiB, BIOS): the stack disk -> partition -> volume group -> logical
# volume -> filesystem -> mount in text and JSON, sizes in whole 4 MiB
# extents, and plan-time refusals (exit 4) with file:line:column.
. "$(dirname "$0")/lib.sh"
INV=$ROOT/tests/data/inventory
SHA=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

profile() { # FILE ROOT-SIZE SRV-SIZE
	cat > "$1" <<YAML
version: 1
hostname: lvm01
disk:
  partitions:
    - { size: 512MiB, fs: ext4, mount: /boot }
    - { size: rest, lvm: vg0 }
lvm:
  - name: vg0
    volumes:
      - { name: root, size: $2, fs: ext4, mount: / }
      - { name: swap, size: 10%, fs: swap }
      - { name: srv, size: $3, fs: xfs, mount: /srv, label: srv }
image: { url: http://h/i.tar.zst, sha256: $SHA }
YAML
}

# The PV is partition 3, 514 MiB .. 8191 MiB: 7677 MiB, 1 MiB of LVM
# metadata, 1919 extents; root 4 GiB = 1024, swap 10% = 191, srv the rest.
profile "$T/good.yaml" 4GiB rest
expect_rc 0 "$INSTALLER" plan --profile "$T/good.yaml" --inventory "$INV/one-blank-disk.json"
expect_in "$T/out" "3   514.0 MiB  7.5 GiB    lvm-pv    -     -          -  physical volume of vg0"
expect_in "$T/out" "LVM:       volume group vg0 = /dev/vda partition 3 (7.5 GiB): 1919 extents of 4 MiB = 7.5 GiB"
expect_in "$T/out" "-> /dev/mapper/vg0-root 4.0 GiB (1024 extents) -> ext4 at /"
expect_in "$T/out" "-> /dev/mapper/vg0-swap 764.0 MiB (191 extents) -> swap"
expect_in "$T/out" "-> /dev/mapper/vg0-srv rest: 2.8 GiB (704 extents) -> xfs at /srv, label srv"
expect_in "$T/out" "Boot:       extlinux on partition 2"
expect_rc 0 "$INSTALLER" plan --json --profile "$T/good.yaml" --inventory "$INV/one-blank-disk.json"
python3 - "$T/out" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
vg = p["lvm"][0]
assert vg["name"] == "vg0" and vg["physical_volumes"] == [{"disk": "/dev/vda", "partition": 3}], vg
assert vg["extents"] == 1919 and vg["extent_size_bytes"] == 4 << 20 and vg["size_exact"], vg
assert vg["pv_size_bytes"] == 7677 << 20, vg
v = {x["name"]: x for x in vg["volumes"]}
assert v["root"]["size_bytes"] == 4 << 30 and v["root"]["mount"] == "/" and v["root"]["devnode"] == "/dev/mapper/vg0-root", v
assert v["swap"]["extents"] == 191 and v["swap"]["fs"] == "swap", v
assert v["srv"]["rest"] and v["srv"]["extents"] == 1919 - 1024 - 191 and v["srv"]["fs"] == "xfs", v
parts = {x["number"]: x for x in p["partitions"]}
assert parts[3]["lvm"] == "vg0" and parts[3]["fs"] is None, parts
PY

# Volumes that do not fit: refused at plan time (exit 4), at the volume.
profile "$T/big.yaml" 6656MiB 600MiB
expect_rc 4 "$INSTALLER" plan --profile "$T/big.yaml" --inventory "$INV/one-blank-disk.json"
expect_in "$T/err" "$T/big.yaml:12:9: error: lvm[0].volumes[2]: the logical volumes of volume group vg0 do not fit: up to srv they need 2005 extents of 4 MiB"
expect_in "$T/err" "but the group has 1919 (7.5 GiB"

# Nothing left for rest.
profile "$T/full.yaml" 6912MiB rest
expect_rc 4 "$INSTALLER" plan --profile "$T/full.yaml" --inventory "$INV/one-blank-disk.json"
expect_in "$T/err" "$T/full.yaml:12:9: error: lvm[0].volumes[2]: nothing is left for srv (size: rest) in volume group vg0"

# Legacy BIOS: / on a logical volume needs a /boot partition.
cat > "$T/noboot.yaml" <<YAML
version: 1
hostname: lvm01
disk:
  partitions:
    - { size: rest, lvm: vg0 }
lvm:
  - name: vg0
    volumes:
      - { name: root, size: rest, fs: ext4, mount: / }
image: { url: http://h/i.tar.zst, sha256: $SHA }
YAML
expect_rc 4 "$INSTALLER" plan --profile "$T/noboot.yaml" --inventory "$INV/one-blank-disk.json"
expect_in "$T/err" "$T/noboot.yaml:7:5: error: lvm: legacy BIOS boot (extlinux) cannot read /boot from a logical volume"
# ... which UEFI can (the kernel is on the ESP).
expect_rc 0 "$INSTALLER" plan --profile "$T/noboot.yaml" --inventory "$INV/one-blank-disk-uefi.json"
expect_in "$T/out" "LVM:       volume group vg0 = /dev/vda partition 2"

# A volume group on a RAID1 array: its size is a lower bound (mdadm's
# metadata reserved), the stack shows disk -> array -> group -> volume.
cat > "$T/raid.yaml" <<YAML
version: 1
hostname: lvm01
disk:
  select: { serial: A }
  mirror: { select: { serial: B } }
  firmware: bios
  partitions:
    - { size: 512MiB, raid: md0 }
    - { size: rest, raid: md1 }
raid:
  - { name: md0, fs: ext4, mount: /boot }
  - { name: md1, lvm: vg0 }
lvm:
  - name: vg0
    volumes:
      - { name: root, size: 2GiB, fs: ext4, mount: / }
image: { url: http://h/i.tar.zst, sha256: $SHA }
YAML
expect_rc 0 "$INSTALLER" plan --profile "$T/raid.yaml" --inventory "$INV/two-identical.json"
expect_in "$T/out" "/dev/md1 RAID1 (mdadm, metadata 1.2) = /dev/vda partition 3 + /dev/vdb partition 3 (7.5 GiB each) -> physical volume of vg0"
expect_in "$T/out" "LVM:       volume group vg0 = /dev/md1 (7.4 GiB): 1885 extents of 4 MiB = 7.4 GiB at least (RAID metadata reserved)"
echo "ok"
