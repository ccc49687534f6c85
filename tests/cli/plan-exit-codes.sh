#!/bin/bash
# `installer plan` and `validate` exit codes mean what docs/installer.md says,
# and errors name file:line:column.
. "$(dirname "$0")/lib.sh"
INV=$ROOT/tests/data/inventory
SHA=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

cat > "$T/good.yaml" <<YAML
version: 1
hostname: good
disk:
  partitions:
    - { size: rest, mount: / }
image: { url: http://h/i.tar.zst, sha256: $SHA }
YAML
expect_rc 0 "$INSTALLER" plan --profile "$T/good.yaml" --inventory "$INV/one-blank-disk.json"
expect_in "$T/out" "Target:     /dev/vda"
expect_rc 0 "$INSTALLER" plan --json --profile "$T/good.yaml" --inventory "$INV/one-blank-disk.json"
python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert p["target"]["devnode"]=="/dev/vda", p' "$T/out"

# 3: invalid profile (every error reported, with positions)
cat > "$T/bad.yaml" <<YAML
version: 1
hostname: -bad-
disk:
  partitions:
    - { size: rest, mount: / }
image: { url: http://h/i.tar.zst, sha256: $SHA, colour: blue }
YAML
expect_rc 3 "$INSTALLER" plan --profile "$T/bad.yaml" --inventory "$INV/one-blank-disk.json"
expect_in "$T/err" "$T/bad.yaml:2:11:"
expect_in "$T/err" "$T/bad.yaml:6:"
expect_rc 3 "$INSTALLER" validate "$T/bad.yaml"

# 4: valid profile, no valid plan (the disk holds data, no permission to wipe)
expect_rc 4 "$INSTALLER" plan --profile "$T/good.yaml" --inventory "$INV/disk-with-data.json"
expect_in "$T/err" "disk.wipe"
expect_in "$T/err" "holds data"

# 2: usage errors
expect_rc 2 "$INSTALLER" plan --inventory "$INV/one-blank-disk.json"
expect_rc 2 "$INSTALLER" frobnicate
echo '{"format": 1, "firmware": "coreboot"}' > "$T/inv.json"
expect_rc 2 "$INSTALLER" plan --profile "$T/good.yaml" --inventory "$T/inv.json"
expect_in "$T/err" "$T/inv.json:1:"

# help and version
expect_rc 0 "$INSTALLER" --help
expect_in "$T/out" "Exit status"
expect_rc 0 "$INSTALLER" version
echo ok
