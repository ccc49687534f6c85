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
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
