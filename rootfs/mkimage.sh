#!/bin/bash
# mkimage.sh --out DIR [options] — build the demo OS image (Debian 12, bookworm).
#
# Bootstraps a minimal Debian 12 root filesystem (debootstrap --variant=minbase),
# installs what a bootable server needs (kernel, systemd, udev, OpenSSH,
# cloud-init with the NoCloud datasource, sudo, ...) with the security suite
# applied, strips per-machine identity (machine-id, SSH host keys, hostname)
# and packs it as:
#
#   DIR/debian12.tar.zst          tar (numeric owners, xattrs, ACLs) | zstd
#   DIR/debian12.tar.zst.sha256   sha256sum format, basename only
#   DIR/debian12.manifest         installed packages: name, version, arch
#
# Options:
#   --out DIR              where the image goes (required)
#   --mirror URL           Debian mirror for bookworm (default: the bookworm
#                          entry of this machine's apt sources)
#   --security-mirror URL  mirror for bookworm-security, or "none" to skip it
#                          (default: the bookworm-security entry of the apt sources)
#   --zstd-level N         zstd compression level (default 10)
#   --keep-tree            keep the unpacked tree: DIR/debian12.tree on success,
#                          the temporary build directory on failure
#   --force                rebuild even when a valid image is already there
#
# Cached: when DIR/debian12.tar.zst and its .sha256 exist and match, nothing is
# done (use --force). The build happens in a temporary directory under DIR and
# the results are renamed into place only on success, .sha256 last, so a failed
# or interrupted build never leaves an image that verifies.
# Needs root, debootstrap, zstd, GNU tar. Network: only the Debian mirrors.
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit "${1:-0}"
}

NAME=debian12
SUITE=bookworm
ARCH=amd64
# Installed on top of minbase, without Recommends. Beyond the basic server set:
#   dbus libpam-systemd   system bus + logind: systemctl as a user, hostnamectl,
#                         networkctl, loginctl and SSH sessions work
#   iputils-ping libcap2-bin  ping, with its file capability (set by setcap)
#   zstd                  update-initramfs compresses with zstd (else: gzip + warning)
PACKAGES="systemd-sysv udev dbus libpam-systemd openssh-server cloud-init sudo
iproute2 kmod initramfs-tools zstd ca-certificates netbase less iputils-ping libcap2-bin"
# Storage: RAID1, LVM, LUKS2 root/data volumes. The initramfs hooks of mdadm,
# lvm2 and cryptsetup-initramfs let the installed system's initramfs assemble,
# activate and unlock them (the installer runs update-initramfs in the target).
PACKAGES="$PACKAGES mdadm lvm2 cryptsetup cryptsetup-initramfs"
# Installed last, in its own apt run: the initramfs is then built once, by the
# kernel's postinst, with every hook in place (not again by a trigger).
# systemd-resolved comes last too: installing it turns /etc/resolv.conf into a
# link to the stub resolver, which would leave later apt runs in the chroot
# without DNS. It gives DHCP-only machines working name resolution.
KERNEL_PACKAGES="linux-image-amd64 systemd-resolved"

OUT="" MIRROR="" SEC_MIRROR="" LEVEL=10 KEEP_TREE=0 FORCE=0
while [ $# -gt 0 ]; do
	case "$1" in
	--out) OUT=${2:?--out needs a directory}; shift 2 ;;
	--out=*) OUT=${1#*=}; shift ;;
	--mirror) MIRROR=${2:?--mirror needs a URL}; shift 2 ;;
	--mirror=*) MIRROR=${1#*=}; shift ;;
	--security-mirror) SEC_MIRROR=${2:?--security-mirror needs a URL or none}; shift 2 ;;
	--security-mirror=*) SEC_MIRROR=${1#*=}; shift ;;
	--zstd-level) LEVEL=${2:?--zstd-level needs a number}; shift 2 ;;
	--zstd-level=*) LEVEL=${1#*=}; shift ;;
	--keep-tree) KEEP_TREE=1; shift ;;
	--force) FORCE=1; shift ;;
	-h | --help) usage 0 ;;
	*) echo "mkimage: unknown argument: $1" >&2; usage 1 >&2 ;;
	esac
done
[ -n "$OUT" ] || { echo "mkimage: --out DIR is required" >&2; usage 1 >&2; }

log() { echo "mkimage: $*"; }
warn() { echo "mkimage: WARNING: $*" >&2; }
die() { echo "mkimage: error: $*" >&2; exit 1; }

case "$LEVEL" in [1-9] | 1[0-9]) ;; *) die "--zstd-level must be 1..19" ;; esac
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot)"
for tool in debootstrap zstd tar sha256sum flock chroot mount umount dpkg-query; do
	command -v "$tool" >/dev/null || die "$tool not found (run 'make deps')"
done

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)
IMG=$OUT/$NAME.tar.zst
SUM=$IMG.sha256
MANIFEST=$OUT/$NAME.manifest
KEPT_TREE=$OUT/$NAME.tree

# ---------------------------------------------------------------------------
# Timing: step NAME starts a step (ending the previous one); step_end ends it.
T0=${EPOCHREALTIME/./}
STEP="" STEP_T=0
step_end() {
	[ -n "$STEP" ] || return 0
	local now=${EPOCHREALTIME/./}
	printf 'mkimage: [%6.1fs] %s\n' "$(((now - STEP_T) / 100000))e-1" "$STEP"
	STEP=""
}
step() {
	step_end
	STEP=$1 STEP_T=${EPOCHREALTIME/./}
	log "--- $1"
}
total() {
	local now=${EPOCHREALTIME/./}
	printf '%s.%s' "$(((now - T0) / 1000000))" "$((((now - T0) / 100000) % 10))"
}

# ---------------------------------------------------------------------------
# One build at a time per output directory.
exec 9>"$OUT/.mkimage.lock"
flock -n 9 || die "another mkimage.sh is running on $OUT"

# Cache: a tarball whose .sha256 matches is a finished image.
is_cached() {
	[ -f "$IMG" ] && [ -f "$SUM" ] || return 1
	# The .sha256 must name exactly our tarball.
	[ "$(awk '{print $2}' "$SUM")" = "$NAME.tar.zst" ] || return 1
	(cd "$OUT" && sha256sum --quiet --status -c "$NAME.tar.zst.sha256")
}
if [ "$FORCE" = 0 ]; then
	step "check cache"
	if is_cached; then
		step_end
		log "cached: $IMG matches $(basename "$SUM") (use --force to rebuild)"
		exit 0
	fi
	step_end
fi

# ---------------------------------------------------------------------------
# Mounts and cleanup. Nothing is ever deleted while something is mounted below it.
mounts_under() { # print mount points below $1, deepest first
	local dir=$1
	awk -v d="$dir/" '{
		m = $5
		# mountinfo escapes space, tab, newline, backslash as \ooo
		while (match(m, /\\[0-7][0-7][0-7]/)) {
			o = substr(m, RSTART + 1, 3)
			c = sprintf("%c", (substr(o,1,1) * 64) + (substr(o,2,1) * 8) + substr(o,3,1))
			m = substr(m, 1, RSTART - 1) c substr(m, RSTART + 4)
		}
		if (index(m, d) == 1) print m
	}' /proc/self/mountinfo | sort -r
}
umount_under() {
	local m
	mounts_under "$1" | while IFS= read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" || warn "cannot unmount $m"
	done
	[ -z "$(mounts_under "$1")" ]
}
remove_dir() { # rm -rf, but only when nothing is mounted below
	[ -e "$1" ] || return 0
	if umount_under "$1"; then
		rm -rf --one-file-system "$1"
	else
		warn "still mounted below $1; not removing it"
	fi
}

# Left over by a build that was killed (we hold the lock, so none is running).
for stale in "$OUT"/.mkimage.*/; do
	[ -d "$stale" ] || continue
	warn "removing stale build directory ${stale%/}"
	remove_dir "${stale%/}"
done

WORK=$(mktemp -d "$OUT/.mkimage.XXXXXX")
TREE=$WORK/tree
OK=0
cleanup() {
	local rc=$?
	set +e
	step_end 2>/dev/null
	umount_under "$WORK" || warn "mounts left below $WORK"
	if [ "$OK" = 1 ] || [ "$KEEP_TREE" = 0 ]; then
		remove_dir "$WORK"
	else
		warn "build failed; kept $WORK for inspection (--keep-tree)"
	fi
	[ "$OK" = 1 ] || echo "mkimage: FAILED after $(total)s (exit $rc)" >&2
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# ---------------------------------------------------------------------------
# Mirrors, from this machine's apt sources (one-line *.list and deb822 *.sources).
# Prints "SUITE URI" for every enabled "deb" entry.
apt_source_entries() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk '{ sub(/#.*/, "") }
		$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
			if (i + 1 <= NF) print $(i + 1), $i
		}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk 'function flush(   n, m, j, u, s) {
			if (types ~ /(^| )deb( |$)/ && enabled !~ /^(no|false|0)$/) {
				n = split(uris, u, " "); m = split(suites, s, " ")
				for (j = 1; j <= m && n >= 1; j++) print s[j], u[1]
			}
			types = uris = suites = last = ""; enabled = "yes"
		}
		BEGIN { enabled = "yes" }
		/^#/ { next }
		/^[ \t]*$/ { flush(); next }
		/^[ \t]/ {            # continuation of the previous field
			v = $0; gsub(/[ \t]+/, " ", v)
			if (last == "types") types = types v
			else if (last == "uris") uris = uris v
			else if (last == "suites") suites = suites v
			next
		}
		{
			k = $0; sub(/:.*/, "", k); k = tolower(k)
			v = $0; sub(/^[^:]*:/, "", v); gsub(/[ \t]+/, " ", v)
			last = k
			if (k == "types") types = v
			else if (k == "uris") uris = v
			else if (k == "suites") suites = v
			else if (k == "enabled") { enabled = tolower(v); gsub(/ /, "", enabled) }
		}
		END { flush() }' "$f"
	done
}
# The first usable URI for suite $1, trailing slash removed.
apt_mirror_for() {
	apt_source_entries | awk -v s="$1" '$1 == s && $2 ~ /^(https?|ftp|file):/ {
		u = $2; sub(/\/+$/, "", u); print u; exit }'
}

step "find mirrors"
HOST_MAIN=$(apt_mirror_for "$SUITE")
HOST_UPDATES=$(apt_mirror_for "$SUITE-updates")
if [ -z "$MIRROR" ]; then
	MIRROR=$HOST_MAIN
	[ -n "$MIRROR" ] || die "no '$SUITE' entry in /etc/apt/sources.list{,.d/*}; pass --mirror URL"
fi
MIRROR=${MIRROR%/}
# bookworm-updates: only if the apt sources have it on the same mirror as bookworm.
UPDATES=""
[ -n "$HOST_UPDATES" ] && [ "$HOST_UPDATES" = "$HOST_MAIN" ] && UPDATES=$SUITE-updates
if [ -z "$SEC_MIRROR" ]; then
	SEC_MIRROR=$(apt_mirror_for "$SUITE-security")
	[ -n "$SEC_MIRROR" ] || warn "no '$SUITE-security' entry in the apt sources; image gets no security updates"
elif [ "$SEC_MIRROR" = none ]; then
	SEC_MIRROR=""
fi
SEC_MIRROR=${SEC_MIRROR%/}
log "mirror:          $MIRROR ($SUITE${UPDATES:+ $UPDATES})"
log "security mirror: ${SEC_MIRROR:-(none)}"

# ---------------------------------------------------------------------------
step "debootstrap (minbase)"
debootstrap --variant=minbase --arch="$ARCH" --components=main \
	"$SUITE" "$TREE" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || {
	tail -n 30 "$WORK/debootstrap.log" >&2
	[ -f "$TREE/debootstrap/debootstrap.log" ] && tail -n 30 "$TREE/debootstrap/debootstrap.log" >&2
	die "debootstrap failed"
}
log "debootstrap: $(grep -c '^I: Validating' "$WORK/debootstrap.log" || true) packages"

# ---------------------------------------------------------------------------
# Chroot helpers. Only /proc and a private /dev/pts are mounted (dpkg
# maintainer scripts and update-initramfs need /proc; apt wants a pty).
in_chroot() {
	chroot "$TREE" /usr/bin/env -i \
		HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true "$@"
}
APT_OPTS=(-y -q -o APT::Install-Recommends=false -o Dpkg::Options::=--force-unsafe-io
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

step "configure apt, mount /proc"
mount -t proc proc "$TREE/proc"
mkdir -p "$TREE/dev/pts"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$TREE/dev/pts"
# No daemon may start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$TREE/usr/sbin/policy-rc.d"
chmod 755 "$TREE/usr/sbin/policy-rc.d"
rm -f "$TREE/etc/apt/sources.list"
{
	echo "Types: deb"
	echo "URIs: $MIRROR"
	echo "Suites: $SUITE${UPDATES:+ $UPDATES}"
	echo "Components: main"
	echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
	if [ -n "$SEC_MIRROR" ]; then
		echo
		echo "Types: deb"
		echo "URIs: $SEC_MIRROR"
		echo "Suites: $SUITE-security"
		echo "Components: main"
		echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
	fi
} >"$TREE/etc/apt/sources.list.d/debian.sources"
# debootstrap copied the build host's resolv.conf (needed for apt-get below when
# the mirror is a host name); it is replaced before packing.
[ -s "$TREE/etc/resolv.conf" ] || cp /etc/resolv.conf "$TREE/etc/resolv.conf"

step "apt-get update + upgrade (security)"
in_chroot apt-get "${APT_OPTS[@]}" update
in_chroot apt-get "${APT_OPTS[@]}" upgrade

step "apt-get install server packages"
# shellcheck disable=SC2086
in_chroot apt-get "${APT_OPTS[@]}" install $PACKAGES

step "apt-get install kernel (+ initramfs)"
# shellcheck disable=SC2086
in_chroot apt-get "${APT_OPTS[@]}" install $KERNEL_PACKAGES

# ---------------------------------------------------------------------------
step "configure system"
# cloud-init: NoCloud (the installer writes /var/lib/cloud/seed/nocloud/), then None.
# The network is configured by the installer's systemd-networkd files, so
# cloud-init must not write its own (it would add a DHCP fallback).
cat >"$TREE/etc/cloud/cloud.cfg.d/90_demo-image.cfg" <<'EOF'
# Written by rootfs/mkimage.sh (demo OS image of the bare-metal installer).
# The installer writes a NoCloud seed to /var/lib/cloud/seed/nocloud/
# (and its own 99-installer.cfg, which comes later and wins).
datasource_list: [ NoCloud, None ]
# Networking is configured by the installer (systemd-networkd .network files).
network:
  config: disabled
# sshd does not use DSA keys; do not generate one.
ssh_genkeytypes: [ rsa, ecdsa, ed25519 ]
EOF
# A system locale, so cloud-init's locale module keeps it instead of trying to
# generate en_US.UTF-8 (which fails: cloud-config.service would be "failed").
echo 'LANG=C.UTF-8' >"$TREE/etc/default/locale"

# SSH host keys are removed below; generate the missing ones at boot, after
# cloud-init (whose ssh module may generate them itself) and before sshd.
cat >"$TREE/etc/systemd/system/regenerate-ssh-host-keys.service" <<'EOF'
[Unit]
Description=Generate missing SSH host keys
Documentation=man:ssh-keygen(1)
After=cloud-init.service
Before=ssh.service ssh.socket multi-user.target
ConditionPathExists=/usr/bin/ssh-keygen

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target ssh.service
EOF
in_chroot systemctl enable regenerate-ssh-host-keys.service ssh.service systemd-networkd.service

# DNS: systemd-resolved is used only if present (it is not in bookworm minbase);
# otherwise /etc/resolv.conf is a static file the installer fills in.
if [ -e "$TREE/lib/systemd/system/systemd-resolved.service" ]; then
	in_chroot systemctl enable systemd-resolved.service
	ln -sfn ../run/systemd/resolve/stub-resolv.conf "$TREE/etc/resolv.conf"
	RESOLV="systemd-resolved"
else
	rm -f "$TREE/etc/resolv.conf"
	cat >"$TREE/etc/resolv.conf" <<'EOF'
# Static resolver configuration (no systemd-resolved in this image).
# The installer writes the nameservers of the profile here.
EOF
	RESOLV="static /etc/resolv.conf"
fi
log "DNS: $RESOLV"
# A serial getty on ttyS0 is started by systemd-getty-generator when the kernel
# command line has console=ttyS0; check the generator is there.
[ -x "$TREE/lib/systemd/system-generators/systemd-getty-generator" ] ||
	die "systemd-getty-generator missing: no serial console login"

# ---------------------------------------------------------------------------
step "strip machine identity, clean"
umount_under "$TREE" || die "cannot unmount below $TREE"
rm -f "$TREE/usr/sbin/policy-rc.d"
in_chroot apt-get -q clean
rm -rf "$TREE"/var/lib/apt/lists/*
mkdir -p "$TREE/var/lib/apt/lists/partial"
rm -f "$TREE"/etc/ssh/ssh_host_*
: >"$TREE/etc/machine-id"
rm -f "$TREE/var/lib/dbus/machine-id"
rm -f "$TREE/etc/hostname"
rm -f "$TREE/var/log/bootstrap.log" "$TREE"/var/cache/debconf/*-old "$TREE"/var/lib/dpkg/*-old
rm -rf "$TREE"/tmp/* "$TREE"/var/tmp/* "$TREE/debootstrap"
[ -z "$(ls "$TREE/proc")" ] || die "$TREE/proc is not empty"

# ---------------------------------------------------------------------------
step "manifest"
dpkg-query --admindir="$TREE/var/lib/dpkg" -W \
	-f='${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n' |
	awk -F'\t' '$1 ~ /^ii/ { print $2 "\t" $3 "\t" $4 }' | sort >"$WORK/$NAME.manifest"
NPKG=$(wc -l <"$WORK/$NAME.manifest")
KERNELS=$(find "$TREE/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort | paste -sd' ')
[ -n "$KERNELS" ] || die "no kernel in $TREE/boot"
ls "$TREE"/boot/initrd.img-* >/dev/null 2>&1 || die "no initramfs in $TREE/boot"
TREE_MB=$(du -sxm "$TREE" | cut -f1)
log "$NPKG packages, kernel $KERNELS, tree ${TREE_MB} MB"

# ---------------------------------------------------------------------------
step "pack (tar | zstd -T0 -$LEVEL)"
tar --numeric-owner --xattrs --xattrs-include='*' --acls --sort=name \
	-C "$TREE" -cf - . | zstd -q -T0 -"$LEVEL" -o "$WORK/$NAME.tar.zst"
zstd -q -t "$WORK/$NAME.tar.zst"

step "sha256"
(cd "$WORK" && sha256sum "$NAME.tar.zst" >"$NAME.tar.zst.sha256")
sync "$WORK/$NAME.tar.zst" "$WORK/$NAME.tar.zst.sha256" "$WORK/$NAME.manifest"

# ---------------------------------------------------------------------------
step "install into $OUT"
# Invalidate the old image first; the .sha256 goes in last.
rm -f "$SUM"
mv -f "$WORK/$NAME.manifest" "$MANIFEST"
mv -f "$WORK/$NAME.tar.zst" "$IMG"
mv -f "$WORK/$NAME.tar.zst.sha256" "$SUM"
remove_dir "$KEPT_TREE" # from an earlier --keep-tree build: no longer matches
if [ "$KEEP_TREE" = 1 ]; then
	mv "$TREE" "$KEPT_TREE"
	log "tree kept in $KEPT_TREE"
fi
OK=1
step "remove build directory"
remove_dir "$WORK"
step_end

SIZE=$(stat -c %s "$IMG")
log "done in $(total)s: $IMG ($((SIZE / 1048576)) MB, $NPKG packages, kernel $KERNELS)"
log "sha256 $(cut -d' ' -f1 "$SUM")"
