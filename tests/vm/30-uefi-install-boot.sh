#!/bin/bash
# UEFI end to end: PXE boot under OVMF (QEMU's iPXE, the same boot.ipxe as
# BIOS), install with a profile that has no ESP (the planner adds one because
# the installer detects UEFI), then boot the installed disk under OVMF with
# the same NVRAM (efivars) file, so the firmware uses the NVRAM entry the
# installer wrote. Checked over SSH inside the installed system: booted via
# UEFI by systemd-boot through our NVRAM entry (BootCurrent), the ESP at
# /boot/efi (vfat, umask=0077 in fstab), the loader entry, kernel-install
# rewriting the same entry (what a kernel update does), the hostname. A
# second disk is byte-identical afterwards.
. "$(dirname "$0")/lib.sh"

MAC=52:54:00:12:34:56
HOST=uefi01
EFI_GLOBAL=8be4df61-93ca-11d2-aa0d-00e098032b8c
LOADER_VENDOR=4a67b082-0a4c-41cf-b6c7-440b29bb8c4f
# The demo profile without its disk layout: swap and / only, no ESP, and no
# disk.firmware (auto).
sed -e "s/@IMAGE_SHA256@/$(image_sha256)/" -e "s/^hostname: demo01/hostname: $HOST/" \
	"$ROOT/profiles/default.yaml" >"$T/profiles/default.yaml"
grep -q "^hostname: $HOST" "$T/profiles/default.yaml" || die "profile template changed: no hostname line"
! grep -qE 'vfat|/boot/efi|firmware:' "$T/profiles/default.yaml" || die "the profile must not have an ESP"
make_www "inst.finish=reboot"
link_image
make_disk "$T/target.raw" 6G
make_disk "$T/other.raw" 512M
/sbin/mke2fs -q -F -t ext4 -L other "$T/other.raw"
echo "precious" | /sbin/debugfs -w -R "write /dev/stdin precious.txt" "$T/other.raw" >/dev/null 2>&1 || true
before=$(sha256sum <"$T/other.raw")
EFIVARS=$T/efivars.fd
rm -f "$EFIVARS"

log "install (OVMF, PXE through QEMU's iPXE, TCG); the guest reboots when done, which ends this QEMU run"
# Under TCG on a loaded host the kernel's early timer check can fail ("IO-APIC
# + timer doesn't work", a panic before any of our code runs, the disks still
# blank): that one panic gets a second boot, which must then succeed. The
# same for the boot of the installed disk below.
timer_panic() { grep -aq "IO-APIC + timer doesn't work" "$SERIAL"; }
for attempt in 1 2; do
	if pxeboot --firmware uefi --efivars "$EFIVARS" --disk "$T/target.raw" --disk "$T/other.raw" --mac "$MAC" \
		--mem 1024 --no-reboot --timeout 900 --fail-on "INSTALL FAILED"; then
		break
	fi
	if [ "$attempt" = 1 ] && timer_panic; then
		log "WARNING: the kernel's timer check failed under TCG (host load $(cut -d' ' -f1 /proc/loadavg)); booting again"
		mv "$SERIAL" "$T/install-timer-panic.log"
		continue
	fi
	die "the install did not finish"
done
expect_log "INIT: UEFI firmware: EFI variables at /sys/firmware/efi/efivars"
expect_log "Firmware:   uefi (detected)"
expect_log "esp       vfat  /boot/efi  ESP  (added: UEFI boot)"
expect_log "==> bootloader: systemd-boot on /dev/vda partition 1"
expect_log "NVRAM boot entry Boot"
expect_no_log "WARNING: no NVRAM boot entry"
expect_log "<== bootloader done"
expect_log "INSTALL COMPLETE"
expect_log "INIT: installer exited with status 0"
entry=$(tr -d '\r' <"$SERIAL" | sed -n "s/.*NVRAM boot entry Boot\([0-9A-F]\{4\}\) .*/\1/p" | tail -1)
[ -n "$entry" ] || die "no NVRAM entry number on the console"
log "the installer wrote NVRAM entry Boot$entry"
tr -d '\r' <"$SERIAL" | grep -E '^\[ *[0-9.]+\] <== [a-z-]+ done in' | sed 's/^/  phase: /'
[ "$(sha256sum <"$T/other.raw")" = "$before" ] || die "the second disk changed during the install"

log "boot the installed system from its disk (OVMF, same NVRAM)"
mv "$SERIAL" "$T/install.log"
SSH_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
QEMU_PID=""
trap 'kill $QEMU_PID 2>/dev/null || true; wait $QEMU_PID 2>/dev/null || true' EXIT
for attempt in 1 2; do
	"$ROOT/qemu/pxeboot.sh" --boot-disk --firmware uefi --efivars "$EFIVARS" --disk "$T/target.raw" \
		--disk "$T/other.raw" --mac "$MAC" --mem 1024 --ssh-port "$SSH_PORT" --serial-log "$SERIAL" \
		--timeout 900 >"$T/boot-qemu.log" 2>&1 &
	QEMU_PID=$!
	deadline=$(($(date +%s) + 600))
	until grep -aq "INSTALLED-SYSTEM-FIRSTBOOT-OK $HOST" "$SERIAL" 2>/dev/null; do
		if ! kill -0 "$QEMU_PID" 2>/dev/null; then
			if [ "$attempt" = 1 ] && timer_panic; then
				log "WARNING: the kernel's timer check failed under TCG (host load $(cut -d' ' -f1 /proc/loadavg)); booting again"
				mv "$SERIAL" "$T/boot-timer-panic.log"
				continue 2
			fi
			die "QEMU ended before the first-boot marker"
		fi
		[ "$(date +%s)" -lt "$deadline" ] || die "no first-boot marker within 600 s"
		sleep 2
	done
	break
done
grep -aq "BdsDxe: starting Boot$entry \"Linux Boot Manager\"" "$SERIAL" ||
	die "OVMF did not start Boot$entry (the installer's NVRAM entry)"
log "first-boot marker seen; checking inside over SSH"

install -m 0600 "$ROOT/tests/data/keys/demo_ed25519" "$T/key"
SSH=(ssh -i "$T/key" -p "$SSH_PORT" -o BatchMode=yes -o ConnectTimeout=10 -o StrictHostKeyChecking=no
	-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR admin@127.0.0.1)
deadline=$(($(date +%s) + 300))
until "${SSH[@]}" true 2>/dev/null; do
	[ "$(date +%s)" -lt "$deadline" ] || die "no SSH login within 300 s"
	sleep 5
done
guest() { "${SSH[@]}" "$@"; }

[ "$(guest hostname)" = "$HOST" ] || die "hostname is not $HOST"
guest test -d /sys/firmware/efi || die "the installed system did not boot via UEFI"
log "ok: booted via UEFI, hostname $HOST"

# systemd-boot booted us: it sets LoaderEntrySelected (UTF-16) for the OS.
# Vendor variables are readable by root only (efivarfs makes them 0600);
# read them whole with cat (their first 4 bytes are the attributes).
efivar() { guest "sudo cat /sys/firmware/efi/efivars/$1" | tail -c +5; }
efidiag() { guest "findmnt /sys/firmware/efi/efivars; sudo ls /sys/firmware/efi/efivars | grep -E '^(Boot|Loader)'" || true; }
selected=$(efivar "LoaderEntrySelected-$LOADER_VENDOR" | tr -d '\0')
selected=${selected%.conf} # systemd-boot's entry ids end in .conf
case "$selected" in debian-*) ;; *) efidiag; die "systemd-boot selected '$selected' (LoaderEntrySelected)" ;; esac
log "ok: systemd-boot booted entry $selected"

# The firmware used our NVRAM entry: BootCurrent is the installer's entry,
# and that entry is "Linux Boot Manager".
current=$(efivar "BootCurrent-$EFI_GLOBAL" | od -An -tx1 -N2 | awk '{printf "%s%s", toupper($2), toupper($1)}')
[ "$current" = "$entry" ] || { efidiag; die "BootCurrent is '$current', not the installer's entry $entry"; }
desc=$(efivar "Boot$entry-$EFI_GLOBAL" | tail -c +7 | tr -d '\0' | head -c 18)
[ "$desc" = "Linux Boot Manager" ] || die "Boot$entry is '$desc'"
if guest command -v efibootmgr >/dev/null; then
	guest sudo efibootmgr | grep "^Boot$entry\* Linux Boot Manager" >/dev/null || die "efibootmgr does not show Boot$entry"
	log "ok: efibootmgr shows Boot$entry* Linux Boot Manager"
fi
log "ok: the firmware booted NVRAM entry Boot$entry ($desc)"

# The ESP: vfat at /boot/efi, from fstab with umask=0077.
read -r fstype opts < <(guest findmnt -n -o FSTYPE,OPTIONS /boot/efi) || die "/boot/efi is not mounted"
[ "$fstype" = vfat ] || die "/boot/efi is $fstype"
case ",$opts," in *,fmask=0077,*) ;; *) die "/boot/efi mounted with $opts (no umask=0077)" ;; esac
guest "grep -E '^UUID=[0-9A-F-]+ +/boot/efi +vfat +umask=0077 ' /etc/fstab" >/dev/null || die "no ESP line in fstab"
log "ok: ESP mounted at /boot/efi ($fstype, $opts)"

# The loader entry; kernel-install (what a kernel update runs, through the
# installer's hook) writes exactly the same entry and files again.
ent=/boot/efi/loader/entries/$selected.conf
guest sudo test -f "$ent" || die "no $ent"
kver=$(guest "sudo sed -n 's/^version *//p' $ent")
guest uname -r | grep -qx "$kver" || die "running kernel is not the entry's $kver"
sum() { guest "sudo sha256sum $ent /boot/efi/debian/$kver/linux /boot/efi/debian/$kver/initrd.img-$kver"; }
s1=$(sum) || die "entry files missing"
guest sudo /etc/kernel/postinst.d/zz-installer-systemd-boot "$kver" "/boot/vmlinuz-$kver" ||
	die "the kernel postinst hook failed"
s2=$(sum)
[ "$s1" = "$s2" ] || die "kernel-install wrote a different entry: $s1 / $s2"
guest "sudo ls /boot/efi/loader/entries" | grep -x "$selected.conf" >/dev/null || die "entries changed"
log "ok: entry $ent; the kernel hook (kernel-install) rewrites it identically"

guest sudo poweroff >/dev/null 2>&1 || true
for _ in $(seq 120); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 1; done
trap - EXIT
kill "$QEMU_PID" 2>/dev/null || true
wait "$QEMU_PID" 2>/dev/null || true
[ "$(sha256sum <"$T/other.raw")" = "$before" ] || die "the second disk changed"
log "ok: UEFI PXE install, boot through the NVRAM entry and systemd-boot; the other disk is untouched"
