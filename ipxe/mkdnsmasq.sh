#!/bin/bash
# mkdnsmasq.sh — a dnsmasq configuration for booting the installer at a real
# site: proxy-DHCP beside the site's existing DHCP server (which keeps
# handing out the addresses), plus a TFTP root with the iPXE binaries.
#
# Usage:
#   ipxe/mkdnsmasq.sh --iface IFACE --server URL [--subnet ADDR[/PREFIX]]
#                     [--out DIR] [--ipxe-dir DIR] [--secureboot]
#
#   --iface IFACE    the interface of the boot server on the machines' LAN
#   --server URL     where the boot tree (build/www, `make www BOOT_URL=URL`)
#                    is served over HTTP, e.g. http://192.0.2.10/
#   --subnet ADDR    the LAN's network address, e.g. 192.0.2.0 or
#                    192.0.2.0/24 (default: from IFACE's IPv4 address on
#                    this machine)
#   --out DIR        output directory (default build/dnsmasq): DIR/dnsmasq.conf
#                    and DIR/tftp/ (undionly.kpxe, ipxe.efi, snponly.efi)
#   --ipxe-dir DIR   where the iPXE binaries are (default /usr/lib/ipxe,
#                    Debian's ipxe package)
#   --secureboot     UEFI x86-64 PXE clients get shim (shimx64.efi -> Debian's
#                    signed GRUB -> the signed kernel, docs/secureboot.md)
#                    instead of iPXE, which Secure Boot refuses; DIR/tftp/
#                    must already hold secureboot/mknet.sh's files (make
#                    dnsmasq-conf SECUREBOOT=1 puts them there). BIOS clients
#                    keep iPXE
#
# What the configuration does (docs/boot.md, "Real-site DHCP"):
#   * answers only as proxy-DHCP (dhcp-range=SUBNET,proxy): no addresses, no
#     DNS (port=0); the site's DHCP server is left alone;
#   * plain PXE firmware (no iPXE user-class) gets iPXE over TFTP by client
#     architecture (option 93): undionly.kpxe for BIOS, snponly.efi for UEFI
#     x86-64 (the firmware's own network driver; ipxe.efi, with iPXE's
#     drivers, is in the TFTP root too for NICs whose UEFI driver is poor);
#   * iPXE (user-class "iPXE", or option 175 which every iPXE sends) gets the
#     boot script URL SERVER/boot.ipxe instead. Without this match iPXE would
#     be handed undionly.kpxe again and chainload itself for ever (the loop
#     described in /work/shared/FACTS.md).
# Run it with: dnsmasq --conf-file=DIR/dnsmasq.conf (as root; dnsmasq-base).
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit "${1:-0}"
}

IFACE="" SERVER="" SUBNET="" OUT=build/dnsmasq IPXE_DIR=/usr/lib/ipxe SECUREBOOT=""
while [ $# -gt 0 ]; do
	case "$1" in
	--iface) IFACE=$2; shift 2 ;;
	--server) SERVER=$2; shift 2 ;;
	--subnet) SUBNET=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--ipxe-dir) IPXE_DIR=$2; shift 2 ;;
	--secureboot) SECUREBOOT=1; shift ;;
	-h | --help) usage 0 ;;
	*) echo "mkdnsmasq: unknown argument: $1" >&2; usage 1 >&2 ;;
	esac
done
die() { echo "mkdnsmasq: error: $*" >&2; exit 1; }
[ -n "$IFACE" ] || die "--iface IFACE needed (make dnsmasq-conf IFACE=eth1 SERVER=http://...)"
[ -n "$SERVER" ] || die "--server URL needed: where build/www is served, e.g. http://192.0.2.10/"
case "$IFACE" in *[!a-zA-Z0-9_.@-]*) die "bad interface name '$IFACE'" ;; esac
case "$SERVER" in http://* | https://*) ;; *) die "--server must be an http(s) URL" ;; esac
case "$SERVER" in *[[:space:]\",]*) die "--server must not contain spaces, commas or quotes" ;; esac
case "$SERVER" in */) ;; *) SERVER=$SERVER/ ;; esac

# The subnet: given, or from the interface's address here.
if [ -z "$SUBNET" ]; then
	cidr=$(ip -4 -o addr show dev "$IFACE" 2>/dev/null | awk '{print $4; exit}' || true)
	[ -n "$cidr" ] || die "no IPv4 address on $IFACE here: give --subnet (SUBNET=192.0.2.0/24)"
	SUBNET=$cidr
fi
prefix=24
case "$SUBNET" in */*) prefix=${SUBNET#*/} SUBNET=${SUBNET%/*} ;; esac
[[ $SUBNET =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]] || die "bad subnet address '$SUBNET'"
[[ $prefix =~ ^[0-9]+$ ]] && [ "$prefix" -ge 8 ] && [ "$prefix" -le 30 ] || die "bad prefix length /$prefix"
# Network address and netmask from ADDR/PREFIX.
IFS=. read -r a b c d <<<"$SUBNET"
for o in $a $b $c $d; do [ "$o" -le 255 ] || die "bad subnet address '$SUBNET'"; done
ip=$(((a << 24) | (b << 16) | (c << 8) | d))
mask=$(((0xffffffff << (32 - prefix)) & 0xffffffff))
net=$((ip & mask))
dotted() { echo "$((($1 >> 24) & 255)).$((($1 >> 16) & 255)).$((($1 >> 8) & 255)).$(($1 & 255))"; }
NETWORK=$(dotted "$net") NETMASK=$(dotted "$mask")

mkdir -p "$OUT/tftp"
OUT=$(cd "$OUT" && pwd)
for f in undionly.kpxe ipxe.efi snponly.efi; do
	[ -f "$IPXE_DIR/$f" ] || die "$IPXE_DIR/$f missing (apt-get install ipxe)"
	cp --remove-destination "$IPXE_DIR/$f" "$OUT/tftp/$f"
done
UEFI_FILE=snponly.efi UEFI_WHAT="iPXE (UEFI)"
if [ -n "$SECUREBOOT" ]; then
	for f in shimx64.efi grubx64.efi grub/grub.cfg vmlinuz initrd.img; do
		[ -s "$OUT/tftp/$f" ] || die "--secureboot: no $OUT/tftp/$f (secureboot/mknet.sh --out $OUT/tftp ...; make dnsmasq-conf SECUREBOOT=1)"
	done
	UEFI_FILE=shimx64.efi UEFI_WHAT="Secure Boot: shim, GRUB (UEFI)"
fi

cat >"$OUT/dnsmasq.conf.tmp" <<EOF
# dnsmasq configuration: proxy-DHCP + TFTP for the installer's network boot.
# Generated by ipxe/mkdnsmasq.sh (make dnsmasq-conf); see docs/boot.md.
#   interface:   $IFACE
#   subnet:      $NETWORK/$prefix
#   boot server: $SERVER (serves build/www: boot.ipxe, vmlinuz, initrd.img, profiles/)
# Run: dnsmasq --conf-file=$OUT/dnsmasq.conf   (as root)

# No DNS; only this interface.
port=0
interface=$IFACE
bind-interfaces
no-resolv
no-hosts

# Proxy-DHCP: the site's DHCP server keeps handing out the addresses; this
# server only adds the boot information for PXE clients.
dhcp-range=$NETWORK,proxy,$NETMASK
log-dhcp

# TFTP for the first stage: the iPXE binaries.
enable-tftp
tftp-root=$OUT/tftp

# iPXE says who it is: user-class "iPXE", and option 175 (its own options).
# Those clients get the boot script; without this they would be handed
# iPXE again and chainload it for ever.
dhcp-userclass=set:ipxe,iPXE
dhcp-match=set:ipxe,175

# Plain PXE firmware (option 93 client architecture picks the entry):
# BIOS -> undionly.kpxe, UEFI x86-64 -> $UEFI_FILE$([ -n "$SECUREBOOT" ] && echo " (Secure Boot: shim ->
# Debian's signed GRUB -> grub/grub.cfg -> vmlinuz + initrd.img over TFTP)" || echo " (iPXE over the firmware's
# own network driver; ipxe.efi with iPXE's drivers is in the TFTP root too)").
pxe-service=tag:!ipxe,x86PC,"Installer: iPXE (BIOS)",undionly.kpxe
pxe-service=tag:!ipxe,X86-64_EFI,"Installer: $UEFI_WHAT",$UEFI_FILE
pxe-service=tag:!ipxe,BC_EFI,"Installer: $UEFI_WHAT",$UEFI_FILE

# iPXE (from the step above, or a NIC's own iPXE ROM): the boot script.
pxe-service=tag:ipxe,x86PC,"Installer",${SERVER}boot.ipxe
pxe-service=tag:ipxe,X86-64_EFI,"Installer",${SERVER}boot.ipxe
pxe-service=tag:ipxe,BC_EFI,"Installer",${SERVER}boot.ipxe
EOF
mv "$OUT/dnsmasq.conf.tmp" "$OUT/dnsmasq.conf"
echo "mkdnsmasq: wrote $OUT/dnsmasq.conf (proxy-DHCP on $IFACE, $NETWORK/$prefix, boot script ${SERVER}boot.ipxe) and $OUT/tftp/"
