#!/bin/bash
# One byte flipped in the middle of the demo image (in chunk 25 of its 51
# chunks of 4 MiB), with the image's manifest in the profile
# (docs/manifest.md): the install stops at that chunk with a message naming
# it and its byte range (exit status 7), no bootloader is written, the disk
# does not boot, and no regular file whose tar header lies past what the
# chunks before it decompress to is on the target's root filesystem (read
# from the raw disk with debugfs, no mount), while a file from well before
# is there. The served manifest is that of the intact image; the flipped
# copy is a file of this test's own (never the shared image, which may be a
# hard link).
. "$(dirname "$0")/lib.sh"
INSTALLER_BIN=$BUILD/installer/installer
IMG=$BUILD/image/debian12.tar.zst
CHUNK=4194304
K=25
[ -f "$IMG" ] || die "no demo image: run 'make image' first"
command -v debugfs >/dev/null || die "debugfs (e2fsprogs) is needed"

sed -e 's/^  sha256: .*$/  manifest: http:\/\/10.0.2.100\/images\/debian12.tar.zst.manifest/' \
	"$ROOT/profiles/default.yaml" > "$T/profiles/default.yaml"
grep -q '^  manifest: ' "$T/profiles/default.yaml" || die "could not put the manifest into the profile"
make_www "inst.finish=poweroff" # publishes images/debian12.tar.zst(.manifest) of the intact image
M=$T/www/images/debian12.tar.zst.manifest
[ -f "$M" ] || "$INSTALLER_BIN" manifest "$IMG" -o "$M"
"$INSTALLER_BIN" manifest --check "$M" "$IMG" >/dev/null || die "the published manifest is not the image's"
NCHUNKS=$(grep -c '^chunk: ' "$M")

# The flipped copy: a new file (rm first: make_www may have hard-linked the shared image).
FLIP=$((K * CHUNK + 1234567))
rm -f "$T/www/images/debian12.tar.zst"
cp "$IMG" "$T/www/images/debian12.tar.zst.tmp"
python3 - "$T/www/images/debian12.tar.zst.tmp" "$FLIP" <<'PYEOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))
PYEOF
mv "$T/www/images/debian12.tar.zst.tmp" "$T/www/images/debian12.tar.zst"
cmp -s "$IMG" "$T/www/images/debian12.tar.zst" && die "the copy was not changed"
"$INSTALLER_BIN" manifest --check "$M" "$IMG" >/dev/null || die "the shared image changed"

# What the extractor can have seen: the tar bytes that chunks 0..K-1
# decompress to (U), and the tar's regular files with their header offsets.
U=$(head -c $((K * CHUNK)) "$IMG" | { zstd -dc 2>/dev/null || true; } | wc -c)
zstd -dc "$IMG" | tar -tvR 2>/dev/null |
	sed -n 's|^block \([0-9]*\): -[^ ]* .* \./\(.*\)$|\1 \2|p' |
	awk '{ off = $1 * 512; $1 = ""; sub(/^ /, ""); print off "\t" $0 }' > "$T/layout"
awk -F'\t' -v u="$U" '$1 >= u { print $2 }' "$T/layout" | grep -v ' -> ' > "$T/past"
BEFORE=$(awk -F'\t' -v u="$U" '$1 < u - 16 * 1048576 { f = $2 } END { print f }' "$T/layout")
log "chunks 0..$((K - 1)) decompress to $U tar bytes: $(wc -l < "$T/past") regular files lie past them; $BEFORE before"
[ -s "$T/past" ] && [ -n "$BEFORE" ] || die "the layout proves nothing"

make_disk "$T/target.raw" 6G
pxeboot --disk "$T/target.raw" --timeout 1500 || die "the guest did not power off"
expect_log "image: 212231759 bytes, $NCHUNKS chunks of 4 MiB, manifest sha256 $(sha256sum "$M" | cut -d' ' -f1)"
expect_log "chunk $K of $NCHUNKS (bytes $((K * CHUNK))-$((K * CHUNK + CHUNK - 1))) does not match its manifest"
expect_log "INSTALL FAILED (exit status 7)"
expect_no_log "==> bootloader"

# The target's root filesystem, read from the raw disk: the largest partition.
OFF=$(sfdisk -J "$T/target.raw" | python3 -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]
p = max(t["partitions"], key=lambda p: p["size"])
print(p["start"] * t.get("sectorsize", 512))')
FS="$T/target.raw?offset=$OFF"
debugfs -R "stat /$BEFORE" "$FS" 2>&1 | grep -q "Type: regular" || die "/$BEFORE (before chunk $K) is not on the target"
sed 's|^|stat "/|; s|$|"|' "$T/past" > "$T/past.cmds"
debugfs -f "$T/past.cmds" "$FS" > "$T/past.out" 2>&1
n=$(wc -l < "$T/past")
missing=$(grep -c "File not found by ext2_lookup" "$T/past.out" || true)
[ "$missing" -eq "$n" ] || die "$((n - missing)) of the $n files past chunk $K are on the target ($T/past.out)"
log "none of the $n files past chunk $K is on the target; /$BEFORE is"

# The disk must not boot: SeaBIOS runs the install-in-progress mark's
# int 0x18 and moves on.
mv "$SERIAL" "$T/install.log"
if pxeboot --boot-disk --disk "$T/target.raw" --timeout 60 --expect "Linux version"; then
	die "a disk with a failed install booted a kernel"
fi
log "ok: stopped at chunk $K of $NCHUNKS, exit 7, nothing past the chunk written, the disk does not boot"
