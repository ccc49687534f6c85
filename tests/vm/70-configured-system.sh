#!/bin/bash
# The installed system comes up configured (issue 6): a machine with two
# NICs is installed from a profile with the static NIC carrying a VLAN and
# routes, a DHCP NIC, two users (one with sudo, one without) and a group,
# the sshd policy, a file, a post-install command and a first-boot command,
# then boots from its disk. Over SSH (hostfwd on 127.0.0.1) the test checks
# addresses, routes, the VLAN, the hostname, the users and their groups, sudo
# (the sudoer can, the other cannot), sshd's effective policy (sshd -T), the
# file (content, owner, mode), the post-install result, the first-boot marker
# and the time zone. A second disk is hashed before and after.
. "$(dirname "$0")/lib.sh"

MAC1=52:54:00:12:34:56
MAC2=52:54:00:12:34:57
KEY_PUB=$(cat "$ROOT/tests/data/keys/demo_ed25519.pub")
cat > "$T/profiles/default.yaml" <<YAML
version: 1
hostname: configured01
disk:
  select: {transport: virtio, prefer: first}
  table: gpt
  partitions:
    - {size: rest, fs: ext4, mount: /}
image:
  url: http://10.0.2.100/images/debian12.tar.zst
  sha256: "$(image_sha256)"
groups:
  - {name: deploy, gid: 2000}
users:
  - name: admin
    password_hash: "!"
    ssh_authorized_keys: ["$KEY_PUB"]
    groups: [deploy, adm]
    sudo: "ALL=(ALL) NOPASSWD:ALL"
  - name: guest
    uid: 1700
    lock: true
    ssh_authorized_keys: ["$KEY_PUB"]
ssh:
  permit_root_login: "no"
  password_authentication: false
network:
  version: 2
  ethernets:
    lan:
      match: {macaddress: "$MAC1"}
      addresses: [10.0.2.15/24]
      routes:
        - {to: default, via: 10.0.2.2}
        - {to: 198.51.100.0/24, via: 10.0.2.2, metric: 50}
    wan:
      match: {macaddress: "$MAC2"}
      dhcp4: true
  vlans:
    lan.100:
      id: 100
      link: lan
      addresses: [192.0.2.10/24]
files:
  - path: /etc/configured-by-installer
    content: "written from the profile\n"
    owner: admin
    group: deploy
    mode: "0640"
post_install:
  - echo "post-install ran in \$(cat /etc/hostname) with \$(ls /proc/1/ | wc -l) entries in /proc/1" > /var/lib/post-install-result; cat /var/lib/post-install-result
firstboot:
  runcmd:
    - touch /var/lib/firstboot-marker
    - echo CONFIGURED-SYSTEM-FIRSTBOOT-OK \$(hostname) > /dev/ttyS0
timezone: Europe/Berlin
YAML
"$ROOT/build/installer/installer" validate "$T/profiles/default.yaml" >/dev/null || die "the test profile does not validate"
make_www "inst.finish=reboot"
link_image
make_disk "$T/target.raw" 6G
make_disk "$T/other.raw" 256M
/sbin/mke2fs -q -F -t ext4 -L other "$T/other.raw"
before=$(sha256sum < "$T/other.raw")

log "install (PXE on $MAC1, a second NIC $MAC2 attached)"
pxeboot --disk "$T/target.raw" --disk "$T/other.raw" --mac "$MAC1" --mac2 "$MAC2" --mem 1024 --no-reboot \
	--timeout 900 --fail-on "INSTALL FAILED" || die "the install did not finish"
expect_log "INSTALL COMPLETE"
expect_log "post_install[0]: post-install ran in configured01"
expect_log "<== post-install done"
[ "$(sha256sum < "$T/other.raw")" = "$before" ] || die "the second disk changed during the install"

log "boot the installed system; check it over SSH"
mv "$SERIAL" "$T/install.log"
SSH_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pxeboot --boot-disk --disk "$T/target.raw" --disk "$T/other.raw" --mac "$MAC1" --mac2 "$MAC2" --mem 1024 \
	--ssh-port "$SSH_PORT" --timeout 900 > "$T/boot-qemu.log" 2>&1 &
QEMU_PID=$!
trap 'kill $QEMU_PID 2>/dev/null || true' EXIT
deadline=$(($(date +%s) + 900))
until grep -q "CONFIGURED-SYSTEM-FIRSTBOOT-OK configured01" "$SERIAL" 2>/dev/null; do
	kill -0 "$QEMU_PID" 2>/dev/null || die "QEMU exited before the first-boot marker"
	[ "$(date +%s)" -lt "$deadline" ] || die "no first-boot marker within 900s"
	sleep 2
done
log "first-boot marker on the console"

install -m 0600 "$ROOT/tests/data/keys/demo_ed25519" "$T/key"
ssh_as() {
	local who=$1; shift
	ssh -i "$T/key" -p "$SSH_PORT" -o BatchMode=yes -o ConnectTimeout=20 -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "$who@127.0.0.1" "$@"
}
for _ in $(seq 60); do ssh_as admin true 2>/dev/null && break; sleep 5; done
ssh_as admin true || die "no SSH login as admin"
check() { echo "  ok: $*"; }

# Network: the static NIC, its routes, the VLAN on top, the DHCP NIC.
ssh_as admin 'ip -o -4 addr; ip -d link; ip route' > "$T/net.txt"
if1=$(ssh_as admin "ip -o link | awk -v m=$MAC1 '\$0 ~ m {sub(\":\",\"\",\$2); sub(\"@.*\",\"\",\$2); print \$2; exit}'")
if2=$(ssh_as admin "ip -o link | awk -v m=$MAC2 '\$0 ~ m {sub(\":\",\"\",\$2); sub(\"@.*\",\"\",\$2); print \$2; exit}'")
grep -qE "^[0-9]+: $if1 +inet 10\.0\.2\.15/24" "$T/net.txt" || { cat "$T/net.txt"; die "$if1 ($MAC1) lacks 10.0.2.15/24"; }
check "$if1 ($MAC1) has the static 10.0.2.15/24"
for _ in $(seq 30); do ssh_as admin "ip -o -4 addr show dev $if2" | grep -q "inet 10\.0\.3\." && break; sleep 2; done
ssh_as admin "ip -o -4 addr show dev $if2" | grep -q "inet 10\.0\.3\.15/24" || { cat "$T/net.txt"; die "$if2 ($MAC2) got no DHCP address"; }
check "$if2 ($MAC2) has its DHCP address 10.0.3.15/24"
ssh_as admin "ip -d link show lan.100" > "$T/vlan.txt" || die "no interface lan.100"
grep -q "vlan protocol 802.1Q id 100" "$T/vlan.txt" || { cat "$T/vlan.txt"; die "lan.100 is not VLAN 100"; }
grep -q "lan.100@$if1" "$T/vlan.txt" || { cat "$T/vlan.txt"; die "lan.100 is not on $if1"; }
ssh_as admin "ip -o -4 addr show dev lan.100" | grep -q "inet 192\.0\.2\.10/24" || die "lan.100 lacks 192.0.2.10/24"
check "lan.100: VLAN 100 on $if1 with 192.0.2.10/24"
grep -qE "^default via 10\.0\.2\.2 dev $if1" "$T/net.txt" || { cat "$T/net.txt"; die "no default route via 10.0.2.2 on $if1"; }
grep -qE "^198\.51\.100\.0/24 via 10\.0\.2\.2 dev $if1 .*metric 50" "$T/net.txt" || { cat "$T/net.txt"; die "no route to 198.51.100.0/24 with metric 50"; }
check "routes: default via 10.0.2.2, 198.51.100.0/24 via 10.0.2.2 metric 50"

# Hostname, users, groups, sudo.
[ "$(ssh_as admin hostname)" = configured01 ] || die "hostname is $(ssh_as admin hostname)"
check "hostname configured01"
ssh_as admin id | grep -q "(deploy)" || die "admin is not in deploy: $(ssh_as admin id)"
ssh_as guest id | grep -q "^uid=1700(guest)" || die "guest: $(ssh_as guest id)"
check "users: $(ssh_as admin id | cut -d' ' -f1,3 | cut -c1-60)...; $(ssh_as guest id | cut -d' ' -f1)"
ssh_as admin sudo -n true || die "admin cannot sudo"
if ssh_as guest sudo -n true 2>/dev/null; then die "guest can sudo"; fi
check "sudo: admin can, guest cannot"
[ "$(ssh_as admin sudo -n passwd -S guest | cut -d' ' -f2)" = L ] || die "guest's password is not locked"
check "guest's password is locked (key login still works)"

# sshd's effective policy.
ssh_as admin sudo -n sshd -T > "$T/sshd-T"
grep -qx "permitrootlogin no" "$T/sshd-T" || die "sshd -T: $(grep permitrootlogin "$T/sshd-T")"
grep -qx "passwordauthentication no" "$T/sshd-T" || die "sshd -T: $(grep passwordauthentication "$T/sshd-T")"
check "sshd -T: permitrootlogin no, passwordauthentication no"

# The file, the post-install result, the first-boot marker, the time zone.
[ "$(ssh_as admin stat -c "'%a %U %G'" /etc/configured-by-installer)" = "640 admin deploy" ] ||
	die "file: $(ssh_as admin stat -c "'%a %U %G'" /etc/configured-by-installer)"
[ "$(ssh_as admin cat /etc/configured-by-installer)" = "written from the profile" ] || die "file content"
check "/etc/configured-by-installer: content, 0640 admin:deploy"
ssh_as admin cat /var/lib/post-install-result | grep -q "^post-install ran in configured01" || die "post-install result"
check "post-install result: $(ssh_as admin cat /var/lib/post-install-result)"
ssh_as admin test -e /var/lib/firstboot-marker || die "no first-boot marker file"
check "first-boot marker /var/lib/firstboot-marker"
[ "$(ssh_as admin readlink /etc/localtime)" = /usr/share/zoneinfo/Europe/Berlin ] || die "time zone"
check "time zone $(ssh_as admin date +%Z)"

ssh_as admin sudo -n poweroff || true
wait "$QEMU_PID" 2>/dev/null || true
trap - EXIT
[ "$(sha256sum < "$T/other.raw")" = "$before" ] || die "the second disk changed"
log "ok: configured system checked over SSH; the other disk is untouched"
