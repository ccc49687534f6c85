#!/bin/bash
# Real-site DHCP: a QEMU guest PXE-boots through a real dnsmasq in proxy-DHCP
# mode (the configuration `make dnsmasq-conf` generates, ipxe/mkdnsmasq.sh)
# beside a plain DHCP server (a second dnsmasq with no boot options, playing
# the site's existing DHCP), and reaches the installer, which prints its plan
# (inst.dryrun) and writes nothing.
#
# UEFI with the firmware's own PXE client (OVMF, NIC without option ROM):
# plain PXE -> proxy hands snponly.efi over TFTP -> iPXE asks again with its
# user-class -> proxy hands the boot script URL (no loop) -> kernel and
# initrd over HTTP -> installer. Then BIOS with QEMU's iPXE NIC ROM: iPXE from
# the start gets the boot script directly.
#
# Network safety: this is the one test that uses -netdev tap instead of
# user,restrict=on. Everything lives in a network namespace this test creates
# (unique name, deleted on exit, also on failure): a bridge br0 192.0.2.1/24
# (TEST-NET-1, documentation addresses), the guest's tap0, and a veth pair
# whose both ends stay inside the namespace (the "site DHCP server" host,
# 192.0.2.2). The namespace has no link to the host's network and no default
# route; the test checks that before starting anything, so nothing the guest
# or the servers send can leave the namespace.
. "$(dirname "$0")/lib.sh"

command -v dnsmasq >/dev/null || die "dnsmasq missing (apt-get install dnsmasq-base; make deps)"
[ "$(id -u)" = 0 ] || die "needs root (network namespace, tap device)"

NS=pxetest-$$-$(date +%s)
PIDS=()
cleanup() {
	# Our processes (by their pids), then anything left in our namespace.
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	if ip netns list | grep -qw "$NS"; then
		for p in $(ip netns pids "$NS" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
		sleep 0.5
		for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
		ip netns del "$NS" || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
nsx() { ip netns exec "$NS" "$@"; }

log "network namespace $NS: br0 192.0.2.1/24, tap0, site DHCP on veth 192.0.2.2"
ip netns add "$NS"
nsx ip link set lo up
nsx ip link add br0 type bridge
nsx ip addr add 192.0.2.1/24 dev br0
nsx ip tuntap add tap0 mode tap
nsx ip link set tap0 master br0
nsx ip link add vsite type veth peer name vsite-br
nsx ip link set vsite-br master br0
nsx ip addr add 192.0.2.2/24 dev vsite
for l in br0 tap0 vsite vsite-br; do nsx ip link set "$l" up; done

# Isolation check: only our links, no route beyond the test subnet.
links=$(nsx ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | tr '\n' ' ')
[ "$links" = "br0 lo tap0 vsite vsite-br " ] || die "unexpected links in $NS: $links"
routes=$(nsx ip -4 route show | grep -v '^192\.0\.2\.0/24 ' || true)
[ -z "$routes" ] || die "unexpected routes in $NS: $routes"
nsx ip -4 route show default | grep -q . && die "a default route in $NS"

# The boot tree, served over HTTP on the bridge address.
cat > "$T/profiles/default.yaml" <<'YAML'
version: 1
hostname: proxy-dhcp-test
disk:
  select: { transport: virtio }
  partitions:
    - { size: rest, fs: ext4, mount: / }
image:
  url: http://192.0.2.1/images/debian12.tar.zst
  sha256: 0000000000000000000000000000000000000000000000000000000000000000
YAML
"$ROOT/ipxe/mkwww.sh" --boot-url http://192.0.2.1/ --kernel "$BUILD/kernel/vmlinuz" \
	--initrd "$BUILD/boot/initrd.img" --profiles "$T/profiles" --out "$T/www" \
	--append "inst.finish=poweroff inst.dryrun no_timer_check" --no-image >/dev/null
nsx python3 "$ROOT/qemu/httpd.py" "$T/www" --bind 192.0.2.1 --port 80 2>"$T/http.log" &
PIDS+=($!)

# The site's DHCP server: addresses only, no boot options.
nsx dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --interface=vsite --bind-interfaces \
	--dhcp-range=192.0.2.100,192.0.2.199,255.255.255.0,1h --dhcp-leasefile="$T/site.leases" \
	--dhcp-option=option:router --dhcp-option=option:dns-server \
	--no-resolv --no-hosts --log-dhcp --log-facility="$T/site-dhcp.log" --pid-file="$T/site.pid" &
PIDS+=($!)

# Our proxy-DHCP + TFTP, as generated for a real site.
"$ROOT/ipxe/mkdnsmasq.sh" --iface br0 --server http://192.0.2.1/ --subnet 192.0.2.0/24 --out "$T/dnsmasq"
# --user=root: dnsmasq drops to "nobody" by default, which cannot reach a
# TFTP root below a mktemp -d (mode 0700) clone; a real site puts the TFTP
# root where dnsmasq's user can read it (docs/boot.md).
nsx dnsmasq --keep-in-foreground --conf-file="$T/dnsmasq/dnsmasq.conf" --user=root \
	--log-facility="$T/proxy-dhcp.log" --pid-file="$T/proxy.pid" &
PIDS+=($!)
sleep 1
for f in site.pid proxy.pid; do [ -s "$T/$f" ] || die "dnsmasq did not start ($f; see $T/*dhcp.log)"; done
for p in "${PIDS[@]}"; do
	kill -0 "$p" 2>/dev/null || die "a server exited at start (see $T/*dhcp.log): $(tail -2 "$T"/*dhcp.log)"
done

# 1. UEFI, the firmware's own PXE client (no iPXE ROM on the NIC).
make_disk "$T/disk.raw" 2G
log "UEFI PXE (OVMF, plain PXE firmware) through the proxy"
SERIAL=$T/serial-uefi.log
nsx "$ROOT/qemu/pxeboot.sh" --tap tap0 --no-nic-rom --firmware uefi --disk "$T/disk.raw" \
	--mac 52:54:00:50:00:01 --serial-log "$SERIAL" --timeout 600 ||
	die "the UEFI guest did not reach the installer and power off"
expect_log "dry run: stopping after the plan"
expect_log "Target:     /dev/vda"
expect_log "INIT: installer exited with status 0"
grep -q 'sent .*/snponly.efi to 192\.0\.2\.' "$T/proxy-dhcp.log" || die "the proxy's TFTP did not send snponly.efi"
grep -qi 'vendor class: PXEClient:Arch:00007' "$T/proxy-dhcp.log" || die "no UEFI PXE client seen by the proxy"
grep -q 'user class: iPXE' "$T/proxy-dhcp.log" || die "the proxy never saw iPXE's user-class"
grep -q '"GET /boot.ipxe' "$T/http.log" || die "iPXE did not fetch the boot script over HTTP"
grep -q '"GET /initrd.img' "$T/http.log" || die "the initrd was not fetched over HTTP"
# The loop would show as iPXE being offered snponly.efi again.
n=$(grep -c 'bootfile name: snponly.efi' "$T/proxy-dhcp.log")
[ "$n" = 1 ] || die "snponly.efi offered $n times: iPXE chainloaded itself again (the loop)"
grep -q 'bootfile name: http://192.0.2.1/boot.ipxe' "$T/proxy-dhcp.log" || die "the proxy did not offer boot.ipxe"
grep -q 'DHCPACK(vsite) 192.0.2.1[0-9][0-9] 52:54:00:50:00:01' "$T/site-dhcp.log" ||
	die "the address did not come from the site's DHCP server"
all_zero "$T/disk.raw" || die "the disk was written in a dry run"

# 2. BIOS with QEMU's iPXE NIC ROM: iPXE from the start.
log "BIOS PXE (the NIC's iPXE ROM) through the proxy"
SERIAL=$T/serial-bios.log
http_before=$(grep -c '"GET /boot.ipxe' "$T/http.log")
nsx "$ROOT/qemu/pxeboot.sh" --tap tap0 --firmware bios --disk "$T/disk.raw" \
	--mac 52:54:00:50:00:02 --serial-log "$SERIAL" --timeout 600 ||
	die "the BIOS guest did not reach the installer and power off"
expect_log "dry run: stopping after the plan"
expect_log "INIT: installer exited with status 0"
[ "$(grep -c '"GET /boot.ipxe' "$T/http.log")" -gt "$http_before" ] || die "no second fetch of boot.ipxe"
! grep -q 'bootfile name: undionly.kpxe' "$T/proxy-dhcp.log" || die "iPXE was offered undionly.kpxe (the loop)"
all_zero "$T/disk.raw" || die "the disk was written in a dry run"
log "ok: PXE through the real dnsmasq in proxy mode (UEFI plain PXE -> snponly.efi -> iPXE -> boot.ipxe; BIOS iPXE -> boot.ipxe), installer reached, plan printed, nothing written"
