#!/bin/bash
# `installer run` on a recorded machine (--sysroot, --dry-run), with a
# file:// profile made of a fragment: the fragment is fetched relative to the
# profile and logged by digest; a match: disagreement stops the run after
# validation with exit 8 and "nothing was written to any disk"; a plaintext
# password is hashed and never shown.
. "$(dirname "$0")/lib.sh"
SYSROOT=$ROOT/tests/data/sysroot/nvme-sata-usb
mkdir -p "$T/www/site"
cat > "$T/www/site/base.yaml" <<'YAML'
version: 1
disk: { select: { transport: nvme }, partitions: [ { size: rest, mount: / } ] }
image: { url: http://h/i.tar.zst, sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef }
users:
  - { name: root, password: CorrectHorse42, hash_password: true }
YAML
profile() { # SERIAL
	printf 'include: [site/base.yaml]\nhostname: srv01\nmatch:\n  serial: %s\n' "$1"
}
run() {
	INSTALLER_PROC_CMDLINE="inst.profile=file://$T/www/p.yaml" "$INSTALLER" run --sysroot "$SYSROOT" --dry-run
}

profile SRV-0002 > "$T/www/p.yaml"
expect_rc 8 run
expect_in "$T/out" "profile fragment file://$T/www/site/base.yaml ("
expect_in "$T/out" "file://$T/www/p.yaml:4:3: error: match.serial: the profile is for serial 'SRV-0002', this machine's serial is 'SRV-0001'"
expect_in "$T/out" "<!! match FAILED"
expect_in "$T/out" "nothing was written to any disk"
! grep -q "==> plan" "$T/out" || die "planned although the profile is not for this machine"

profile SRV-0001 > "$T/www/p.yaml"
expect_rc 0 run
expect_in "$T/out" "<== match done"
expect_in "$T/out" "Target:     /dev/nvme0n1"
for secret in CorrectHorse42 '$y$'; do
	! grep -qF -- "$secret" "$T/out" "$T/err" || die "the output shows '$secret'"
done

# A missing fragment is an invalid profile (3), named at the include.
printf 'include: [site/nope.yaml]\nhostname: srv01\n' > "$T/www/p.yaml"
expect_rc 3 run
expect_in "$T/out" "file://$T/www/p.yaml:1:11: error: include[0]: cannot include 'site/nope.yaml': not found"
echo ok
