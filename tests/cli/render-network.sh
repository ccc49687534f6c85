#!/bin/bash
# `installer render-network`: exit codes, the DHCP fallback without a network
# section (networkd file, or netplan YAML that netplan accepts), a profile as
# well as a netplan file, and files of an earlier run removed when the target
# changes from networkd to netplan.
. "$(dirname "$0")/lib.sh"
SHA=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
GENERATE=/usr/libexec/netplan/generate
[ -x "$GENERATE" ] || GENERATE="/usr/sbin/netplan generate"

cat > "$T/nonet.yaml" <<YAML
version: 1
hostname: n1
disk: {partitions: [{size: rest, mount: /}]}
image: {url: http://h/i.tar.zst, sha256: $SHA}
YAML
{ cat "$T/nonet.yaml"; cat <<'YAML'
network:
  version: 2
  ethernets:
    lan: {match: {macaddress: "52:54:00:12:34:01"}, addresses: [192.0.2.10/24]}
  vlans:
    lan.7: {id: 7, link: lan, dhcp4: true}
YAML
} > "$T/net.yaml"
netplan_root() { mkdir -p "$1/usr/sbin"; touch "$1/usr/sbin/netplan"; chmod 0755 "$1/usr/sbin/netplan"; }

# Usage errors: 2.
expect_rc 2 "$INSTALLER" render-network "$T/net.yaml"
expect_in "$T/err" "--root DIR is required"
expect_rc 2 "$INSTALLER" render-network --root "$T/x"
expect_rc 2 "$INSTALLER" render-network "$T/net.yaml" "$T/net.yaml" --root "$T/x"
[ ! -e "$T/x" ] || die "a usage error wrote something"

# An invalid network section: 3, positioned, nothing written.
sed 's/id: 7/id: 4095/' "$T/net.yaml" > "$T/bad.yaml"
expect_rc 3 "$INSTALLER" render-network "$T/bad.yaml" --root "$T/bad"
expect_in "$T/err" "$T/bad.yaml:10:17: error: network.vlans.lan.7.id: expected an integer from 0 to 4094, got '4095'"
[ ! -e "$T/bad" ] || die "an invalid profile wrote something"

# No network section, networkd target: DHCP on the boot MAC (normalised).
expect_rc 0 "$INSTALLER" render-network "$T/nonet.yaml" --root "$T/a" --boot-mac 52-54-00-AB-CD-EF
f=$T/a/etc/systemd/network/10-installer-default.network
expect_in "$f" "MACAddress=52:54:00:ab:cd:ef"
expect_in "$f" "DHCP=yes"
[ "$(ls "$T/a/etc/systemd/network")" = 10-installer-default.network ] || die "more than the fallback file"
expect_rc 0 "$INSTALLER" render-network "$T/nonet.yaml" --root "$T/a2"
expect_in "$T/a2/etc/systemd/network/10-installer-default.network" "Name=en* eth*"

# No network section, netplan target: the same as YAML, which netplan accepts.
netplan_root "$T/b"
expect_rc 0 "$INSTALLER" render-network "$T/nonet.yaml" --root "$T/b" --boot-mac 52:54:00:AB:CD:EF
[ "$(stat -c %a "$T/b/etc/netplan/50-installer.yaml")" = 600 ] || die "50-installer.yaml is not 0600"
[ ! -e "$T/b/etc/systemd/network" ] || die "networkd files on a netplan target"
$GENERATE --root-dir "$T/b" 2>"$T/gen.err" || { cat "$T/gen.err"; die "netplan refuses our fallback YAML"; }
expect_in "$T/b/run/systemd/network/10-netplan-default.network" "PermanentMACAddress=52:54:00:ab:cd:ef"
expect_in "$T/b/run/systemd/network/10-netplan-default.network" "DHCP=yes"
netplan_root "$T/b2"
expect_rc 0 "$INSTALLER" render-network "$T/nonet.yaml" --root "$T/b2"
$GENERATE --root-dir "$T/b2" 2>"$T/gen.err" || { cat "$T/gen.err"; die "netplan refuses our fallback YAML"; }
expect_in "$T/b2/run/systemd/network/10-netplan-default-en.network" "Name=en*"
expect_in "$T/b2/run/systemd/network/10-netplan-default-eth.network" "Name=eth*"

# A profile: networkd files; then the same root gains netplan: our networkd
# files go, the YAML comes, other files in the directory stay.
expect_rc 0 "$INSTALLER" render-network "$T/net.yaml" --root "$T/c"
[ "$(ls "$T/c/etc/systemd/network" | tr '\n' ' ')" = "10-installer-lan.7.netdev 10-installer-lan.7.network 10-installer-lan.network " ] ||
	die "unexpected files: $(ls "$T/c/etc/systemd/network")"
expect_in "$T/c/etc/systemd/network/10-installer-lan.network" "VLAN=lan.7"
touch "$T/c/etc/systemd/network/20-site.network"
netplan_root "$T/c"
expect_rc 0 "$INSTALLER" render-network "$T/net.yaml" --root "$T/c"
[ "$(ls "$T/c/etc/systemd/network")" = 20-site.network ] || die "left: $(ls "$T/c/etc/systemd/network")"
expect_in "$T/c/etc/netplan/50-installer.yaml" "lan.7:"
echo OK
