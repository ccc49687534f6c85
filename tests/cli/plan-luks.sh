#!/bin/bash
# LUKS2 (luks: on a partition) in the plan and in `installer run --dry-run`:
# the stack partition -> LUKS2 -> filesystem -> mount is printed with the key
# URL redacted; / and /boot on LUKS are refused at plan time (4) with the
# position; the key file is fetched and checked before anything is written:
# missing (5), wrong key_sha256 (7), an unreachable URL with credentials (5);
# the key's text and the URL's credentials and query are never printed.
. "$(dirname "$0")/lib.sh"
INV=$ROOT/tests/data/inventory
SYSROOT=$ROOT/tests/data/sysroot/nvme-sata-usb
SHA=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
KEY="CorrectHorseBatteryStaple-luks-key"
mkdir -p "$T/www"
printf '%s\n' "$KEY" > "$T/www/secure.key"
KEYSHA=$(sha256sum < "$T/www/secure.key" | cut -d' ' -f1)

profile() { # FILE SELECT MOUNT KEY_URL [KEY_SHA]
	cat > "$1" <<YAML
version: 1
hostname: crypt01
disk:
  select: $2
  partitions:
    - { size: 2GiB, mount: /, fs: ext4 }
    - size: 1GiB
      fs: ext4
      mount: $3
      luks: { name: secure, key_url: "$4"${5:+, key_sha256: $5} }
image: { url: http://h/i.tar.zst, sha256: $SHA }
YAML
}

# The plan: the stack, the URL without user, password or query.
profile "$T/p.yaml" "{ serial: A }" /srv/secure "https://keyuser:Pw0rdSecret@keys.invalid/k/secure.key?token=TokSecret123" "$KEYSHA"
expect_rc 0 "$INSTALLER" plan --profile "$T/p.yaml" --inventory "$INV/two-identical.json"
expect_in "$T/out" "LUKS:       /dev/vda partition 3 -> LUKS2 /dev/mapper/secure -> ext4 at /srv/secure"
expect_in "$T/out" "key file https://keys.invalid/k/secure.key, sha256 $KEYSHA (fetched before anything is written)"
expect_rc 0 "$INSTALLER" plan --json --profile "$T/p.yaml" --inventory "$INV/two-identical.json"
python3 - "$T/out" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
l = p["luks"]
assert len(l) == 1 and l[0]["name"] == "secure" and l[0]["partition"] == 3 and l[0]["type"] == "luks2", l
assert l[0]["key_url"] == "https://keys.invalid/k/secure.key", l
PY
for f in "$T/out" "$T/err"; do
	! grep -qE 'Pw0rdSecret|TokSecret123|keyuser' "$f" || die "the plan shows the key URL's credentials"
done

# / and /boot cannot be on LUKS in this version: refused with the position.
sed 's|mount: /, fs: ext4|mount: /data, fs: ext4|; s|mount: /srv/secure|mount: /|' "$T/p.yaml" > "$T/root.yaml"
expect_rc 4 "$INSTALLER" plan --profile "$T/root.yaml" --inventory "$INV/two-identical.json"
expect_in "$T/err" "root.yaml:10:13: error: disk.partitions[1].luks: LUKS on / is not supported by this installer yet"
profile "$T/boot.yaml" "{ serial: A }" /boot "file://$T/www/secure.key"
expect_rc 4 "$INSTALLER" plan --profile "$T/boot.yaml" --inventory "$INV/two-identical.json"
expect_in "$T/err" "boot.yaml:10:13: error: disk.partitions[1].luks: /boot cannot be encrypted: the bootloader reads it before anything is unlocked"

# installer run --dry-run: the key is fetched and verified after the plan;
# its text is never shown.
run() {
	INSTALLER_PROC_CMDLINE="inst.profile=file://$T/www/p.yaml" "$INSTALLER" run --sysroot "$SYSROOT" --dry-run
}
profile "$T/www/p.yaml" "{ transport: nvme }" /srv/secure "file://$T/www/secure.key" "$KEYSHA"
expect_rc 0 run
expect_in "$T/out" "==> fetch-keys: 1 LUKS key file"
expect_in "$T/out" "LUKS key for secure: file://$T/www/secure.key, $(stat -c %s "$T/www/secure.key") bytes, sha256 verified"
expect_in "$T/out" "dry run: stopping after the plan; nothing was written to any disk"
! grep -qF -- "$KEY" "$T/out" "$T/err" || die "the output shows the key"

# A key file that does not exist: exit 5, at the luks: entry, before any write.
profile "$T/www/p.yaml" "{ transport: nvme }" /srv/secure "file://$T/www/nope.key"
expect_rc 5 run
expect_in "$T/out" "p.yaml:10:13: error: disk.partitions[1].luks.key_url: cannot fetch the key file of LUKS volume secure:"
expect_in "$T/out" "nothing was written to any disk"

# The wrong key: exit 7, both digests named.
profile "$T/www/p.yaml" "{ transport: nvme }" /srv/secure "file://$T/www/secure.key" "$SHA"
expect_rc 7 run
expect_in "$T/out" "does not match key_sha256: expected $SHA, got $KEYSHA"
! grep -qF -- "$KEY" "$T/out" "$T/err" || die "the output shows the key"

# An unreachable https URL with credentials and a token: exit 5; neither
# the password, the user nor the token is printed.
# Two attempts (the profile's fetch: policy), not the default ten: the
# waits between ten would take this test past a minute and a half.
profile "$T/www/p.yaml" "{ transport: nvme }" /srv/secure "https://keyuser:Pw0rdSecret@127.0.0.1:1/k.key?token=TokSecret123"
echo "fetch: { attempts: 2 }" >> "$T/www/p.yaml"
expect_rc 5 run
expect_in "$T/out" "gave up after 2 attempts"
expect_in "$T/out" "disk.partitions[1].luks.key_url: cannot fetch the key file of LUKS volume secure"
for secret in Pw0rdSecret TokSecret123 keyuser; do
	! grep -qF -- "$secret" "$T/out" "$T/err" || die "the output shows '$secret'"
done
echo ok
