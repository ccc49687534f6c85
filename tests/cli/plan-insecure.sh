#!/bin/bash
# image.insecure_no_checksum: the plan says loudly that the image will not be
# verified; without the switch a missing sha256 is an invalid profile.
. "$(dirname "$0")/lib.sh"
INV=$ROOT/tests/data/inventory

cat > "$T/insecure.yaml" <<YAML
version: 1
hostname: lab01
disk:
  partitions:
    - { size: rest, mount: / }
image:
  url: https://user:S3cr3t@h/i.tar.zst?token=T0K3N
  insecure_no_checksum: true
users:
  - name: root
    password: CorrectHorse42
    hash_password: true
YAML
expect_rc 0 "$INSTALLER" plan --profile "$T/insecure.yaml" --inventory "$INV/one-blank-disk.json"
expect_in "$T/out" "WARNING: image checksum not verified (insecure_no_checksum)"
expect_in "$T/out" "Image:      https://h/i.tar.zst"
for secret in S3cr3t T0K3N CorrectHorse42 '$y$'; do
	! grep -qF -- "$secret" "$T/out" "$T/err" || die "plan output shows '$secret'"
done
expect_rc 0 "$INSTALLER" plan --json --profile "$T/insecure.yaml" --inventory "$INV/one-blank-disk.json"
python3 -c 'import json,sys; i=json.load(open(sys.argv[1]))["image"]; assert i["sha256"] is None and i["insecure_no_checksum"] is True, i' "$T/out"

sed '/insecure_no_checksum/d' "$T/insecure.yaml" > "$T/nosha.yaml"
expect_rc 3 "$INSTALLER" plan --profile "$T/nosha.yaml" --inventory "$INV/one-blank-disk.json"
expect_in "$T/err" "image.sha256: missing required key 'sha256'"
echo ok
