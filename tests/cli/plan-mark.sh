#!/bin/bash
# The install-in-progress mark end to end, from the bytes on a disk to the
# plan: a recorded machine (tests/data/sysroot/virtio-host: no SMBIOS UUID,
# one NIC 02:fc:00:00:00:01) whose /dev/vda is a sparse image file with a GPT
# and a mark written here by an independent encoder (python, the layout of
# docs/installer.md). `installer inventory --sysroot` reads the mark,
# `installer plan --sysroot` decides: this machine's unfinished install on
# this disk is redone without disk.wipe; a mark of another machine, another
# table, a table that changed since a mark from before the partition step,
# or a corrupt one changes nothing (refused, exit 4, as without it).
. "$(dirname "$0")/lib.sh"
SHA=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
S=$T/sysroot
cp -a "$ROOT/tests/data/sysroot/virtio-host" "$S"
mkdir -p "$S/dev"
DISK=$S/dev/vda
SIZE=274877906944 # /sys/block/vda/size of the recording
truncate -s "$SIZE" "$DISK"
printf 'label: gpt\nstart=2048, size=2097152, type=L\n' | /sbin/sfdisk -q "$DISK"
PTUUID=$(/sbin/blkid -p -s PTUUID -o value "$DISK")
[ -n "$PTUUID" ] || die "no PTUUID on the image"
printf 'version: 1\nhostname: m\nimage: {url: http://h/i.tar.zst, sha256: %s}\ndisk:\n  partitions:\n    - {size: rest, mount: /}\n' \
	"$SHA" > "$T/nowipe.yaml"

# mark MACHINE DISK_SIZE TABLE_ID PRIOR_TABLE_ID [corrupt]: bytes 0..439 of the image
mark() {
	python3 - "$DISK" "$@" <<'PY'
import struct, sys, zlib
disk, machine, size, table, prior = sys.argv[1:6]
b = bytearray(440)
b[0:8] = bytes([0xcd, 0x18, 0xf4, 0xeb, 0xfd, 0, 0, 0])      # int 0x18; hlt; jmp $-1
b[8:32] = b"BMI-INSTALL-IN-PROGRESS\0"
struct.pack_into("<HBB", b, 32, 2, 0, 0)                       # version, flags
struct.pack_into("<QQ", b, 40, 1796680203000000, int(size))    # 2026-12-07T21:50:03Z
b[56:56 + len(machine)] = machine.encode()
b[120:120 + len(table)] = table.encode()
b[184:184 + len(prior)] = prior.encode()
struct.pack_into("<I", b, 436, zlib.crc32(bytes(b[:436])))
if len(sys.argv) > 6:
    b[200] ^= 1                                                # corrupt
with open(disk, "r+b") as f:
    f.write(b)
PY
}
THIS=mac:02:fc:00:00:00:01

# No mark: the disk holds data, refused as ever.
expect_rc 4 "$INSTALLER" plan --profile "$T/nowipe.yaml" --sysroot "$S"
expect_in "$T/err" "refusing to use /dev/vda: it holds data (gpt partition table, 1 partition: vda1 (1.0 GiB)); set disk.wipe: true"

# This machine's mark, naming this table: redone without disk.wipe.
mark "$THIS" "$SIZE" "$PTUUID" "00000000-aaaa-bbbb-cccc-dddddddddddd"
expect_rc 0 "$INSTALLER" inventory --sysroot "$S"
python3 - "$T/out" "$THIS" "$SIZE" "$PTUUID" <<'PY'
import json, sys
inv = json.load(open(sys.argv[1]))
m = inv["disks"][0]["install_in_progress"]
assert m["started"] == "2026-12-07T21:50:03Z" and m["machine"] == sys.argv[2] \
    and m["disk_size"] == int(sys.argv[3]) and m["table_id"] == sys.argv[4] \
    and m["prior_table_id"] == "00000000-aaaa-bbbb-cccc-dddddddddddd", m
PY
expect_rc 0 "$INSTALLER" plan --profile "$T/nowipe.yaml" --sysroot "$S"
expect_in "$T/out" "  Wipe:       YES — /dev/vda holds this installer's unfinished install (started 2026-12-07T21:50:03Z): gpt partition table, 1 partition: vda1 (1.0 GiB); redone without disk.wipe"
expect_rc 0 "$INSTALLER" plan --json --profile "$T/nowipe.yaml" --sysroot "$S"
python3 - "$T/out" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["target"]
assert t["wipe"] is True and t["wipe_reason"] == "unfinished-install", t
PY
# The same through a saved inventory (plan --inventory, offline).
expect_rc 0 "$INSTALLER" inventory --sysroot "$S"
cp "$T/out" "$T/inv.json"
expect_rc 0 "$INSTALLER" plan --profile "$T/nowipe.yaml" --inventory "$T/inv.json"
expect_in "$T/out" "redone without disk.wipe"

# Before the partition step (no table id yet), on the table it found: still ours.
mark "$THIS" "$SIZE" "" "$PTUUID"
expect_rc 0 "$INSTALLER" plan --profile "$T/nowipe.yaml" --sysroot "$S"
expect_in "$T/out" "holds this installer's unfinished install"
# Before the partition step, and the disk's table changed since (cut during
# the wipe, then partitioned by another tool that kept the boot code): not
# trusted, the new data is protected.
mark "$THIS" "$SIZE" "" "00000000-aaaa-bbbb-cccc-dddddddddddd"
expect_rc 4 "$INSTALLER" plan --profile "$T/nowipe.yaml" --sysroot "$S"
expect_in "$T/err" "not this installer's unfinished install here: its partition table changed since the mark was written (it was 00000000-aaaa-bbbb-cccc-dddddddddddd, /dev/vda has $PTUUID); not trusted; set disk.wipe: true"
# The same when the disk had no table when the mark was written.
mark "$THIS" "$SIZE" "" ""
expect_rc 4 "$INSTALLER" plan --profile "$T/nowipe.yaml" --sysroot "$S"
expect_in "$T/err" "its partition table changed since the mark was written (it was none, /dev/vda has $PTUUID); not trusted"

# Another machine, another disk size, another table: not trusted.
mark mac:02:fc:00:00:00:02 "$SIZE" "$PTUUID" ""
expect_rc 4 "$INSTALLER" plan --profile "$T/nowipe.yaml" --sysroot "$S"
expect_in "$T/err" "it carries an install-in-progress mark (started 2026-12-07T21:50:03Z) that is not this installer's unfinished install here: written by machine mac:02:fc:00:00:00:02, this machine is $THIS; not trusted; set disk.wipe: true"
mark "$THIS" 1000000000 "$PTUUID" ""
expect_rc 4 "$INSTALLER" plan --profile "$T/nowipe.yaml" --sysroot "$S"
expect_in "$T/err" "written on a disk of 1000000000 bytes, /dev/vda has $SIZE; not trusted"
mark "$THIS" "$SIZE" "00000000-1111-2222-3333-444444444444" ""
expect_rc 4 "$INSTALLER" plan --profile "$T/nowipe.yaml" --sysroot "$S"
expect_in "$T/err" "it names partition table 00000000-1111-2222-3333-444444444444, /dev/vda has $PTUUID; not trusted"

# A corrupt mark is no mark: not in the inventory, refused as without one.
mark "$THIS" "$SIZE" "$PTUUID" "" corrupt
expect_rc 0 "$INSTALLER" inventory --sysroot "$S"
if grep -q install_in_progress "$T/out"; then die "a corrupt mark reached the inventory"; fi
expect_rc 4 "$INSTALLER" plan --profile "$T/nowipe.yaml" --sysroot "$S"
expect_in "$T/err" "it holds data (gpt partition table, 1 partition: vda1 (1.0 GiB)); set disk.wipe: true"
echo ok
