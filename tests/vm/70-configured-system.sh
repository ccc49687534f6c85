#!/bin/bash
# The installed system comes up configured (issue 6): a machine with two
# NICs is installed from a profile with the static NIC carrying a VLAN and
# routes, a DHCP NIC, two users (one with sudo, one without) and a group,
# the sshd policy, a file, a post-install command and a first-boot command,
# then boots from its disk. Over SSH (hostfwd on 127.0.0.1) the test checks
# addresses, routes, the VLAN, the hostname, the users and their groups, sudo
# (the sudoer can, the other cannot), sshd's effective policy (sshd -T), the
# file (content, owner, mode), the post-install result, the first-boot marker,
# the time zone, bootloader.append on the kernel command line and cloud-init's
# state. A second disk is hashed before and after.
. "$(dirname "$0")/lib.sh"

MAC1=52:54:00:12:34:56
MAC2=52:54:00:12:34:57
KEY_PUB=$(cat "$ROOT/tests/data/keys/demo_ed25519.pub")
cat > "$T/profiles/default.yaml" <<YAML
version: 1
hostname: configured01
bootloader: { append: "panic=30 net.ifnames=1" }
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

# Everything in two SSH sessions (each login costs seconds under TCG): the
# facts, section by section, into files; judged here.
ssh_as admin 'sh -s' > "$T/facts.txt" <<'EOS'
sec() { echo "=== $1"; }
# Judge the system once it has finished booting (networkd has configured
# every link it manages, or given up on it).
sec boot; timeout 300 systemctl is-system-running --wait
for _ in $(seq 30); do ip -o -4 addr | grep -q "inet 10\.0\.3\." && break; sleep 2; done
sec networkctl; networkctl list --no-pager
sec addr; ip -o -4 addr
sec link; ip -o link
sec vlan; ip -d link show lan.100
sec route; ip route
sec hostname; hostname
sec id; id
sec sudo; sudo -n true && echo admin-sudo-ok
sec passwd-S; sudo -n passwd -S guest
sec sshd-T; sudo -n sshd -T
sec stat; stat -c '%a %U %G' /etc/configured-by-installer
sec content; cat /etc/configured-by-installer
sec post-install; cat /var/lib/post-install-result
sec firstboot; test -e /var/lib/firstboot-marker && echo firstboot-marker-ok
sec localtime; readlink /etc/localtime
sec default-user; getent passwd debian || echo no-debian-user
sec cmdline; cat /proc/cmdline; echo "panic=$(cat /proc/sys/kernel/panic)"
sec cloud-init; cloud-init status --long; sudo -n cloud-init schema --system 2>&1
sec end
EOS
ssh_as guest 'id; sudo -n true 2>/dev/null && echo GUEST-SUDO-OK || echo guest-sudo-refused' > "$T/guest.txt" || die "no SSH login as guest"
section() { awk -v s="=== $1" '$0 == s {on=1; next} /^=== / {on=0} on' "$T/facts.txt"; }
want() { # want SECTION REGEX WHAT (grep reads all: with -q and pipefail, awk could die of SIGPIPE)
	section "$1" | grep -E -- "$2" >/dev/null || {
		echo "--- $1:"; section "$1"
		echo "--- boot state and links:"; section boot; section networkctl
		die "$3"
	}
}
grep -q "^=== end" "$T/facts.txt" || { cat "$T/facts.txt"; die "the facts were not collected"; }
ifname() { section link | awk -v m="$1" '$0 ~ m {sub(":","",$2); sub("@.*","",$2); print $2; exit}'; }
if1=$(ifname "$MAC1") if2=$(ifname "$MAC2")

# Network: the static NIC, its routes, the VLAN on top, the DHCP NIC.
want addr "^[0-9]+: $if1 +inet 10\.0\.2\.15/24" "$if1 ($MAC1) lacks 10.0.2.15/24"
check "$if1 ($MAC1) has the static 10.0.2.15/24"
want addr "^[0-9]+: $if2 +inet 10\.0\.3\.15/24" "$if2 ($MAC2) got no DHCP address"
check "$if2 ($MAC2) has its DHCP address 10.0.3.15/24"
want vlan "vlan protocol 802\.1Q id 100" "lan.100 is not VLAN 100"
want vlan "lan\.100@$if1" "lan.100 is not on $if1"
want addr "^[0-9]+: lan\.100 +inet 192\.0\.2\.10/24" "lan.100 lacks 192.0.2.10/24"
check "lan.100: VLAN 100 on $if1 with 192.0.2.10/24"
want route "^default via 10\.0\.2\.2 dev $if1" "no default route via 10.0.2.2 on $if1"
want route "^198\.51\.100\.0/24 via 10\.0\.2\.2 dev $if1 .*metric 50" "no route to 198.51.100.0/24 with metric 50"
check "routes: default via 10.0.2.2, 198.51.100.0/24 via 10.0.2.2 metric 50"

# Hostname, users, groups, sudo.
want hostname "^configured01\$" "wrong hostname"
check "hostname configured01"
want id "^uid=[0-9]+\(admin\).*\(deploy\)" "admin is not in deploy"
grep -q "^uid=1700(guest)" "$T/guest.txt" || { cat "$T/guest.txt"; die "guest is not uid 1700"; }
check "users: $(section id | cut -d' ' -f1,3); $(head -1 "$T/guest.txt" | cut -d' ' -f1)"
want sudo "^admin-sudo-ok\$" "admin cannot sudo"
grep -q "^guest-sudo-refused" "$T/guest.txt" || { cat "$T/guest.txt"; die "guest can sudo"; }
check "sudo: admin can, guest cannot"
want passwd-S "^guest L " "guest's password is not locked"
check "guest's password is locked (its key login worked)"

# sshd's effective policy.
want sshd-T "^permitrootlogin no\$" "sshd -T: permitrootlogin is not no"
want sshd-T "^passwordauthentication no\$" "sshd -T: passwordauthentication is not no"
check "sshd -T: permitrootlogin no, passwordauthentication no"

# The file, the post-install result, the first-boot marker, the time zone.
want stat "^640 admin deploy\$" "/etc/configured-by-installer: wrong mode or owner"
want content "^written from the profile\$" "/etc/configured-by-installer: wrong content"
check "/etc/configured-by-installer: content, 0640 admin:deploy"
want post-install "^post-install ran in configured01" "no post-install result"
check "post-install result: $(section post-install)"
want firstboot "^firstboot-marker-ok\$" "no first-boot marker file"
check "first-boot marker /var/lib/firstboot-marker"
want localtime "^/usr/share/zoneinfo/Europe/Berlin\$" "wrong time zone"
check "time zone Europe/Berlin"

# bootloader.append reached the installed kernel, after the installer's own.
want cmdline "(^| )root=UUID=[-0-9a-f]+ ro console=tty0 console=ttyS0,115200n8 panic=30 net\.ifnames=1( |\$)" "the kernel command line lacks bootloader.append"
want cmdline "^panic=30\$" "the kernel did not take panic=30 from bootloader.append"
check "kernel command line: $(section cmdline | head -1)"

# cloud-init: done without errors, its merged configuration valid (no
# "Invalid cloud-config" warning at each boot), no distribution default user.
want cloud-init "^status: done" "cloud-init did not finish: $(section cloud-init | head -3 | tr '\n' ' ')"
want cloud-init "^Valid cloud-config: system" "cloud-init schema --system: $(section cloud-init | tail -3 | tr '\n' ' ')"
expect_no_log "Invalid cloud-config provided"
want default-user "^no-debian-user\$" "cloud-init created the distribution's default user 'debian'"
check "cloud-init: status done, schema --system valid, no default user"

ssh_as admin sudo -n poweroff || true
wait "$QEMU_PID" 2>/dev/null || true
trap - EXIT
[ "$(sha256sum < "$T/other.raw")" = "$before" ] || die "the second disk changed"
log "ok: configured system checked over SSH; the other disk is untouched"
