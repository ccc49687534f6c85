#!/bin/bash
# Reinstall keeping data: the disk holds an old install (BIOS boot, swap,
# root, and a /srv partition with a test file tree). The profile preserves
# /srv (by label) and lays the new system out differently around it. The
# /srv partition must be byte-identical after the install (checked on the
# host after the installer powers off: it is not even mounted during the
# install), and the installed system must mount it on /srv from its fstab
# and see the same file tree (hashes computed inside the installed system
# at its first boot). A second disk stays byte-identical throughout.
. "$(dirname "$0")/lib.sh"

MAC=52:54:00:12:34:56
MiB=$((1024 * 1024))
GiB=$((1024 * MiB))
SRV_START=$((2 * GiB)) SRV_SIZE=$((1 * GiB))

# --- the old install, built on the host -----------------------------------
make_disk "$T/target.raw" 4G
/sbin/sfdisk -q "$T/target.raw" <<SFDISK >/dev/null
label: gpt
start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, name=bios-boot
start=4096, size=$((512 * MiB / 512)), type=swap, name=swap
size=$(((SRV_START - 514 * MiB) / 512)), type=linux, name=root, attrs=LegacyBIOSBootable
start=$((SRV_START / 512)), size=$((SRV_SIZE / 512)), type=linux, name=srv
SFDISK
mkdir -p "$T/oldroot/etc" "$T/tree/sub/deeper" "$T/tree/empty-dir"
echo "the old install" > "$T/oldroot/etc/old-release"
/sbin/mke2fs -q -F -t ext4 -L old-root -d "$T/oldroot" -E offset=$((514 * MiB)) "$T/target.raw" $(((SRV_START - 514 * MiB) / 1024))k
# The test file tree: text, random binary data, a sparse file, a symlink,
# odd names and modes.
echo "hello from the old install" > "$T/tree/hello.txt"
head -c 3000000 /dev/urandom > "$T/tree/sub/random.bin"
head -c 4096 /dev/urandom > "$T/tree/sub/deeper/key material"
truncate -s 50M "$T/tree/sub/sparse.img"
printf 'x' | dd of="$T/tree/sub/sparse.img" bs=1 seek=$((20 * MiB)) conv=notrunc status=none
ln -s sub/random.bin "$T/tree/link"
chmod 0600 "$T/tree/sub/deeper/key material"
/sbin/mke2fs -q -F -t ext4 -L srv -d "$T/tree" -E offset=$SRV_START "$T/target.raw" $((SRV_SIZE / 1024))k
head -c $((512 * MiB)) /dev/zero > "$T/swap.img"
/sbin/mkswap -q -L oldswap "$T/swap.img" >/dev/null
dd if="$T/swap.img" of="$T/target.raw" bs=1M seek=2 count=512 conv=notrunc,sparse status=none
rm -f "$T/swap.img"

srv_bytes() { dd if="$T/target.raw" bs=1M skip=$((SRV_START / MiB)) count=$((SRV_SIZE / MiB)) status=none | sha256sum | cut -d' ' -f1; }
# The tree as the installed system will list it: path, type, mode, size and
# content hash of every entry (the symlink by its target).
( cd "$T/tree" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r f; do
	if [ -L "$f" ]; then echo "$f l $(readlink "$f")"
	elif [ -d "$f" ]; then echo "$f d $(stat -c %a "$f")"
	else echo "$f f $(stat -c '%a %s' "$f") $(sha256sum < "$f" | cut -d' ' -f1)"; fi
done ) > "$T/tree.manifest"
tree_sum=$(sha256sum < "$T/tree.manifest" | cut -d' ' -f1)
srv_before=$(srv_bytes)
log "old install built: /srv partition sha256 $srv_before, file tree manifest sha256 $tree_sum ($(wc -l < "$T/tree.manifest") entries)"

make_disk "$T/other.raw" 256M
/sbin/mke2fs -q -F -t ext4 -L other "$T/other.raw"
other_before=$(sha256sum < "$T/other.raw")

# --- the reinstall profile ---------------------------------------------------
# The installed system prints the same manifest's hash for /srv at its first
# boot (the script is the one above, run there).
cat > "$T/profiles/default.yaml" <<YAML
version: 1
hostname: reinst01
disk:
  select: {path: /dev/vda}
  wipe: true
  partitions:
    - {size: rest, mount: /, label: newroot}
    - {preserve: {label: srv}, mount: /srv, mount_options: "nodev,nosuid"}
    - {size: 512MiB, fs: swap}
image:
  url: http://10.0.2.100/images/debian12.tar.zst
  sha256: "$(image_sha256)"
firstboot:
  runcmd:
    - |
      {
      echo "SRV-MOUNT \$(findmnt -n -r -o FSTYPE,OPTIONS,LABEL /srv | tr ' ' '|')"
      cd /srv && echo "SRV-TREE \$(find . -mindepth 1 ! -path './lost+found*' | LC_ALL=C sort | while IFS= read -r f; do
        if [ -L "\$f" ]; then echo "\$f l \$(readlink "\$f")"
        elif [ -d "\$f" ]; then echo "\$f d \$(stat -c %a "\$f")"
        else echo "\$f f \$(stat -c '%a %s' "\$f") \$(sha256sum < "\$f" | cut -d' ' -f1)"; fi
      done | sha256sum | cut -d' ' -f1)"
      echo "SRV-FSTAB \$(grep -Ec "^UUID=\$(findmnt -n -o UUID /srv)[[:space:]]+/srv[[:space:]]" /etc/fstab)"
      echo "REINSTALL-CHECK-DONE"
      } > /dev/ttyS0 2>&1
YAML
# mke2fs -d makes lost+found too: leave it out of the host's manifest as well.
grep -v '^./lost+found' "$T/tree.manifest" > "$T/tree.manifest.tmp" && mv "$T/tree.manifest.tmp" "$T/tree.manifest"
tree_sum=$(sha256sum < "$T/tree.manifest" | cut -d' ' -f1)
make_www "inst.finish=poweroff"
link_image

# --- reinstall -----------------------------------------------------------------
log "reinstall (PXE, TCG), keeping /srv; the installer powers off when done"
pxeboot --disk "$T/target.raw" --disk "$T/other.raw" --mac "$MAC" --mem 1024 \
	--timeout 900 --fail-on "INSTALL FAILED" || die "the reinstall did not finish"
expect_log "Keep:       /dev/vda: vda4 (1.0 GiB ext4 label srv) mounted on /srv"
expect_log "destroyed on /dev/vda: partitions vda1 (1.0 MiB), vda2 (512.0 MiB swap label oldswap), vda3 (1.5 GiB ext4 label old-root)"
expect_log "/dev/vda4: kept as it is (ext4, mounted on /srv"
expect_log "INSTALL COMPLETE"
expect_log "INIT: installer exited with status 0"
[ "$(srv_bytes)" = "$srv_before" ] || die "the preserved /srv partition changed"
[ "$(sha256sum < "$T/other.raw")" = "$other_before" ] || die "the second disk changed during the install"
/sbin/sfdisk -d "$T/target.raw" > "$T/table.after"
grep -q "target.raw4 : start= *$((SRV_START / 512)), size= *$((SRV_SIZE / 512)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4" "$T/table.after" ||
	{ cat "$T/table.after"; die "partition 4 (srv) is not where it was"; }
grep -q "name=\"srv\"" "$T/table.after" || die "partition 4 lost its name"
log "ok: /srv partition byte-identical after the install ($srv_before), partition 4 unmoved"

# --- boot the installed system --------------------------------------------------
log "boot the installed system; its first boot checks /srv from inside"
mv "$SERIAL" "$T/install.log"
pxeboot --boot-disk --disk "$T/target.raw" --disk "$T/other.raw" --mac "$MAC" --mem 1024 \
	--timeout 600 --expect "REINSTALL-CHECK-DONE" || die "the installed system did not report on /srv"
expect_log "SRV-MOUNT ext4|rw,nosuid,nodev,"
expect_log "|srv"
expect_log "SRV-FSTAB 1"
grep -q "SRV-TREE $tree_sum" "$SERIAL" || {
	grep "SRV-TREE" "$SERIAL" >&2
	die "the installed system sees a different /srv tree (host manifest: $tree_sum)"
}
[ "$(sha256sum < "$T/other.raw")" = "$other_before" ] || die "the second disk changed"
log "ok: reinstalled around the preserved /srv; the new system mounts it (by UUID, nodev,nosuid) and its tree is identical"
