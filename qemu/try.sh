#!/bin/bash
# try.sh — `make try`: rehearse a profile in QEMU before touching the real
# machine. Shapes a QEMU machine like the target, PXE-boots it from a boot
# tree served on 127.0.0.1 with that profile, lets the installer install it,
# boots the installed system, and prints a verdict (PASS/FAIL) with the
# installer's phase log and, on failure, its error lines.
#
# Usage: qemu/try.sh --profile FILE [options]
#
#   --profile FILE       the profile to rehearse (fragments it include:s are
#                        served beside it). A template with @IMAGE_SHA256@ gets
#                        the demo image's sha256, as ipxe/mkwww.sh does
#   --inventory JSON     shape the machine like this saved inventory
#                        (`installer inventory` output, or the BEGIN INVENTORY
#                        block of a machine's console): firmware, memory, disk
#                        count, sizes, transports, serials, models, sector
#                        sizes, NIC MACs and models, SMBIOS UUID/serial/vendor
#   --firmware F         bios | uefi (default: the inventory's, else bios)
#   --disks "SPEC ..."   the disks, instead of the inventory's (default one
#                        8G virtio disk). SPEC is SIZE[,OPTS] (a new blank
#                        sparse disk: 8G, 500M, 2T or bytes) or FILE[,OPTS] (an
#                        existing disk image, used as it is); OPTS as
#                        qemu/pxeboot.sh --disk: if=virtio|sata|nvme|scsi|usb,
#                        serial=, model=, vendor=, lbs=, pbs=, rotational=
#   --mem MB             memory (default: the inventory's, capped at
#                        --max-mem, else 1024)
#   --max-mem MB         cap for memory taken from an inventory (default 4096)
#   --mac MAC            the booting NIC's MAC (default: the inventory's first
#                        NIC with a link, else 52:54:00:12:34:56)
#   --dryrun             inst.dryrun: stop after the plan, write nothing; the
#                        verdict is PASS when the plan was made and no disk
#                        was written
#   --demo-image         the profile's image URL points somewhere the
#                        rehearsal machine cannot reach: install the demo image
#                        (build/image/debian12.tar.zst) instead, rewriting the
#                        served copy's image url and sha256
#   --image FILE         serve FILE as images/<its name> (the profile's image
#                        url must then be http://10.0.2.100/images/<its name>)
#   --expect STRING      what the installed system must print on its serial
#                        console (default "HOSTNAME login:", the serial getty,
#                        HOSTNAME from the profile)
#   --no-boot            stop after the install (do not boot the installed
#                        system)
#   --timeout SECONDS    for each of the two QEMU runs (default 1200)
#   --out DIR            work directory (default build/try): www/, disks,
#                        install.log, boot.log, verdict.txt
#   --console            show the serial consoles as they happen
#
# Exit status: 0 PASS, 1 FAIL, 2 usage or setup error (nothing booted).
#
# Data safety is checked, not assumed: every disk other than the plan's
# target (every disk in a dry run) must be unchanged afterwards, whatever the
# installer's result (blank disks
# made here: no block allocated; existing image files: same sha256).
# Networking is qemu/pxeboot.sh's: user mode with restrict=on, the boot tree
# served on 127.0.0.1 and forwarded to 10.0.2.100:80 inside the guest.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
BUILD=$TOP/build
GUEST_URL=http://10.0.2.100/
DEMO_IMAGE=$BUILD/image/debian12.tar.zst

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit "${1:-0}"
}

PROFILE="" INVENTORY="" FIRMWARE_OPT="" DISKS_OPT="" MEM_OPT="" MAX_MEM=4096 MAC_OPT=""
DRYRUN="" USE_DEMO="" IMAGE="" EXPECT="" NO_BOOT="" TIMEOUT=1200 OUT=$BUILD/try CONSOLE=()
while [ $# -gt 0 ]; do
	case "$1" in
	--profile) PROFILE=$2; shift 2 ;;
	--inventory) INVENTORY=$2; shift 2 ;;
	--firmware) FIRMWARE_OPT=$2; shift 2 ;;
	--disks) DISKS_OPT=$2; shift 2 ;;
	--mem) MEM_OPT=$2; shift 2 ;;
	--max-mem) MAX_MEM=$2; shift 2 ;;
	--mac) MAC_OPT=$2; shift 2 ;;
	--dryrun) DRYRUN=1; shift ;;
	--demo-image) USE_DEMO=1; shift ;;
	--image) IMAGE=$2; shift 2 ;;
	--expect) EXPECT=$2; shift 2 ;;
	--no-boot) NO_BOOT=1; shift ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--console) CONSOLE=(--console); shift ;;
	-h | --help) usage 0 ;;
	*) echo "try: unknown argument: $1" >&2; usage 2 >&2 ;;
	esac
done

say() { echo "try: $*"; }
die() { echo "try: error: $*" >&2; exit 2; }
[ -n "$PROFILE" ] || die "--profile FILE needed (make try PROFILE=path/to/profile.yaml)"
[ -f "$PROFILE" ] || die "profile $PROFILE not found"
[ -z "$INVENTORY" ] || [ -f "$INVENTORY" ] || die "inventory $INVENTORY not found"
case "$TIMEOUT$MAX_MEM" in *[!0-9]*) die "--timeout and --max-mem take numbers" ;; esac
for f in "$BUILD/kernel/vmlinuz" "$BUILD/boot/initrd.img"; do
	[ -f "$f" ] || die "$f missing: run 'make all' first (make try does)"
done
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3

# Fresh work directory (only what this script makes in it).
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -rf "$OUT/www" "$OUT/profiles" "$OUT/disks"
rm -f "$OUT/install.log" "$OUT/boot.log" "$OUT/verdict.txt" "$OUT/efivars.fd"
mkdir -p "$OUT/profiles" "$OUT/disks"

# --- the machine ---------------------------------------------------------------------------
FIRMWARE=bios MEM=1024 MAC=52:54:00:12:34:56 NIC=virtio EXTRA_NICS="" DISK_SPECS=""
UUID="" SYS_SERIAL="" SMBIOS="" NOTES=""
if [ -n "$INVENTORY" ]; then
	shape=$("$PYTHON" "$HERE/try-prepare.py" machine --inventory "$INVENTORY" --max-mem "$MAX_MEM") ||
		exit 2
	eval "$shape"
fi
[ -z "$FIRMWARE_OPT" ] || FIRMWARE=$FIRMWARE_OPT
[ -z "$MEM_OPT" ] || MEM=$MEM_OPT
[ -z "$MAC_OPT" ] || MAC=$MAC_OPT
case "$FIRMWARE" in bios | uefi) ;; *) die "--firmware bios|uefi" ;; esac
case "$MEM" in '' | *[!0-9]*) die "bad --mem $MEM" ;; esac

# Disks: a list of "SIZE|FILE,OPTS" specs, one per line.
if [ -n "$DISKS_OPT" ]; then
	DISK_SPECS=$(echo "$DISKS_OPT" | tr ' ' '\n' | sed '/^$/d')
elif [ -z "$DISK_SPECS" ]; then
	DISK_SPECS=8G
fi
DISKS=() FILES=() MADE=() SERIALS=()
i=0
while IFS= read -r spec; do
	first=${spec%%,*} opts=""
	[ "$first" = "$spec" ] || opts=,${spec#*,}
	if [[ $first =~ ^[0-9]+([KMGT]i?B?)?$ ]]; then
		file=$OUT/disks/disk$i.raw
		truncate -s "$first" "$file" 2>/dev/null || die "bad disk size $first"
		made=1
	else
		[ -f "$first" ] || [ -b "$first" ] || die "disk $first: not a size and no such file"
		file=$(realpath "$first")
		made=""
	fi
	case ",$opts," in *,serial=*) ;; *) opts+=",serial=TRY-$i" ;; esac
	serial=$(echo "$opts" | tr ',' '\n' | sed -n 's/^serial=//p' | tail -n1)
	DISKS+=("$file$opts") FILES+=("$file") MADE+=("$made") SERIALS+=("$serial")
	i=$((i + 1))
done <<<"$DISK_SPECS"

MACHINE=(--firmware "$FIRMWARE" --mem "$MEM" --mac "$MAC" --nic "$NIC")
[ "$FIRMWARE" = bios ] || MACHINE+=(--efivars "$OUT/efivars.fd")
for d in "${DISKS[@]}"; do MACHINE+=(--disk "$d"); done
for x in $EXTRA_NICS; do MACHINE+=(--extra-nic "$x"); done
[ -z "$UUID" ] || MACHINE+=(--uuid "$UUID")
[ -z "$SYS_SERIAL" ] || MACHINE+=(--sys-serial "$SYS_SERIAL")
[ -z "$SMBIOS" ] || MACHINE+=(--qemu-arg -smbios --qemu-arg "$SMBIOS")

# --- the profile and the boot tree ------------------------------------------------------
[ -n "$IMAGE" ] || IMAGE=$DEMO_IMAGE
[ -f "$IMAGE" ] || [ -n "$DRYRUN" ] || die "image $IMAGE not found (make image builds the demo image)"
served_image_url=${GUEST_URL}images/$(basename "$IMAGE")
demo_args=()
if [ -n "$USE_DEMO" ]; then
	[ -f "$DEMO_IMAGE" ] || die "no demo image $DEMO_IMAGE: run 'make image'"
	IMAGE=$DEMO_IMAGE
	served_image_url=${GUEST_URL}images/$(basename "$IMAGE")
	demo_args=(--demo-image "$served_image_url" "$(sha256sum "$DEMO_IMAGE" | cut -d' ' -f1)")
fi
prep=$("$PYTHON" "$HERE/try-prepare.py" profile --profile "$PROFILE" --out "$OUT/profiles" \
	--served-url "$served_image_url" "${demo_args[@]}") || exit 2
PROFILE_NAME="" HOSTNAME="" IMAGE_URL="" IMAGE_FILE="" IMAGE_OK=0
eval "$prep"
if [ -n "$IMAGE_URL" ] && [ "$IMAGE_OK" != 1 ]; then
	msg="the profile's image url is $IMAGE_URL ($IMAGE_FILE); the rehearsal machine reaches only its boot server, which serves the image at $served_image_url"
	if [ -n "$DRYRUN" ]; then
		say "note: $msg (a dry run does not fetch the image)"
	else
		cat >&2 <<-EOF
			try: error: $msg.
			try: To rehearse with the demo image instead, rerun with --demo-image (make try ... DEMO_IMAGE=1):
			try: the served copy of the profile gets the demo image's url and sha256 (your file is not changed).
			try: To rehearse with your own image, give --image FILE (make try ... IMAGE=FILE) and make the
			try: profile's url ${GUEST_URL}images/<name of FILE>.
		EOF
		exit 2
	fi
elif [ -n "$USE_DEMO" ] && [ -n "$IMAGE_URL" ]; then
	say "note: rehearsing with the demo image: served $IMAGE_FILE has url $served_image_url and the demo image's sha256"
fi
[ -n "$EXPECT" ] || EXPECT="${HOSTNAME:+$HOSTNAME }login:"

# no_timer_check: under TCG on a busy host the kernel's IO-APIC timer check
# can fail ("IO-APIC + timer doesn't work!") and panic; a QEMU rehearsal
# does not need it.
append="inst.profile=${GUEST_URL}profiles/$PROFILE_NAME inst.finish=poweroff no_timer_check"
[ -z "$DRYRUN" ] || append+=" inst.dryrun"
image_args=(--image "$IMAGE")
[ -f "$IMAGE" ] || image_args=(--no-image)
"$TOP/ipxe/mkwww.sh" --boot-url "$GUEST_URL" --kernel "$BUILD/kernel/vmlinuz" \
	--initrd "$BUILD/boot/initrd.img" --profiles "$OUT/profiles" --out "$OUT/www" \
	--append "$append" "${image_args[@]}" >"$OUT/mkwww.log" || { cat "$OUT/mkwww.log" >&2; exit 2; }

say "profile $PROFILE (served as ${GUEST_URL}profiles/$PROFILE_NAME)${DRYRUN:+, dry run}"
say "machine: $FIRMWARE, ${MEM} MiB, NIC $NIC $MAC${EXTRA_NICS:+ + $EXTRA_NICS}${UUID:+, uuid $UUID}${SYS_SERIAL:+, serial $SYS_SERIAL}"
for k in "${!DISKS[@]}"; do
	say "  disk $k: $(stat -c %s "${FILES[$k]}") bytes ${DISKS[$k]#"${FILES[$k]}"} (${FILES[$k]})"
done
[ -z "$NOTES" ] || while IFS= read -r n; do say "  note: $n"; done <<<"$NOTES"

# Fingerprints of the disks: what "unchanged" means for each.
fingerprint() { # INDEX
	if [ -n "${MADE[$1]}" ]; then
		echo "blocks $(stat -c %b "${FILES[$1]}")"
	else
		echo "sha256 $(sha256sum <"${FILES[$1]}" | cut -d' ' -f1)"
	fi
}
BEFORE=()
for k in "${!FILES[@]}"; do BEFORE+=("$(fingerprint "$k")"); done

# --- 1. PXE boot and install ------------------------------------------------------------------
T0=$(date +%s)
say "1/2 PXE boot and ${DRYRUN:+dry-run }install (console: $OUT/install.log)"
rc=0
"$HERE/pxeboot.sh" --www "$OUT/www" "${MACHINE[@]}" --serial-log "$OUT/install.log" \
	--no-reboot --timeout "$TIMEOUT" "${CONSOLE[@]}" >"$OUT/pxeboot-install.log" 2>&1 || rc=$?
t_install=$(($(date +%s) - T0))
console() { tr -d '\r' <"$1" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g'; }
status=$(console "$OUT/install.log" | sed -n 's/^INIT: installer exited with status \([0-9]*\).*/\1/p' | tail -n1)
target=$(console "$OUT/install.log" | sed -n 's/^ *Target: *\(\/dev\/[^ ]*\).*/\1/p' | tail -n1)
target_serial=""
[ -z "$target" ] || target_serial=$(console "$OUT/install.log" |
	sed -n "s|.* disk $target .* serial \([^ ]*\) .*|\1|p" | head -n1)
target_index=""
for k in "${!SERIALS[@]}"; do
	[ -n "$target_serial" ] && [ "${SERIALS[$k]}" = "$target_serial" ] && target_index=$k
done

FAILS=()
fail() { FAILS+=("$*"); }
if [ "$rc" -eq 3 ]; then
	fail "the installer's kernel panicked (see $OUT/install.log)"
elif [ "$rc" -ne 0 ]; then
	fail "the machine did not power off after the installer (pxeboot status $rc; see $OUT/pxeboot-install.log)"
fi
if [ -z "$status" ]; then
	fail "the installer did not run (no 'INIT: installer exited' line on the console)"
elif [ "$status" -ne 0 ]; then
	fail "the installer exited with status $status (docs/installer.md)"
fi
if [ -n "$status" ] && [ "$status" -eq 0 ] && [ -z "$DRYRUN" ] && [ -z "$target_index" ]; then
	fail "cannot tell which disk the installer chose (Target '$target', serial '$target_serial')"
fi

# --- 2. boot the installed system ---------------------------------------------------------------
t_boot=""
if [ ${#FAILS[@]} -eq 0 ] && [ -z "$DRYRUN" ] && [ -z "$NO_BOOT" ]; then
	say "2/2 booting the installed system from disk $target_index ($target) until '$EXPECT' (console: $OUT/boot.log)"
	T1=$(date +%s)
	rc=0
	"$HERE/pxeboot.sh" --boot-disk --boot-index "$target_index" "${MACHINE[@]}" \
		--serial-log "$OUT/boot.log" --expect "$EXPECT" --timeout "$TIMEOUT" "${CONSOLE[@]}" \
		>"$OUT/pxeboot-boot.log" 2>&1 || rc=$?
	t_boot=$(($(date +%s) - T1))
	[ "$rc" -eq 0 ] || fail "the installed system did not print '$EXPECT' on its console (see $OUT/boot.log)"
fi

# Every disk but the plan's target unchanged (every disk in a dry run, or when
# the installer stopped before a plan).
unchanged=()
for k in "${!FILES[@]}"; do
	[ -z "$DRYRUN" ] && [ "$k" = "$target_index" ] && continue
	now=$(fingerprint "$k")
	if [ "$now" = "${BEFORE[$k]}" ]; then
		unchanged+=("disk $k (${BEFORE[$k]})")
	else
		fail "disk $k (${FILES[$k]}) is not the target but changed: ${BEFORE[$k]} -> $now"
	fi
done

# --- verdict ------------------------------------------------------------------------------------
{
	echo "===== rehearsal of $PROFILE ====="
	echo "machine: $FIRMWARE, ${MEM} MiB, ${#FILES[@]} disk(s), NIC $MAC${DRYRUN:+; dry run}"
	echo "installer phases:"
	console "$OUT/install.log" | grep -E '^\[ *[0-9.]+\] (==>|<==|<!!) ' | sed 's/^/  /' || echo "  (none)"
	if [ ${#FAILS[@]} -gt 0 ]; then
		echo "installer errors:"
		console "$OUT/install.log" |
			grep -E '(^|: )error: |^\[ *[0-9.]+\] +INSTALL FAILED|^INIT: .*(FAILED|missing|WARNING)' |
			sed 's/^/  /' || echo "  (none printed; see $OUT/install.log)"
		echo "  (${GUEST_URL}profiles/$PROFILE_NAME is the served copy of $PROFILE: same lines and columns)"
	fi
	[ -z "$target" ] || echo "target: $target${target_serial:+ serial $target_serial}${target_index:+ (disk $target_index)}"
	[ ${#unchanged[@]} -eq 0 ] || echo "unchanged: ${unchanged[*]}"
	echo "times: PXE boot + install ${t_install}s${t_boot:+, boot of the installed system ${t_boot}s}"
	if [ ${#FAILS[@]} -eq 0 ]; then
		if [ -n "$DRYRUN" ]; then
			echo "PASS: the profile is valid for this machine and the plan was made; nothing was written (dry run)"
		elif [ -n "$NO_BOOT" ]; then
			echo "PASS: installed on $target (not booted: --no-boot)"
		else
			echo "PASS: installed on $target and the installed system booted ('$EXPECT')"
		fi
	else
		for f in "${FAILS[@]}"; do echo "FAIL: $f"; done
	fi
} | tee "$OUT/verdict.txt"
[ ${#FAILS[@]} -eq 0 ]
