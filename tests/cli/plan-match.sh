#!/bin/bash
# `installer plan` checks the profile's match: block against the (saved)
# inventory: exit 8 on a disagreement, with one positioned error per key that
# disagrees; exit 0 when the machine is the one the profile is for.
. "$(dirname "$0")/lib.sh"
MACHINE=$ROOT/tests/data/sysroot/nvme-sata-usb.json
SHA=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

profile() { # MATCH-LINES...
	cat <<YAML
version: 1
hostname: srv01
disk:
  select: { transport: nvme }
  partitions:
    - { size: rest, mount: / }
image: { url: http://h/i.tar.zst, sha256: $SHA }
match:
YAML
	printf '  %s\n' "$@"
}

# The recorded machine: serial SRV-0001, this UUID, BIOS, one NIC, 958 MiB MemTotal.
profile "serial: SRV-0001" "uuid: 3F2C6A52-9B1E-4D6C-8A0F-5E4D3C2B1A09" "firmware: bios" \
	"mac: [\"52:54:00:12:34:56\"]" "vendor: QEMU" "product: \"Standard PC*\"" "min_memory: 900MiB" > "$T/ok.yaml"
expect_rc 0 "$INSTALLER" plan --profile "$T/ok.yaml" --inventory "$MACHINE"
expect_in "$T/out" "Target:     /dev/nvme0n1"

# Another machine's serial: 8, and the message says both.
profile "serial: SRV-0002" "firmware: bios" > "$T/other.yaml"
expect_rc 8 "$INSTALLER" plan --profile "$T/other.yaml" --inventory "$MACHINE"
expect_in "$T/err" "$T/other.yaml:9:3: error: match.serial: the profile is for serial 'SRV-0002', this machine's serial is 'SRV-0001'"
[ "$(wc -l < "$T/err")" -eq 1 ] || { cat "$T/err"; die "expected exactly one error"; }
[ ! -s "$T/out" ] || die "a plan was printed for a machine the profile is not for"

# Every disagreement is reported, in document order.
profile "firmware: uefi" "min_memory: 1GiB" "mac: 52:54:00:00:00:01" > "$T/all.yaml"
expect_rc 8 "$INSTALLER" plan --json --profile "$T/all.yaml" --inventory "$MACHINE"
expect_in "$T/err" "$T/all.yaml:9:3: error: match.firmware: the profile is for firmware 'uefi', this machine's firmware is 'bios'"
expect_in "$T/err" "$T/all.yaml:10:3: error: match.min_memory: the profile is for machines with at least 1.0 GiB of memory, this machine has 958.4 MiB"
expect_in "$T/err" "$T/all.yaml:11:3: error: match.mac:"

# An invalid match: block is an invalid profile (3), not a mismatch.
profile "firmware: efi" > "$T/bad.yaml"
expect_rc 3 "$INSTALLER" plan --profile "$T/bad.yaml" --inventory "$MACHINE"
expect_in "$T/err" "match.firmware: unknown firmware 'efi'; did you mean 'uefi'?"
expect_rc 3 "$INSTALLER" validate "$T/bad.yaml"
# validate does not look at any machine: a mismatching profile is valid.
expect_rc 0 "$INSTALLER" validate "$T/other.yaml"

# The match: block may come from a fragment; the error names the fragment.
mkdir -p "$T/site"
printf 'match:\n  serial: SRV-0009\n' > "$T/site/match.yaml"
cat > "$T/frag.yaml" <<YAML
include: [site/match.yaml]
version: 1
hostname: srv01
disk: { partitions: [ { size: rest, mount: / } ] }
image: { url: http://h/i.tar.zst, sha256: $SHA }
YAML
expect_rc 8 "$INSTALLER" plan --profile "$T/frag.yaml" --inventory "$MACHINE"
expect_in "$T/err" "$T/site/match.yaml:2:3: error: match.serial: the profile is for serial 'SRV-0009'"

expect_rc 0 "$INSTALLER" --help
expect_in "$T/out" "8 the profile's match:"
echo ok
