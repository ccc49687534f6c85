#!/usr/bin/env python3
"""try-prepare.py: the machine and the served profile for qemu/try.sh.

Usage:
  try-prepare.py machine --inventory JSON [--max-mem MB]
      Prints shell assignments (for eval) describing a QEMU machine shaped
      like the saved inventory (`installer inventory` JSON): FIRMWARE, MEM,
      MAC, NIC, EXTRA_NICS, DISK_SPECS (size in bytes + pxeboot --disk
      options), UUID, SYS_SERIAL, SMBIOS, NOTES.
  try-prepare.py profile --profile FILE --out DIR --served-url URL
                 [--demo-image URL SHA256]
      Copies the profile and the fragments it includes (include:, relative
      to it, recursively) into DIR, keeping their relative paths. Prints
      shell assignments: PROFILE_NAME (its path under DIR), HOSTNAME,
      IMAGE_URL (as found, "" if none), IMAGE_FILE (the file holding it),
      IMAGE_OK (1 when the URL is under URL, i.e. reachable by the
      rehearsal machine). With --demo-image, an unreachable image URL is
      rewritten to the demo image's URL and its sha256 line to the demo
      image's digest, in place (line numbers are kept, so the installer's
      FILE:LINE:COLUMN errors still point at the operator's file).

Text-level on purpose: the installer is the YAML parser that counts; this
only has to find the image URL and the includes of ordinary profiles.
"""
import argparse
import json
import os
import re
import shlex
import sys


def out(name, value):
    print("%s=%s" % (name, shlex.quote(str(value))))


def die(msg):
    sys.stderr.write("try: error: %s\n" % msg)
    sys.exit(2)


# --- the machine ----------------------------------------------------------------------
TRANSPORTS = {"virtio": "virtio", "sata": "sata", "ata": "sata", "nvme": "nvme",
              "scsi": "scsi", "sas": "scsi", "usb": "usb"}
NIC_MODELS = {"virtio_net": "virtio", "e1000": "e1000", "e1000e": "e1000e"}


def clean(s):
    """A value for pxeboot's comma-separated --disk spec and QEMU's options."""
    return str(s).replace(",", "_").strip()


def machine(a):
    try:
        with open(a.inventory) as f:
            inv = json.load(f)
    except (OSError, ValueError) as e:
        die("cannot read the inventory %s: %s" % (a.inventory, e))
    if not isinstance(inv, dict) or not isinstance(inv.get("disks"), list):
        die("%s is not an `installer inventory` JSON (no \"disks\" list)" % a.inventory)
    notes = []

    fw = inv.get("firmware") or "bios"
    if fw not in ("bios", "uefi"):
        notes.append("firmware %r in the inventory: rehearsing with bios" % fw)
        fw = "bios"
    out("FIRMWARE", fw)

    mem = inv.get("memory_bytes") or 0
    mib = -(-int(mem) // (256 << 20)) * 256 if mem else 1024  # round up to 256 MiB
    if mib < 512:
        mib = 512
    if mib > a.max_mem:
        notes.append("memory %d MiB capped at %d MiB (MAX_MEM=)" % (mib, a.max_mem))
        mib = a.max_mem
    out("MEM", mib)

    nics = [n for n in inv.get("nics") or [] if isinstance(n, dict) and n.get("mac")]
    boot = None
    for n in nics:
        if n.get("carrier"):
            boot = n
            break
    if boot is None and nics:
        boot = nics[0]
    extra = []
    for n in nics:
        model = NIC_MODELS.get(n.get("driver") or "", "virtio")
        if (n.get("driver") or "") not in NIC_MODELS:
            notes.append("NIC %s (driver %s) rehearsed as virtio" % (n["mac"], n.get("driver")))
        if n is boot:
            out("MAC", n["mac"])
            out("NIC", model)
        else:
            extra.append("%s,%s" % (n["mac"], model))
    out("EXTRA_NICS", " ".join(extra))

    specs = []
    for i, d in enumerate(inv["disks"]):
        size = int(d.get("size_bytes") or 0)
        if size <= 0:
            notes.append("disk %s has no size: left out" % d.get("name"))
            continue
        size -= size % 512
        tr = d.get("transport") or "virtio"
        iface = TRANSPORTS.get(tr)
        if iface is None:
            notes.append("disk %s: transport %s rehearsed as scsi" % (d.get("name"), tr))
            iface = "scsi"
        opts = ["if=" + iface]
        serial = d.get("serial")
        if not serial:
            serial = "TRY-%d" % i
            notes.append("disk %s has no serial: rehearsed with serial %s" % (d.get("name"), serial))
        serial = clean(serial)
        if len(serial) > 20:
            notes.append("disk %s: serial %s is longer than the 20 characters QEMU keeps" % (d.get("name"), serial))
        opts.append("serial=" + serial)
        if iface in ("sata", "scsi") and d.get("model"):
            opts.append("model=" + clean(d["model"]))
        if iface == "scsi" and d.get("vendor"):
            opts.append("vendor=" + clean(d["vendor"]))
        if iface in ("sata", "scsi") and d.get("rotational") is not None:
            opts.append("rotational=%d" % (1 if d["rotational"] else 0))
        lbs = int(d.get("logical_sector_size") or 512)
        pbs = int(d.get("physical_sector_size") or 512)
        if lbs != 512:
            if iface == "sata":
                notes.append("disk %s: %d-byte sectors not possible on QEMU SATA, 512 used" % (d.get("name"), lbs))
            else:
                opts.append("lbs=%d" % lbs)
        if pbs != 512 and pbs >= lbs:
            opts.append("pbs=%d" % pbs)
        if d.get("model") and iface not in ("sata", "scsi"):
            notes.append("disk %s: the model (%s) cannot be set on QEMU %s disks" % (d.get("name"), d["model"], iface))
        if d.get("pttype") or d.get("fstype") or d.get("partitions"):
            notes.append("disk %s held data on the real machine (%s); the rehearsal disk is blank"
                         % (d.get("name"), d.get("pttype") or d.get("fstype") or "partitions"))
        if d.get("boot_medium"):
            notes.append("disk %s was the boot medium of the saved machine; rehearsed as a plain disk" % d.get("name"))
        specs.append("%d,%s" % (size, ",".join(opts)))
    out("DISK_SPECS", "\n".join(specs))

    dmi = inv.get("dmi") or {}
    out("UUID", dmi.get("product_uuid") or "")
    out("SYS_SERIAL", clean(dmi.get("product_serial") or ""))
    smbios = []
    if dmi.get("sys_vendor"):
        smbios.append("manufacturer=" + clean(dmi["sys_vendor"]))
    if dmi.get("product_name"):
        smbios.append("product=" + clean(dmi["product_name"]))
    out("SMBIOS", ("type=1," + ",".join(smbios)) if smbios else "")
    cpus = (inv.get("cpu") or {}).get("count")
    if cpus and int(cpus) != 2:
        notes.append("%s CPUs on the real machine, 2 in the rehearsal" % cpus)
    out("NOTES", "\n".join(notes))


# --- the profile ----------------------------------------------------------------------
def includes(text):
    m = re.search(r"^include:[ \t]*\[(.*?)\]", text, re.M | re.S)
    if m:
        return [x.strip().strip("'\"") for x in m.group(1).split(",") if x.strip()]
    m = re.search(r"^include:[ \t]*(#.*)?\n((?:[ \t]+-[^\n]*\n|[ \t]*#[^\n]*\n|[ \t]*\n)*)", text, re.M)
    if m:
        return [re.sub(r"\s+#.*$", "", x).strip().strip("'\"")
                for x in re.findall(r"^[ \t]+-[ \t]*(.+)$", m.group(2), re.M)]
    m = re.search(r"^include:[ \t]*([^\s#\[{][^#\n]*)", text, re.M)
    if m:
        return [m.group(1).strip().strip("'\"")]
    return []


def image_block(text):
    """(url, url span, sha256 span) of the top-level image: mapping, or None."""
    m = re.search(r"^image:[ \t]*\{([^}]*)\}", text, re.M)
    if m:
        body, base = m.group(1), m.start(1)
    else:
        m = re.search(r"^image:[ \t]*(?:#.*)?\n((?:[ \t]+[^\n]*\n|[ \t]*\n|#[^\n]*\n)*)", text, re.M)
        if not m:
            return None
        body, base = m.group(1), m.start(1)
    u = re.search(r"(?:^|[\s{,])url:[ \t]*(['\"]?)([^'\"\s,}#]+)\1", body)
    s = re.search(r"(?:^|[\s{,])sha256:[ \t]*(['\"]?)([^'\"\s,}#]*)\1", body)
    if not u:
        return None
    return (u.group(2), (base + u.start(2), base + u.end(2)),
            (base + s.start(2), base + s.end(2)) if s else None)


def profile(a):
    src = os.path.abspath(a.profile)
    if not os.path.isfile(src):
        die("profile %s not found" % a.profile)
    top = os.path.dirname(src)
    os.makedirs(a.out, exist_ok=True)
    todo, done, copied = [src], set(), []
    while todo:
        p = os.path.normpath(todo.pop())
        if p in done:
            continue
        done.add(p)
        rel = os.path.relpath(p, top)
        if rel.startswith(".."):
            # Fragments above the profile's directory: keep the name only.
            rel = os.path.basename(p)
        try:
            with open(p, encoding="utf-8", errors="surrogateescape") as f:
                text = f.read()
        except OSError:
            continue  # the installer reports the missing fragment itself
        dst = os.path.join(a.out, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        copied.append(dst)
        for inc in includes(text):
            if "://" not in inc:
                todo.append(os.path.join(os.path.dirname(p), inc))
    out("PROFILE_NAME", os.path.basename(src))

    with open(copied[0], encoding="utf-8", errors="surrogateescape") as f:
        m = re.search(r"^hostname:[ \t]*['\"]?([A-Za-z0-9.-]+)", f.read(), re.M)
    out("HOSTNAME", m.group(1) if m else "")

    url, holder, ok = "", "", 0
    for dst in copied:
        with open(dst, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
        blk = image_block(text)
        if not blk:
            continue
        url, holder = blk[0], dst
        ok = 1 if url.startswith(a.served_url) else 0
        if not ok and a.demo_image:
            demo_url, demo_sha = a.demo_image
            (us, ue), sha = blk[1], blk[2]
            edits = [(us, ue, demo_url)]
            if sha:
                edits.append((sha[0], sha[1], demo_sha))
            for s, e, new in sorted(edits, reverse=True):
                text = text[:s] + new + text[e:]
            with open(dst, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(text)
            ok = 1
        break
    out("IMAGE_URL", url)
    out("IMAGE_FILE", os.path.relpath(holder, a.out) if holder else "")
    out("IMAGE_OK", ok)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("machine")
    m.add_argument("--inventory", required=True)
    m.add_argument("--max-mem", type=int, default=4096)
    p = sub.add_parser("profile")
    p.add_argument("--profile", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--served-url", required=True)
    p.add_argument("--demo-image", nargs=2, metavar=("URL", "SHA256"))
    a = ap.parse_args()
    machine(a) if a.cmd == "machine" else profile(a)


if __name__ == "__main__":
    main()
