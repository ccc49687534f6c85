#!/bin/sh
# Install the Debian 12 packages the build, the demo and the tests need.
# Idempotent: only packages that are missing are installed. Run as root.
set -eu

PACKAGES="
build-essential pkg-config clang libclang-rt-14-dev
libparted-dev libblkid-dev libcurl4-openssl-dev libarchive-dev libyaml-dev
libssl-dev libcrypt-dev libcmocka-dev
busybox-static kmod cpio zstd xz-utils
ipxe ipxe-qemu syslinux-common extlinux pxelinux isolinux systemd-boot-efi
e2fsprogs dosfstools mtools fdisk parted util-linux
mdadm lvm2 dmsetup cryptsetup-bin
qemu-system-x86 qemu-utils ovmf
xorriso
debootstrap python3 openssh-client
netplan.io
dnsmasq-base
efibootmgr
libmicrohttpd-dev libsqlite3-dev sqlite3 libpq-dev libjansson-dev
postgresql nginx-light chromium python3-websocket
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "deps: all $(echo $PACKAGES | wc -w) packages present"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run 'make deps' as root (or: apt-get install$missing)" >&2
	exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# postgresql and nginx are servers the tests start themselves, on loopback or
# a socket: their packages must not start (or enable) the system-wide services,
# which would listen on the network. policy-rc.d 101 = "not allowed".
POLICY=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$POLICY" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$POLICY"
	chmod 755 "$POLICY"
	own_policy=1
fi
# shellcheck disable=SC2086
rc=0
apt-get install -y -qq --no-install-recommends $missing || rc=$?
[ -z "$own_policy" ] || rm -f "$POLICY"
[ "$rc" -eq 0 ] || exit "$rc"
