#!/bin/bash
# The inventory's "secure_boot" (docs/secureboot.md): read from the EFI
# variable SecureBoot under --sysroot (on: uefi-secureboot, off: a UEFI
# machine without the variable, a variable of 0, a BIOS machine), and checked
# when an inventory file is loaded back (plan --inventory).
. "$(dirname "$0")/lib.sh"
SYS=$ROOT/tests/data/sysroot
VAR=sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c
sb() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["secure_boot"])' "$1"; }

expect_rc 0 "$INSTALLER" inventory --sysroot "$SYS/uefi-secureboot"
[ "$(sb "$T/out")" = True ] || die "uefi-secureboot: secure_boot is not true"
expect_rc 0 "$INSTALLER" inventory --sysroot "$SYS/four-nics-uefi"
[ "$(sb "$T/out")" = False ] || die "four-nics-uefi (no SecureBoot variable): secure_boot is not false"
expect_rc 0 "$INSTALLER" inventory --sysroot "$SYS/virtio-host"
[ "$(sb "$T/out")" = False ] || die "virtio-host (BIOS): secure_boot is not false"
# The variable present but 0 (Secure Boot off, setup mode): off.
cp -a "$SYS/uefi-secureboot" "$T/sb-off"
printf '\006\000\000\000\000' >"$T/sb-off/$VAR"
expect_rc 0 "$INSTALLER" inventory --sysroot "$T/sb-off"
[ "$(sb "$T/out")" = False ] || die "SecureBoot=0: secure_boot is not false"

# Loaded back: optional, a boolean, and only with UEFI firmware.
SHA=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
cat >"$T/p.yaml" <<YAML
version: 1
hostname: sb
disk:
  partitions:
    - { size: rest, mount: / }
image: { url: http://h/i.tar.zst, sha256: $SHA }
YAML
expect_rc 0 "$INSTALLER" inventory --sysroot "$SYS/uefi-secureboot"
cp "$T/out" "$T/inv.json"
expect_rc 0 "$INSTALLER" plan --profile "$T/p.yaml" --inventory "$T/inv.json"
sed 's/"firmware": "uefi"/"firmware": "bios"/' "$T/inv.json" >"$T/bios.json"
expect_rc 2 "$INSTALLER" plan --profile "$T/p.yaml" --inventory "$T/bios.json"
expect_in "$T/err" '"secure_boot": true needs "firmware": "uefi"'
sed 's/"secure_boot": true/"secure_boot": "yes"/' "$T/inv.json" >"$T/str.json"
expect_rc 2 "$INSTALLER" plan --profile "$T/p.yaml" --inventory "$T/str.json"
expect_in "$T/err" "str.json:4:"
echo "ok"
