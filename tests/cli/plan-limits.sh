#!/bin/bash
# Limits and size arithmetic, all decided by `installer plan` before
# anything is written: sizes near 2^64 are refused at their profile entry
# (never wrapped into a small or 0-byte partition, never a logical volume of
# 0 extents that lvcreate would make 100%FREE); a table's capacity counts
# the automatic boot partition; what apply can carry out (40 arrays, mounts
# 20 levels deep, 256 logical volumes) is planned with every volume in the
# JSON "volumes" list and the mount order; what it cannot is refused with
# FILE:LINE:COL (exit 4; exit 3 when the profile itself is invalid).
. "$(dirname "$0")/lib.sh"
INV=$ROOT/tests/data/inventory
SHA=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
IMAGE="image: { url: http://h/i.tar.zst, sha256: $SHA }"

# partitions FILE LINE...: a profile whose disk.partitions are the lines.
partitions() {
	local f=$1; shift
	{ printf 'version: 1\nhostname: lim01\ndisk:\n  partitions:\n'
	  for l in "$@"; do printf '    - %s\n' "$l"; done
	  echo "$IMAGE"; } > "$f"
}

# case NAME RC INVENTORY PROFILE MESSAGE...: plan exits RC and, for RC > 0,
# every MESSAGE is on stderr.
case_() {
	local name=$1 rc=$2 inv=$3 prof=$4; shift 4
	expect_rc "$rc" "$INSTALLER" plan --profile "$prof" --inventory "$INV/$inv"
	for m in "$@"; do expect_in "$T/err" "$m"; done
	echo "ok: $name"
}

# ---- sizes near 2^64 ---------------------------------------------------------
partitions "$T/max.yaml" "{ size: 18446744073709551615, fs: swap }" "{ size: rest, fs: ext4, mount: / }"
case_ "2^64-1 bytes" 4 one-blank-disk-uefi.json "$T/max.yaml" \
	"$T/max.yaml:5:7: error: disk.partitions[0].size: size 18446744073709551615 bytes (beyond 2^64 bytes once aligned to 1 MiB)"
partitions "$T/mib.yaml" "{ size: 17592186044415M, fs: ext4, mount: / }"
case_ "17592186044415M next to the ESP" 4 one-blank-disk-uefi.json "$T/mib.yaml" \
	"$T/mib.yaml:5:7: error: disk.partitions[0].size:" "the layout is larger than the disk"
case_ "17592186044415M next to the BIOS boot partition" 4 one-blank-disk.json "$T/mib.yaml" \
	"$T/mib.yaml:5:7: error: disk.partitions[0].size:"
case_ "17592186044415M next to the ESP on a 16 EiB disk" 4 limits-huge-disk.json "$T/mib.yaml" \
	"$T/mib.yaml:5:7: error: disk.partitions[0].size:"
partitions "$T/halves.yaml" "{ size: 9223372036854775808, fs: ext4, mount: / }" "{ size: 9223372036854775808, fs: ext4, mount: /srv }"
case_ "two halves of 2^64" 4 limits-huge-disk.json "$T/halves.yaml" \
	"$T/halves.yaml:6:7: error: disk.partitions: the partitions need 16384.0 PiB" "the layout is larger than the disk"
partitions "$T/root.yaml" "{ size: rest, fs: ext4, mount: / }"
case_ "a 512 KiB disk" 4 limits-tiny-disk.json "$T/root.yaml" "$T/root.yaml:4:3: error: disk: disk /dev/vda is too small"

cat > "$T/lv.yaml" <<YAML
version: 1
hostname: lim01
disk:
  partitions:
    - { size: 512MiB, fs: ext4, mount: /boot }
    - { size: rest, lvm: vg0 }
lvm:
  - name: vg0
    volumes:
      - { name: root, size: 2GiB, fs: ext4, mount: / }
      - { name: huge, size: 18446744073709551615, fs: ext4, mount: /huge }
$IMAGE
YAML
case_ "a logical volume of 2^64-1 bytes" 4 one-blank-disk.json "$T/lv.yaml" \
	"$T/lv.yaml:11:9: error: lvm[0].volumes[1]: the logical volumes of volume group vg0 do not fit: up to huge they need 4398046511616 extents"
sed -i 's/size: rest, lvm: vg0/size: 100MiB, lvm: vg0 }\n    - { size: rest, fs: xfs, mount: \/data/; s/size: 2GiB/size: 1%/' "$T/lv.yaml"
sed -i '/name: huge/d' "$T/lv.yaml"
case_ "1% of a 24-extent group" 4 one-blank-disk.json "$T/lv.yaml" \
	"$T/lv.yaml:11:9: error: lvm[0].volumes[0]: root: 1% of the 24 extents of 4 MiB of volume group vg0 is less than one extent"

# ---- the partition table's capacity -----------------------------------------
many() { # FILE N: / and N-1 more partitions of 1 MiB
	local f=$1 n=$2 l=("{ size: 1GiB, fs: ext4, mount: / }")
	for ((i = 1; i < n; i++)); do l+=("{ size: 1MiB, fs: ext4, mount: /p$i }"); done
	partitions "$f" "${l[@]}"
}
many "$T/p200.yaml" 200
case_ "200 partitions (the profile's own check)" 3 one-blank-disk.json "$T/p200.yaml" \
	"$T/p200.yaml:133:7: error: disk.partitions[128]: a GPT partition table holds at most 128 partitions"
many "$T/p128.yaml" 128
case_ "128 partitions and the ESP" 4 one-blank-disk-uefi.json "$T/p128.yaml" \
	"$T/p128.yaml:132:7: error: disk.partitions: a gpt partition table holds at most 128 partitions and the EFI system partition added for UEFI is one of them"
case_ "128 partitions and the BIOS boot partition" 4 one-blank-disk.json "$T/p128.yaml" \
	"disk.partitions[127] would be number 129"
many "$T/p127.yaml" 127
case_ "127 partitions and the ESP" 0 one-blank-disk-uefi.json "$T/p127.yaml"
expect_rc 0 "$INSTALLER" plan --json --profile "$T/p127.yaml" --inventory "$INV/one-blank-disk-uefi.json"
python3 - "$T/out" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
parts = [v for v in p["volumes"] if v["kind"] == "partition"]
assert len(parts) == 128 and [v["id"] for v in parts] == ["partition:%d" % n for n in range(1, 129)], parts[:3]
assert len(p["partitions"]) == 128
PY

# ---- 40 RAID1 arrays: planned, every array in the volume list ----------------
{ printf 'version: 1\nhostname: lim01\ndisk:\n  select: { serial: A }\n  mirror: { select: { serial: B } }\n  firmware: bios\n  partitions:\n'
  printf '    - { size: 1GiB, raid: md0 }\n'
  for ((i = 1; i < 40; i++)); do printf '    - { size: 16MiB, raid: md%d }\n' $i; done
  printf 'raid:\n  - { name: md0, fs: ext4, mount: / }\n'
  for ((i = 1; i < 40; i++)); do printf '  - { name: md%d, fs: ext4, mount: /a%d }\n' $i $i; done
  echo "$IMAGE"; } > "$T/md40.yaml"
case_ "40 RAID1 arrays" 0 two-identical.json "$T/md40.yaml"
expect_rc 0 "$INSTALLER" plan --json --profile "$T/md40.yaml" --inventory "$INV/two-identical.json"
python3 - "$T/out" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
md = [v for v in p["volumes"] if v["kind"] == "raid"]
assert len(md) == 40 and len(p["raid"]) == 40, len(md)
ids = [v["id"] for v in p["volumes"]]
for v in md:   # each array sits on its member partition, listed before it
    assert len(v["on"]) == 1 and ids.index(v["on"][0]) < ids.index(v["id"]), v
assert len(set(ids)) == len(ids)
assert p["mount_order"][0] == "raid:md0" and len(p["mount_order"]) == 40, p["mount_order"]
PY
echo "ok: 40 arrays in the volume list"

# ---- mount depth: any depth, parents first -----------------------------------
deep=/d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/d15/d16/d17/d18/d19/d20
partitions "$T/deep.yaml" "{ size: 1GiB, fs: ext4, mount: $deep }" "{ size: 1GiB, fs: ext4, mount: /d1 }" \
	"{ size: rest, fs: ext4, mount: / }"
case_ "a mount 20 levels deep" 0 one-blank-disk.json "$T/deep.yaml"
expect_rc 0 "$INSTALLER" plan --json --profile "$T/deep.yaml" --inventory "$INV/one-blank-disk.json"
python3 - "$T/out" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
by_id = {v["id"]: v for v in p["volumes"]}
order = [by_id[i]["mount"] for i in p["mount_order"]]
assert order == ["/", "/d1", "/d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/d15/d16/d17/d18/d19/d20"], order
PY
echo "ok: mount order"
long=$(printf 'x%.0s' {1..300})
partitions "$T/name.yaml" "{ size: 1GiB, fs: ext4, mount: /srv/$long }" "{ size: rest, fs: ext4, mount: / }"
case_ "a 300-byte mount point component" 4 one-blank-disk.json "$T/name.yaml" \
	"$T/name.yaml:5:7: error: disk.partitions[0]: mount point /srv/xxx" "has a component of 300 bytes; at most 255 are allowed"
path=$(for ((i = 0; i < 20; i++)); do printf '/%s' "$(printf 'y%.0s' {1..200})"; done)
partitions "$T/path.yaml" "{ size: rest, fs: ext4, mount: / }" "{ size: 1GiB, fs: ext4, mount: $path }"
case_ "a 4020-byte mount point" 4 one-blank-disk.json "$T/path.yaml" \
	"$T/path.yaml:6:7: error: disk.partitions[1]: mount point" "is 4020 bytes long; at most 3968 are supported"

# ---- logical volumes per group -----------------------------------------------
lvs() { # FILE N
	{ printf 'version: 1\nhostname: lim01\ndisk:\n  partitions:\n    - { size: 512MiB, fs: ext4, mount: /boot }\n'
	  printf '    - { size: rest, lvm: vg0 }\nlvm:\n  - name: vg0\n    volumes:\n'
	  printf '      - { name: root, size: 1GiB, fs: ext4, mount: / }\n'
	  for ((i = 1; i < $2; i++)); do printf '      - { name: v%d, size: 4MiB, fs: none }\n' $i; done
	  echo "$IMAGE"; } > "$1"
}
lvs "$T/lv256.yaml" 256
case_ "256 logical volumes" 0 one-blank-disk.json "$T/lv256.yaml"
lvs "$T/lv257.yaml" 257
case_ "257 logical volumes" 4 one-blank-disk.json "$T/lv257.yaml" \
	"$T/lv257.yaml:266:9: error: lvm[0].volumes[256]: volume group vg0 has more than 256 logical volumes"
echo "ok"
