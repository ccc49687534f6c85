#!/bin/bash
# ipxe/mkdnsmasq.sh (make dnsmasq-conf): the proxy-DHCP configuration has the
# proxy range, the iPXE user-class match and the per-architecture entries,
# passes dnsmasq's own syntax check, and bad arguments are refused.
. "$(dirname "$0")/lib.sh"
MK=$ROOT/ipxe/mkdnsmasq.sh

expect_rc 0 "$MK" --iface eth1 --server http://192.0.2.10 --subnet 192.0.2.77/24 --out "$T/d"
C=$T/d/dnsmasq.conf
expect_in "$C" "interface=eth1"
expect_in "$C" "dhcp-range=192.0.2.0,proxy,255.255.255.0"
expect_in "$C" "port=0"
expect_in "$C" "dhcp-userclass=set:ipxe,iPXE"
expect_in "$C" "dhcp-match=set:ipxe,175"
expect_in "$C" 'pxe-service=tag:!ipxe,x86PC,"Installer: iPXE (BIOS)",undionly.kpxe'
expect_in "$C" 'pxe-service=tag:!ipxe,X86-64_EFI,"Installer: iPXE (UEFI)",snponly.efi'
expect_in "$C" 'pxe-service=tag:ipxe,X86-64_EFI,"Installer",http://192.0.2.10/boot.ipxe'
expect_in "$C" "tftp-root=$T/d/tftp"
for f in undionly.kpxe ipxe.efi snponly.efi; do
	cmp -s "$T/d/tftp/$f" "/usr/lib/ipxe/$f" || die "tftp/$f is not Debian's"
done
if command -v dnsmasq >/dev/null; then
	expect_rc 0 dnsmasq --test --conf-file="$C"
fi

# /20: network address and netmask.
expect_rc 0 "$MK" --iface eth1 --server http://192.0.2.10/ --subnet 10.1.37.5/20 --out "$T/e"
expect_in "$T/e/dnsmasq.conf" "dhcp-range=10.1.32.0,proxy,255.255.240.0"

expect_rc 1 "$MK" --server http://192.0.2.10/ --subnet 192.0.2.0 --out "$T/f"
expect_in "$T/err" "--iface IFACE needed"
expect_rc 1 "$MK" --iface eth1 --server tftp://192.0.2.10/ --subnet 192.0.2.0 --out "$T/f"
expect_in "$T/err" "--server must be an http(s) URL"
expect_rc 1 "$MK" --iface eth1 --server http://192.0.2.10/ --subnet 192.0.2.300 --out "$T/f"
expect_in "$T/err" "bad subnet address"
expect_rc 1 "$MK" --iface no-such-if0 --server http://192.0.2.10/ --out "$T/f"
expect_in "$T/err" "give --subnet"

# --secureboot: UEFI clients get shim (secureboot/mknet.sh's files must be in
# the TFTP root first), BIOS clients keep iPXE.
expect_rc 1 "$MK" --iface eth1 --server http://192.0.2.10/ --subnet 192.0.2.0 --out "$T/sb" --secureboot
expect_in "$T/err" "--secureboot: no $T/sb/tftp/shimx64.efi"
mkdir -p "$T/sb/tftp/grub"
for f in shimx64.efi grubx64.efi grub/grub.cfg vmlinuz initrd.img; do echo x >"$T/sb/tftp/$f"; done
expect_rc 0 "$MK" --iface eth1 --server http://192.0.2.10/ --subnet 192.0.2.0 --out "$T/sb" --secureboot
C=$T/sb/dnsmasq.conf
expect_in "$C" 'pxe-service=tag:!ipxe,X86-64_EFI,"Installer: Secure Boot: shim, GRUB (UEFI)",shimx64.efi'
expect_in "$C" 'pxe-service=tag:!ipxe,BC_EFI,"Installer: Secure Boot: shim, GRUB (UEFI)",shimx64.efi'
expect_in "$C" 'pxe-service=tag:!ipxe,x86PC,"Installer: iPXE (BIOS)",undionly.kpxe'
! grep -q 'snponly.efi$' "$C" || die "--secureboot still hands UEFI clients iPXE"
if command -v dnsmasq >/dev/null; then
	expect_rc 0 dnsmasq --test --conf-file="$C"
fi
echo "ok"
