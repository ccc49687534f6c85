#!/bin/bash
# The system sections of a profile applied to the real demo image (extracted
# from build/image/debian12.tar.zst) with `installer configure --root`, then
# judged by the image's own tools, run chrooted into it: pwck/grpck,
# visudo -c on every sudoers file, sshd -t and sshd -T with the drop-in,
# cloud-init schema on the NoCloud user-data, locale -a after locale-gen,
# date for the time zone. post_install commands ran in the chroot (their
# output logged line by line); a failing one is exit 6, an optional one is
# not; nothing stays mounted. Needs root (chroot, mounts) and the image.
. "$(dirname "$0")/lib.sh"
IMAGE=$ROOT/build/image/debian12.tar.zst
if [ "$(id -u)" != 0 ] || [ ! -f "$IMAGE" ]; then echo "SKIP: needs root and $IMAGE"; exit 0; fi
D=$(mktemp -d /tmp/sysconf-image.XXXXXX)
mounts_below() { awk -v d="$1" '$5 == d || index($5, d "/") == 1' /proc/self/mountinfo | wc -l; }
cleanup() {
	# Never remove a tree that still has something mounted in it (it could be /dev).
	if [ "$(mounts_below "$D")" -eq 0 ]; then rm -rf "$D"; else echo "mounts left below $D: kept" >&2; fi
	rm -rf "$T"
}
trap cleanup EXIT
zstd -dc "$IMAGE" | tar -x --numeric-owner -C "$D"
in_root() { chroot "$D" "$@"; }

printf 'fetched through file://\n' > "$T/payload"
SHA=$(sha256sum "$T/payload" | cut -d' ' -f1)
cat > "$T/p.yaml" <<YAML
version: 1
hostname: sysconf-image
disk: {select: {transport: virtio}, partitions: [{size: rest, fs: ext4, mount: /}]}
image: {url: "http://10.0.2.100/debian12.tar.zst", sha256: "$SHA"}
groups:
  - {name: deploy, gid: 2000}
  - {name: monitoring, system: true}
users:
  - name: alice
    uid: 1500
    shell: /bin/bash
    groups: [deploy, sudo, adm]
    sudo: true
    ssh_authorized_keys: ["$(cat "$ROOT/tests/data/keys/demo_ed25519.pub")"]
  - name: bob
    home: /srv/bob
    groups: [monitoring]
    sudo: "ALL=(root) NOPASSWD: /usr/bin/systemctl status *"
    password_hash: "\$y\$j9T\$F5Jx5fExrKuJuRYVL3fNk/\$y1zZsfA0gXcBFSI3ZPuGJl4Q2PbgsBEZIw5YmL6BRi8"
  - name: svc
    lock: true
ssh: {permit_root_login: "no", password_authentication: false}
files:
  - {path: /etc/motd, content: "configured\n"}
  - {path: /srv/bob/report.txt, url: "file://$T/payload", sha256: "$SHA", owner: bob, group: monitoring, mode: "0640"}
packages: [htop]
post_install:
  - echo one; echo two >&2; echo done > /root/post-install-ran
  - run: exit 3
    optional: true
firstboot:
  runcmd: [touch /var/lib/first-boot-ran]
  write_files: [{path: /etc/issue.d/x.issue, content: hi}]
timezone: Europe/Berlin
locale: de_DE.UTF-8
keyboard: {layout: de, variant: nodeadkeys}
ntp: [192.0.2.123]
YAML
expect_rc 0 "$INSTALLER" configure --profile "$T/p.yaml" --root "$D"
[ "$(mounts_below "$D")" -eq 0 ] || die "mounts left below $D"
# post_install output, line by line, and the optional failure.
expect_in "$T/err" "post_install[0]: one"
expect_in "$T/err" "post_install[0]: two"
expect_in "$T/err" "post_install[1] failed (non-zero exit); it is optional"
[ "$(cat "$D/root/post-install-ran")" = done ] || die "post_install did not run in the target"

# Accounts, by the image's shadow tools.
# pwck -r exits 2 for the image's own system users whose homes (/var/www ...)
# do not exist in a minimal image: those warnings only, never about ours.
check_shadow_tool() {
	local rc=0
	in_root "$1" -r > "$T/$1" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || { cat "$T/$1"; die "$1 -r exited $rc"; }
	if grep -v -e "^$1: no changes\$" -e "^user '[a-z-]*': directory '.*' does not exist\$" "$T/$1" ||
	   grep -E "'(alice|bob|svc)'" "$T/$1"; then
		die "$1 -r complains (above)"
	fi
}
check_shadow_tool pwck
check_shadow_tool grpck
in_root id alice | grep -q "uid=1500(alice).*(deploy).*" || die "alice: $(in_root id alice)"
in_root id bob | grep -q "(monitoring)" || die "bob: $(in_root id bob)"
[ "$(in_root getent passwd bob | cut -d: -f6)" = /srv/bob ] || die "bob's home"
in_root getent shadow svc | cut -d: -f2 | grep -qx '!\*' || die "svc is not locked"
[ "$(in_root getent group monitoring | cut -d: -f3)" -lt 1000 ] || die "monitoring is not a system group"
# sudoers: every file, and the whole, by visudo.
for f in "$D"/etc/sudoers.d/90-installer-*; do in_root visudo -c -f "${f#"$D"}" >/dev/null || die "visudo -c -f $f"; done
in_root visudo -c >/dev/null || die "visudo -c"
# sshd: the drop-in parses and wins (sshd -T prints the effective values).
in_root ssh-keygen -q -t ed25519 -N '' -f /tmp/test_host_key
mkdir -p "$D/run/sshd"
in_root /usr/sbin/sshd -t -f /etc/ssh/sshd_config -h /tmp/test_host_key || die "sshd -t"
in_root /usr/sbin/sshd -T -f /etc/ssh/sshd_config -h /tmp/test_host_key > "$T/sshd-T"
expect_in "$T/sshd-T" "permitrootlogin no"
expect_in "$T/sshd-T" "passwordauthentication no"
expect_in "$T/sshd-T" "kbdinteractiveauthentication no"
# cloud-init: Debian's schema validation of the seed (packages: went there: no mirror).
expect_in "$D/var/lib/cloud/seed/nocloud/user-data" "- htop"
in_root cloud-init schema --config-file /var/lib/cloud/seed/nocloud/user-data > "$T/schema" 2>&1 || { cat "$T/schema"; die "cloud-init schema"; }
expect_in "$T/schema" "Valid cloud-config"
# The image has cloud-init: no fallback unit.
[ ! -e "$D/etc/systemd/system/installer-firstboot.service" ] || die "fallback unit written although cloud-init is there"
# Files.
[ "$(cat "$D/srv/bob/report.txt")" = "fetched through file://" ] || die "report.txt"
[ "$(stat -c '%a %U %G' "$D/srv/bob/report.txt" | sed "s/$(stat -c %u "$D/srv/bob/report.txt")/bob/")" != "" ]
[ "$(in_root stat -c '%a %U %G' /srv/bob/report.txt)" = "640 bob monitoring" ] || die "report.txt: $(in_root stat -c '%a %U %G' /srv/bob/report.txt)"
# Time zone, locale, keyboard, NTP as Debian reads them.
[ "$(env -u TZ chroot "$D" date -d @0 +%Z)" = CET ] || die "time zone: $(in_root date -d @0 +%Z)"
in_root locale -a | grep -qx de_DE.utf8 || die "de_DE.UTF-8 not generated: $(in_root locale -a)"
expect_in "$D/etc/default/locale" "LANG=de_DE.UTF-8"
( . "$D/etc/default/keyboard"; [ "$XKBLAYOUT" = de ] && [ "$XKBVARIANT" = nodeadkeys ] ) || die "keyboard"
expect_in "$D/etc/systemd/timesyncd.conf.d/50-installer.conf" "NTP=192.0.2.123"

# An image without cloud-init gets the first-boot unit: systemd accepts it,
# and its script keeps the marker until every command succeeded.
rm "$D/usr/bin/cloud-init"
cat > "$T/fb.yaml" <<YAML
version: 1
hostname: sysconf-fb
disk: {select: {transport: virtio}, partitions: [{size: rest, fs: ext4, mount: /}]}
image: {url: "http://10.0.2.100/debian12.tar.zst", sha256: "$SHA"}
firstboot:
  runcmd:
    - echo run >> /root/firstboot-runs
    - test -e /root/allow-firstboot
YAML
expect_rc 0 "$INSTALLER" configure --profile "$T/fb.yaml" --root "$D" --no-chroot
[ -L "$D/etc/systemd/system/multi-user.target.wants/installer-firstboot.service" ] || die "the first-boot unit is not enabled"
[ -e "$D/var/lib/installer/firstboot.pending" ] || die "no first-boot marker"
in_root systemd-analyze verify /etc/systemd/system/installer-firstboot.service > "$T/verify" 2>&1 ||
	{ cat "$T/verify"; die "systemd-analyze verify refuses the first-boot unit"; }
! grep -i "installer-firstboot" "$T/verify" || die "systemd-analyze verify complains about the unit (above)"
if in_root /usr/local/lib/installer/firstboot.sh > "$T/fb1" 2>&1; then die "the first-boot script ignored a failing command"; fi
[ -e "$D/var/lib/installer/firstboot.pending" ] || die "a failed first boot removed the marker"
touch "$D/root/allow-firstboot"
in_root /usr/local/lib/installer/firstboot.sh > "$T/fb2" 2>&1 || { cat "$T/fb2"; die "the first-boot script failed"; }
[ ! -e "$D/var/lib/installer/firstboot.pending" ] && [ -s "$D/var/lib/installer/firstboot.done" ] ||
	die "the marker stayed after a successful first boot"
[ "$(wc -l < "$D/root/firstboot-runs")" -eq 2 ] || die "the commands did not run again after the failed first boot"

# A failing post_install command fails the configuration: exit 6.
sed -i 's/^  - run: exit 3$/  - run: echo failing; exit 4/; /^    optional: true$/d' "$T/p.yaml"
expect_rc 6 "$INSTALLER" configure --profile "$T/p.yaml" --root "$D"
expect_in "$T/err" "post_install[1]: failing"
expect_in "$T/err" "post_install[1] (line"
[ "$(mounts_below "$D")" -eq 0 ] || die "mounts left below $D after a failure"
# packages with an apt mirror the installer cannot reach (nothing listens on
# 127.0.0.1:9): apt-get update in the chroot fails, so does the install; the
# temporary policy-rc.d is gone again.
cat > "$T/apt.yaml" <<YAML
version: 1
hostname: sysconf-apt
disk: {select: {transport: virtio}, partitions: [{size: rest, fs: ext4, mount: /}]}
image: {url: "http://10.0.2.100/debian12.tar.zst", sha256: "$SHA"}
apt: {mirror: "http://127.0.0.1:9/debian"}
packages: [htop]
YAML
expect_rc 6 "$INSTALLER" configure --profile "$T/apt.yaml" --root "$D"
expect_in "$T/err" "apt-get update in the target failed (mirror http://127.0.0.1:9/debian, suite bookworm)"
expect_in "$D/etc/apt/sources.list.d/installer.list" "deb http://127.0.0.1:9/debian bookworm main"
[ ! -e "$D/usr/sbin/policy-rc.d" ] || die "policy-rc.d left in the target"
[ "$(mounts_below "$D")" -eq 0 ] || die "mounts left below $D after apt failed"

# A file whose sha256 does not match: exit 7, the file is not written.
sed -i "s|sha256: \"$SHA\", owner|sha256: \"$(printf %064d 0)\", owner|" "$T/p.yaml"
rm "$D/srv/bob/report.txt"
expect_rc 7 "$INSTALLER" configure --profile "$T/p.yaml" --root "$D" --no-chroot
expect_in "$T/err" "does not match its sha256"
[ ! -e "$D/srv/bob/report.txt" ] || die "a file with a wrong sha256 was written"
echo ok
