#!/bin/bash
# Reinstall plans against a saved inventory (tests/data/inventory/reinstall-srv.json:
# vda3 is an ext4 "srv" partition of 4 GiB at 3 GiB): what is kept and what is
# destroyed, and the plan-time refusals (exit 4) with FILE:LINE:COL:
# a layout that would move or shrink a preserved partition, a preserved
# partition that does not exist or is ambiguous, and a layout larger than the disk.
. "$(dirname "$0")/lib.sh"
INV=$ROOT/tests/data/inventory
SHA=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

profile() { # NAME WIPE PARTITION-LINES...
	local name=$1 wipe=$2
	shift 2
	{
		printf 'version: 1\nhostname: re\nimage: {url: http://h/i.tar.zst, sha256: %s}\n' "$SHA"
		printf 'disk:\n  wipe: %s\n  partitions:\n' "$wipe"
		printf '    - %s\n' "$@"
	} > "$T/$name.yaml"
}

# The plan keeps vda3 where it is and says what goes.
profile keep true "{size: 1GiB, fs: swap}" "{size: rest, mount: /}" "{preserve: {label: srv}, mount: /srv}"
expect_rc 0 "$INSTALLER" plan --profile "$T/keep.yaml" --inventory "$INV/reinstall-srv.json"
expect_in "$T/out" "Keep:       /dev/vda: vda3 (4.0 GiB ext4 label srv) mounted on /srv"
expect_in "$T/out" "destroyed on /dev/vda: partitions vda1 (1.0 MiB), vda2 (3.0 GiB ext4 label old-root), vda4 (1023.0 MiB swap)"
expect_in "$T/out" "3   3.0 GiB    4.0 GiB    preserved ext4  /srv       KEPT vda3"
expect_rc 0 "$INSTALLER" plan --json --profile "$T/keep.yaml" --inventory "$INV/reinstall-srv.json"
python3 - "$T/out" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
assert p["target"]["keep_table"] is True, p["target"]
kept = [x for x in p["partitions"] if x["preserve"]]
assert len(kept) == 1 and kept[0]["number"] == 3 and kept[0]["start_bytes"] == 3 << 30 \
    and kept[0]["size_bytes"] == 4 << 30 and kept[0]["fs_uuid"] == "5f3c2a1b-0d9e-4f8a-9b7c-6d5e4f3a2b1c", kept
root = [x for x in p["partitions"] if x["mount"] == "/"][0]
assert root["start_bytes"] + root["size_bytes"] == 3 << 30, root
PY

# Replacing the other partitions needs wipe: true.
profile nowipe false "{size: rest, mount: /}" "{preserve: {label: srv}, mount: /srv}"
expect_rc 4 "$INSTALLER" plan --profile "$T/nowipe.yaml" --inventory "$INV/reinstall-srv.json"
expect_in "$T/err" "$T/nowipe.yaml:5:3: error: disk.wipe: refusing to use /dev/vda"
expect_in "$T/err" "set disk.wipe: true to replace them (kept: vda3"

# Would move: 1 GiB + 3 GiB before a partition that starts at 3 GiB.
profile move true "{size: 1GiB, fs: swap}" "{size: 3GiB, mount: /}" "{preserve: {label: srv}, mount: /srv}"
expect_rc 4 "$INSTALLER" plan --profile "$T/move.yaml" --inventory "$INV/reinstall-srv.json"
expect_in "$T/err" "$T/move.yaml:9:18: error: disk.partitions[2].preserve: the preserved partition vda3 starts at 3.0 GiB and is 4.0 GiB long (3221225472 + 4294967296 bytes)"
expect_in "$T/err" "disk.partitions[1] (/) would take 1.0 GiB to 4.0 GiB"

# Would shrink.
profile shrink true "{size: rest, mount: /}" "{preserve: {number: 3}, size: 2GiB, mount: /srv}"
expect_rc 4 "$INSTALLER" plan --profile "$T/shrink.yaml" --inventory "$INV/reinstall-srv.json"
expect_in "$T/err" "$T/shrink.yaml:8:7: error: disk.partitions[1].size: the preserved partition vda3 is 4.0 GiB"
expect_in "$T/err" "would shrink it"

# Does not exist; ambiguous.
profile missing true "{size: rest, mount: /}" "{preserve: {uuid: 0000-1111}, mount: /srv}"
expect_rc 4 "$INSTALLER" plan --profile "$T/missing.yaml" --inventory "$INV/reinstall-srv.json"
expect_in "$T/err" "$T/missing.yaml:8:18: error: disk.partitions[1].preserve: no partition of /dev/vda has the filesystem UUID 0000-1111"
profile twin true "{size: rest, mount: /}" "{preserve: {label: srv}, mount: /srv}"
expect_rc 4 "$INSTALLER" plan --profile "$T/twin.yaml" --inventory "$INV/reinstall-two-srv.json"
expect_in "$T/err" "2 partitions of /dev/vda have the filesystem label 'srv' (vda2, vda3)"

# Larger than the disk, with and without preserved partitions.
profile big true "{size: rest, mount: /}" "{preserve: {label: srv}, mount: /srv}" "{size: 2GiB, fs: swap}"
expect_rc 4 "$INSTALLER" plan --profile "$T/big.yaml" --inventory "$INV/reinstall-srv.json"
expect_in "$T/err" "$T/big.yaml:9:7: error: disk.partitions: the partitions after the preserved partition vda3"
expect_in "$T/err" "the layout is larger than the disk"
profile big2 false "{size: 6GiB, fs: swap}" "{size: 50%, mount: /}"
expect_rc 4 "$INSTALLER" plan --profile "$T/big2.yaml" --inventory "$INV/one-blank-disk.json"
expect_in "$T/err" "$T/big2.yaml:8:7: error: disk.partitions: the partitions need 10.0 GiB but /dev/vda has"
expect_in "$T/err" "the layout is larger than the disk"

# Profile errors (exit 3): preserve cannot be the new root, keeps its fs.
profile bad true "{size: rest, mount: /}" "{preserve: {label: srv}, mount: /, fs: ext4}"
expect_rc 3 "$INSTALLER" validate "$T/bad.yaml"
expect_in "$T/err" "$T/bad.yaml:8:39: error: disk.partitions[1].mount: '/' cannot be a preserved partition"
expect_in "$T/err" "$T/bad.yaml:8:46: error: disk.partitions[1].fs: a preserved partition keeps its filesystem"
echo ok
