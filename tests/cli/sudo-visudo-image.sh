#!/bin/bash
# A sudo rule that passes the installer's own sudoers grammar check but that
# the image's sudo rejects is refused by the image's visudo in the configure
# step, before it is installed: no /etc/sudoers.d file (a broken one would
# break sudo for every user), no leftover check file, nothing mounted. A
# good rule is installed. Needs root (chroot, mounts) and the image.
. "$(dirname "$0")/lib.sh"
IMAGE=$ROOT/build/image/debian12.tar.zst
if [ "$(id -u)" != 0 ] || [ ! -f "$IMAGE" ]; then echo "SKIP: needs root and $IMAGE"; exit 0; fi
D=$(mktemp -d /tmp/sudo-visudo.XXXXXX)
mounts_below() { awk -v d="$1" '$5 == d || index($5, d "/") == 1' /proc/self/mountinfo | wc -l; }
cleanup() {
	# Never remove a tree that still has something mounted in it (it could be /dev).
	if [ "$(mounts_below "$D")" -eq 0 ]; then rm -rf "$D"; else echo "mounts left below $D: kept" >&2; fi
	rm -rf "$T"
}
trap cleanup EXIT
zstd -dc "$IMAGE" | tar -x --numeric-owner -C "$D" ./etc ./usr ./bin ./sbin ./lib ./lib64 ./var ./root ./home 2>/dev/null ||
	zstd -dc "$IMAGE" | tar -x --numeric-owner -C "$D"
[ -x "$D/usr/sbin/visudo" ] || die "the image has no /usr/sbin/visudo"

profile() {
	cat > "$T/p.yaml" <<YAML
version: 1
hostname: sudo-image
disk: {partitions: [{size: rest, fs: ext4, mount: /}]}
image: {url: "http://10.0.2.100/debian12.tar.zst", sha256: "$(printf '0%.0s' {1..64})"}
users:
  - name: carol
    password_hash: "*"
    ssh_authorized_keys: ["$(cat "$ROOT/tests/data/keys/demo_ed25519.pub")"]
    sudo: "$1"
YAML
}
# Three run-as fields: the grammar check lets '(...)' through, sudo does not.
profile "ALL=(ALL:ALL:ALL) ALL"
expect_rc 0 "$INSTALLER" validate "$T/p.yaml"
set +e
"$INSTALLER" configure --profile "$T/p.yaml" --root "$D" > "$T/out" 2> "$T/err"
rc=$?
set -e
[ "$rc" -ne 0 ] || die "configure accepted a rule visudo rejects"
expect_in "$T/err" "the target's visudo rejects the sudo rule of carol"
[ ! -e "$D/etc/sudoers.d/90-installer-carol" ] || die "the rejected rule was installed"
! ls "$D/etc/sudoers.d/" | grep -q installer-check || die "the check file was left behind"
[ "$(mounts_below "$D")" -eq 0 ] || die "mounts left below $D"

profile "ALL=(root) NOPASSWD: /usr/bin/systemctl restart nginx, /usr/bin/apt-get update"
expect_rc 0 "$INSTALLER" configure --profile "$T/p.yaml" --root "$D"
grep -qx 'carol ALL=(root) NOPASSWD: /usr/bin/systemctl restart nginx, /usr/bin/apt-get update' \
	"$D/etc/sudoers.d/90-installer-carol" || die "the good rule was not installed"
[ "$(stat -c %a "$D/etc/sudoers.d/90-installer-carol")" = 440 ] || die "wrong mode"
! ls "$D/etc/sudoers.d/" | grep -q installer-check || die "the check file was left behind"
chroot "$D" /usr/sbin/visudo -c > "$T/visudo" 2>&1 || { cat "$T/visudo"; die "visudo -c fails on the result"; }
[ "$(mounts_below "$D")" -eq 0 ] || die "mounts left below $D"
echo ok
