#!/bin/bash
# Dirty disk: the target holds what an old install left, and it is ACTIVE
# when the installer starts: an md RAID1 array (assembled, with an ext4 on
# it), an LVM volume group with an active logical volume, an open LUKS2
# mapping and swap in use. The old state is made by the test itself, inside
# the guest with the Debian kernel (the host has no md/dm): a small script
# appended to the installer's initramfs runs first (rdinit=), builds it with
# the real mdadm, lvm, cryptsetup and mkswap, then hands over to /init. The
# installer must release all of it (teardown), wipe the old signatures,
# install, and the installed system (which has mdadm and lvm2, with udev
# rules that would assemble and activate anything they find) must boot with
# none of the old metadata active or even present: no md array, no volume
# group, no mapping, no swap but its own. A second disk is byte-identical.
. "$(dirname "$0")/lib.sh"

MAC=52:54:00:12:34:56

# --- the old partition table (host), the old metadata (guest) -----------------
make_disk "$T/target.raw" 4G
/sbin/sfdisk -q "$T/target.raw" <<'SFDISK' >/dev/null
label: gpt
start=1MiB, size=512MiB, type=A19D880F-05FC-4D3B-A006-743F0F84911E, name=raid-a
size=512MiB, type=A19D880F-05FC-4D3B-A006-743F0F84911E, name=raid-b
size=1GiB, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name=lvm
size=256MiB, type=swap, name=swap
size=256MiB, type=CA7D7CCB-63ED-4C53-861C-1742536059CC, name=luks
SFDISK
make_disk "$T/other.raw" 256M
/sbin/mke2fs -q -F -t ext4 -L other "$T/other.raw"
other_before=$(sha256sum < "$T/other.raw")

mkdir -p "$T/overlay"
cat > "$T/overlay/dirty-setup" <<'SETUP'
#!/bin/sh
# PID 1 first (rdinit=): make the target dirty, then become the real /init.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
echo "DIRTY: building the old install's state"
modprobe -a virtio_pci virtio_blk md_mod raid1 dm_mod dm_crypt xts aesni_intel
i=0
while [ ! -b /dev/vda5 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
set -x
mdadm --create /dev/md/old --run --assume-clean --metadata=1.2 --level=1 --raid-devices=2 /dev/vda1 /dev/vda2 &&
	/sbin/mke2fs -q -F -t ext4 -L oldroot /dev/md/old
lvm pvcreate -ff -y /dev/vda3 && lvm vgcreate oldvg /dev/vda3 && lvm lvcreate -y -L 128M -n oldlv oldvg &&
	/sbin/mke2fs -q -F -t ext4 -L olddata /dev/oldvg/oldlv
mkswap -L oldswap /dev/vda4 && swapon /dev/vda4
printf old-secret > /tmp/oldkey
cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--key-file /tmp/oldkey /dev/vda5 && cryptsetup open --key-file /tmp/oldkey /dev/vda5 oldcrypt
set +x
echo "DIRTY-STATE md=$(grep -c '^md.* active' /proc/mdstat) lv=$(ls /dev/mapper | grep -c '^oldvg-oldlv$')" \
	"crypt=$(ls /dev/mapper | grep -c '^oldcrypt$') swap=$(grep -c '^/dev/vda4 ' /proc/swaps)"
exec /init
SETUP
chmod 0755 "$T/overlay/dirty-setup"
( cd "$T/overlay" && echo dirty-setup | cpio --quiet -o -H newc -R 0:0 | gzip -9 ) > "$T/overlay.cpio.gz"
cat "$BUILD/boot/initrd.img" "$T/overlay.cpio.gz" > "$T/initrd-dirty.img"

# --- the profile: the demo layout, wipe allowed; the installed system
# reports at its first boot what it sees ---------------------------------------
cat > "$T/profiles/default.yaml" <<YAML
version: 1
hostname: clean01
disk:
  select: {path: /dev/vda}
  wipe: true
  partitions:
    - {size: 512MiB, fs: swap, label: newswap}
    - {size: rest, mount: /}
image:
  url: http://10.0.2.100/images/debian12.tar.zst
  sha256: "$(image_sha256)"
firstboot:
  runcmd:
    - |
      {
      udevadm settle
      # Under a loaded TCG host systemd may give up waiting for the swap
      # device (90 s); turn on what fstab names, nothing else.
      swapon -a 2>/dev/null
      echo "CLEAN-TOOLS \$(command -v mdadm) \$(command -v vgs)"
      echo "CLEAN-MDSTAT \$(grep -c '^md' /proc/mdstat)"
      echo "CLEAN-EXAMINE \$(mdadm --examine --scan 2>/dev/null | wc -l)"
      echo "CLEAN-VGS [\$(vgs --noheadings -o vg_name 2>/dev/null | tr -d ' ' | tr '\n' ',')]"
      echo "CLEAN-PVS [\$(pvs --noheadings -o pv_name 2>/dev/null | tr -d ' ' | tr '\n' ',')]"
      echo "CLEAN-DM [\$(ls /dev/mapper | grep -vx control | tr '\n' ',')]"
      echo "CLEAN-SWAP [\$(swapon --show=NAME,LABEL --noheadings | tr -s ' ' '=' | tr '\n' ',')]"
      echo "CLEAN-SIGS [\$(for d in /dev/vda?*; do echo "\$d=\$(blkid -p -o value -s TYPE \$d)"; done | tr '\n' ',')]"
      echo CLEAN-CHECK-DONE
      } > /dev/ttyS0 2>&1
YAML
"$ROOT/ipxe/mkwww.sh" --boot-url http://10.0.2.100/ --kernel "$BUILD/kernel/vmlinuz" \
	--initrd "$T/initrd-dirty.img" --profiles "$T/profiles" --out "$T/www" \
	--append "rdinit=/dirty-setup inst.finish=reboot no_timer_check" >/dev/null
link_image

# --- install over it ---------------------------------------------------------------
log "PXE boot: build the old state (md, LVM, LUKS, swap: active), then install over it"
pxeboot --disk "$T/target.raw" --disk "$T/other.raw" --mac "$MAC" --mem 1024 --no-reboot \
	--timeout 900 --fail-on "INSTALL FAILED" || die "the install did not finish"
expect_log "DIRTY-STATE md=1 lv=1 crypt=1 swap=1"
expect_log "stopped md array /dev/md127"
expect_log "deactivated LVM volume group oldvg"
expect_log "closed LUKS mapping oldcrypt"
expect_log "swapoff /dev/vda4"
expect_log "INSTALL COMPLETE"
expect_log "INIT: installer exited with status 0"
grep -E '^\[ *[0-9.]+\] <== teardown' "$SERIAL" | sed 's/^/  /'
[ "$(sha256sum < "$T/other.raw")" = "$other_before" ] || die "the second disk changed during the install"
# On the host: no old signature anywhere the old partitions were.
for off in 1 513 1025 2049 2305; do
	if /sbin/blkid -p -O $((off * 1024 * 1024)) -S $((256 * 1024 * 1024)) -o value -s TYPE "$T/target.raw" 2>/dev/null |
		grep -Eq 'linux_raid_member|LVM2_member|crypto_LUKS'; then
		die "an old signature survived at $off MiB"
	fi
done

# --- boot the installed system -----------------------------------------------------
log "boot the installed system; its first boot reports what is active"
mv "$SERIAL" "$T/install.log"
pxeboot --boot-disk --disk "$T/target.raw" --disk "$T/other.raw" --mac "$MAC" --mem 1024 \
	--timeout 600 --expect "CLEAN-CHECK-DONE" || die "the installed system did not report"
grep '^CLEAN-' "$SERIAL" | sed 's/^/  /'
grep -q "^CLEAN-TOOLS /usr/sbin/mdadm /usr/sbin/vgs\|^CLEAN-TOOLS /sbin/mdadm /sbin/vgs" "$SERIAL" ||
	die "the installed system lacks mdadm or lvm2: the check would mean nothing (rebuild the demo image)"
expect_log "CLEAN-MDSTAT 0"
expect_log "CLEAN-EXAMINE 0"
expect_log "CLEAN-VGS []"
expect_log "CLEAN-PVS []"
expect_log "CLEAN-DM []"
expect_log "CLEAN-SWAP [/dev/vda2=newswap,]"
expect_log "CLEAN-SIGS [/dev/vda1=,/dev/vda2=swap,/dev/vda3=ext4,]"
[ "$(sha256sum < "$T/other.raw")" = "$other_before" ] || die "the second disk changed"
log "ok: the old md array, volume group, LUKS mapping and swap were released and wiped; none is active after the reboot"
