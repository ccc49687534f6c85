#!/bin/bash
# RAID1 over two disks: install /boot and / onto mdadm RAID1 arrays
# (disk.mirror), then boot the installed system from each disk ALONE: first
# with disk 1 removed, then with disk 2 removed. Both must boot, and the
# installed system itself reports (cloud-init bootcmd, every boot, on the
# serial console) that / and /boot are md arrays and that the array is
# degraded ([2/1]). A third disk holding a filesystem is attached the whole
# time and must be byte-identical afterwards.
. "$(dirname "$0")/lib.sh"

MAC=52:54:00:12:34:56
# Under TCG on a loaded host the installed system's CPU can stall for 20-60
# s clearing memory (soft lockups in clear_page while udev loads modules),
# and a mount waiting behind such a stall outlived systemd's default 90 s
# (/boot not mounted, emergency mode). What this test is about is the RAID:
# the installed kernel gets a longer start timeout through bootloader.append,
# as no_timer_check is given to the installer's kernel. Device units do not
# follow that timeout in systemd 252 (DefaultDeviceTimeoutSec, 90 s, has no
# kernel parameter): a 70 s soft lockup in clear_page_rep during coldplug
# made /boot's device time out in a clean run (2026-12-07), so a files:
# entry raises it in the installed system too.
cat > "$T/profiles/default.yaml" <<EOF
version: 1
hostname: raid01
bootloader: { append: "systemd.default_timeout_start_sec=600" }
disk:
  select: { serial: RAID-A }
  mirror: { select: { serial: RAID-B } }
  firmware: bios
  partitions:
    - { size: 512MiB, raid: md0 }
    - { size: rest, raid: md1 }
raid:
  - { name: md0, level: 1, fs: ext4, mount: /boot, label: boot }
  - { name: md1, level: 1, fs: ext4, mount: /, label: root }
files:
  - path: /etc/systemd/system.conf.d/50-tcg-device-timeout.conf
    content: "[Manager]\nDefaultDeviceTimeoutSec=600\n"
image:
  url: http://10.0.2.100/images/debian12.tar.zst
  sha256: "$(image_sha256)"
firstboot:
  bootcmd:
    - findmnt /boot >/dev/null || { echo "BOOTDIAG /boot is not mounted:"; systemctl status boot.mount --no-pager -l; journalctl -b --no-pager -o short-monotonic -u boot.mount -u systemd-fsck@*; cat /proc/mdstat; ls -l /dev/disk/by-uuid; } > /dev/ttyS0 2>&1
    - echo "RAIDCHECK root=\$(findmnt -no SOURCE /) boot=\$(findmnt -no SOURCE /boot) \$(grep -h -A1 '^md1' /proc/mdstat | tr -s ' \n' ' ') RAIDCHECK-END" > /dev/ttyS0
EOF
make_www "inst.finish=reboot"
link_image
make_disk "$T/a.raw" 3G
make_disk "$T/b.raw" 3G
make_disk "$T/other.raw" 256M
/sbin/mke2fs -q -F -t ext4 -L other "$T/other.raw"
before=$(sha256sum < "$T/other.raw")

log "install onto two disks (RAID1), TCG"
pxeboot --disk "$T/a.raw,serial=RAID-A" --disk "$T/b.raw,serial=RAID-B" --disk "$T/other.raw,serial=OTHER" \
	--mac "$MAC" --mem 1024 --no-reboot --timeout 1800 --fail-on "INSTALL FAILED" || die "the install did not finish"
expect_log "/dev/md0: RAID1 (metadata 1.0)"
expect_log "/dev/md1: RAID1 (metadata 1.2)"
expect_log "mdadm.conf: ARRAY /dev/md0"
expect_log "for this machine (MODULES=dep)"
expect_log "<== storage-config done"
grep -a -E "initramfs for .* rebuilt in" "$SERIAL" | sed 's/^/  /' || true
expect_log "INSTALL COMPLETE"
grep -E '^\[ *[0-9.]+\] <== [a-z-]+ done in' "$SERIAL" | sed 's/^/  phase: /'
[ "$(sha256sum < "$T/other.raw")" = "$before" ] || die "the third disk changed during the install"
mv "$SERIAL" "$T/install.log"

# The marker line printed by the installed system, with the boot's disk set.
check_boot() { # NAME
	local line
	grep -aq "systemd.default_timeout_start_sec=600" "$SERIAL" ||
		die "$1: the kernel command line lacks bootloader.append"
	line=$(grep -a 'RAIDCHECK root=' "$SERIAL" | grep -v 'echo' | tail -1)
	[ -n "$line" ] || die "$1: no RAIDCHECK line from the installed system"
	log "$1: $line"
	echo "$line" | grep -q 'root=/dev/md' || die "$1: / is not on an md array: $line"
	echo "$line" | grep -q 'boot=/dev/md' || die "$1: /boot is not on an md array: $line"
	echo "$line" | grep -q '\[2/1\]' || die "$1: the array is not degraded [2/1]: $line"
}

log "boot disk 2 alone (disk 1 removed)"
pxeboot --boot-disk --disk "$T/b.raw,serial=RAID-B" --disk "$T/other.raw,serial=OTHER" --mac "$MAC" --mem 1024 \
	--timeout 900 --expect "RAIDCHECK-END" || die "the system did not boot from disk 2 alone"
check_boot "disk 2 alone"
mv "$SERIAL" "$T/boot-b.log"

log "boot disk 1 alone (disk 2 removed)"
pxeboot --boot-disk --disk "$T/a.raw,serial=RAID-A" --disk "$T/other.raw,serial=OTHER" --mac "$MAC" --mem 1024 \
	--timeout 900 --expect "RAIDCHECK-END" || die "the system did not boot from disk 1 alone"
check_boot "disk 1 alone"
[ "$(sha256sum < "$T/other.raw")" = "$before" ] || die "the third disk changed"
log "ok: RAID1 install; boots from either disk alone with / and /boot on degraded md arrays; the third disk is untouched"
