#!/bin/bash
# make try with a saved inventory: the rehearsal machine is shaped like the
# 2-disk UEFI machine of tests/data/inventory/two-disk-uefi.json (NVMe 20 GiB
# + SATA 40 GiB with their serials and the SATA model, OVMF, two NICs with
# their MACs and models, SMBIOS vendor/product/serial/uuid, 1.5 GiB). A dry
# run: the installer inside reports the machine it sees (its BEGIN INVENTORY
# block and plan on the console), which must be the saved one; nothing is
# written.
. "$(dirname "$0")/lib.sh"

INV=$ROOT/tests/data/inventory/two-disk-uefi.json
# The image URL is one the rehearsal machine cannot reach: a dry run only
# notes it.
cat > "$T/nvme.yaml" <<'YAML'
version: 1
hostname: rehearse-nvme
disk:
  select: { transport: nvme }
  partitions:
    - { size: 512MiB, fs: swap }
    - { size: rest, fs: ext4, mount: / }
image:
  url: http://images.example.net/debian12.tar.zst
  sha256: 0000000000000000000000000000000000000000000000000000000000000000
YAML

log "make try (dry run) with the inventory $INV"
rc=0
"$ROOT/qemu/try.sh" --profile "$T/nvme.yaml" --inventory "$INV" --dryrun --out "$T/try" \
	--timeout 600 >"$T/try.out" 2>&1 || rc=$?
cat "$T/try.out"
SERIAL=$T/try/install.log
[ "$rc" = 0 ] || die "try exited with status $rc"
grep -q '^PASS: ' "$T/try.out" || die "no PASS verdict"
grep -q "note: the profile's image url is http://images.example.net/" "$T/try.out" ||
	die "no note about the unreachable image URL"
expect_log "Firmware:   uefi"
expect_log "Target:     /dev/nvme0n1  20.0 GiB  nvme"
expect_log "dry run: stopping after the plan"

# The installer's own inventory of the rehearsal machine against the saved one.
tr -d '\r' <"$SERIAL" | sed -n '/^----- BEGIN INVENTORY -----$/,/^----- END INVENTORY -----$/p' |
	sed '1d;$d' >"$T/seen.json"
python3 - "$INV" "$T/seen.json" <<'PY' || die "the rehearsal machine differs from the saved inventory"
import json, sys
want, seen = (json.load(open(p)) for p in sys.argv[1:3])
bad = []
def eq(what, a, b):
    if a != b:
        bad.append("%s: saved %r, rehearsal %r" % (what, a, b))
eq("firmware", want["firmware"], seen["firmware"])
eq("disk count", len(want["disks"]), len(seen["disks"]))
for w in want["disks"]:
    s = [d for d in seen["disks"] if d.get("serial") == w["serial"]]
    if not s:
        bad.append("no disk with serial %s" % w["serial"]); continue
    s = s[0]
    for k in ("size_bytes", "transport", "logical_sector_size", "rotational"):
        eq("disk %s %s" % (w["serial"], k), w[k], s[k])
    if w["transport"] == "sata":   # QEMU can set the model of ATA (and SCSI) disks only
        eq("disk %s model" % w["serial"], w["model"], s["model"])
eq("NICs", [(n["mac"], n["driver"]) for n in want["nics"]], [(n["mac"], n["driver"]) for n in seen["nics"]])
for k in ("sys_vendor", "product_name", "product_serial", "product_uuid"):
    eq("dmi " + k, want["dmi"][k], seen["dmi"][k])
if not 0.85 * want["memory_bytes"] <= seen["memory_bytes"] <= want["memory_bytes"]:
    bad.append("memory: saved %d, rehearsal %d" % (want["memory_bytes"], seen["memory_bytes"]))
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
for f in "$T"/try/disks/*.raw; do
	[ "$(stat -c %b "$f")" = 0 ] || die "$f was written in a dry run"
done
log "ok: the rehearsal machine has the saved disks, NICs, firmware and DMI; plan made, nothing written"
