#!/bin/bash
# make bench: measure the boot image and the install on this machine and write
# docs/benchmarks.md. Every figure comes from a real run made here:
#   - sizes of the kernel, the initramfs and the demo OS image;
#   - QEMU start to the plan printed (PXE, dry run), under TCG unless
#     QEMU_ACCEL=kvm;
#   - a full install of the demo profile: time by phase, bytes streamed,
#     streaming rate and the installer's peak RSS;
#   - host: validating and planning a profile (installer plan), 200 runs;
#   - the site server (tests/bench/site.sh): simulated installing machines
#     and status page readers against site-server on 127.0.0.1, SQLite and
#     PostgreSQL.
# Timings are single runs on a shared machine: read them as orders of
# magnitude, not as thresholds (no test fails on them).
#
#   tests/bench.sh        everything; rewrites docs/benchmarks.md
#   tests/bench.sh site   only the site server: replaces the "## Site server"
#                         section of docs/benchmarks.md and keeps the rest
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
B=$BUILD/bench
OUT=$ROOT/docs/benchmarks.md

if [ "${1:-}" = site ]; then
	rm -rf "$B/site"
	mkdir -p "$B/site"
	"$ROOT/tests/bench/site.sh" "$B/site" >"$B/site.md"
	# the rest of the file, without the old section and trailing blank lines
	awk '/^## Site server/ {exit} {l[++n] = $0} END {while (n > 0 && l[n] == "") n--; for (i = 1; i <= n; i++) print l[i]}' \
		"$OUT" >"$B/main.md"
	{ cat "$B/main.md"; echo; cat "$B/site.md"; } >"$OUT"
	echo "bench: wrote $OUT"
	cat "$B/site.md"
	exit 0
elif [ $# -gt 0 ]; then
	echo "usage: tests/bench.sh [site]" >&2
	exit 2
fi

rm -rf "$B"
mkdir -p "$B/profiles"

size() { stat -c %s "$1"; }
mb() { awk -v b="$1" 'BEGIN {printf "%.1f MB", b / 1e6}'; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}'; }

kernel=$(size "$BUILD/kernel/vmlinuz")
initrd=$(size "$BUILD/boot/initrd.img")
image=$(size "$BUILD/image/debian12.tar.zst")
. "$BUILD/kernel/VERSION"

www() { # KERNEL-ARGS
	"$ROOT/ipxe/mkwww.sh" --boot-url http://10.0.2.100/ --kernel "$BUILD/kernel/vmlinuz" \
		--initrd "$BUILD/boot/initrd.img" --profiles "$ROOT/profiles" --out "$B/www" \
		--image "$BUILD/image/debian12.tar.zst" --append "$1" >/dev/null
}

echo "bench: 1/4 PXE boot to the plan (dry run)"
www "inst.finish=poweroff inst.dryrun"
truncate -s 8G "$B/disk.raw"
t0=$(date +%s.%N)
"$ROOT/qemu/pxeboot.sh" --www "$B/www" --disk "$B/disk.raw" --serial-log "$B/plan.log" \
	--timeout 300 --expect "<== plan done" >/dev/null
t_plan=$(since "$t0")
guest_start=$(tr -d '\r' <"$B/plan.log" | sed -n 's/^INIT: starting installer (uptime \([0-9.]*\) s).*/\1/p')

echo "bench: 2/4 full install of profiles/default.yaml"
www "inst.finish=poweroff"
rm -f "$B/disk.raw"
truncate -s 8G "$B/disk.raw"
t0=$(date +%s.%N)
"$ROOT/qemu/pxeboot.sh" --www "$B/www" --disk "$B/disk.raw" --serial-log "$B/install.log" \
	--timeout 1200 --fail-on "INSTALL FAILED" >/dev/null
t_install=$(since "$t0")
log=$(tr -d '\r' <"$B/install.log")
phases=$(echo "$log" | sed -n 's/^\[ *[0-9.]*\] <== \([a-z-]*\) done in \([0-9.]*\)s.*/| \1 | \2 s |/p')
imgline=$(echo "$log" | grep '<== image done')
streamed=$(echo "$imgline" | sed -n 's/.*: \([0-9]*\) bytes streamed in \([0-9.]*\)s (\([0-9.]*\) MB\/s).*/\1 bytes in \2 s (\3 MB\/s)/p')
extracted=$(echo "$imgline" | sed -n 's/.*, \([0-9]*\) bytes in \([0-9]*\) entries.*/\1 bytes in \2 files/p')
rss=$(echo "$imgline" | sed -n 's/.*peak RSS \([0-9]*\) KiB.*/\1/p')
total=$(echo "$log" | sed -n 's/^\[ *[0-9.]*\] *INSTALL COMPLETE: .* in \([0-9.]*\)s.*/\1/p' | head -1) # the console line, not its JSON event

echo "bench: 3/4 installer plan on the host, 200 runs"
cat >"$B/host.yaml" <<YAML
version: 1
hostname: bench
disk: { select: { transport: nvme }, partitions: [ { size: 1GiB, fs: swap }, { size: rest, mount: / } ] }
image: { url: http://h/i.tar.zst, sha256: $(printf '%064d' 0) }
YAML
inv=$ROOT/tests/data/sysroot/nvme-sata-usb.json
t0=$(date +%s.%N)
for _ in $(seq 200); do "$BUILD/installer/installer" plan --profile "$B/host.yaml" --inventory "$inv" >/dev/null; done
t_host=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", (b - a) * 1000 / 200}')

echo "bench: 4/4 the site server (SQLite and PostgreSQL, 10, 100 and 1000 machines)"
mkdir -p "$B/site"
"$ROOT/tests/bench/site.sh" "$B/site" >"$B/site.md"

{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\` (tests/bench.sh) on $(date -u +%Y-%m-%d) at commit"
	echo "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown), on $(nproc) cores"
	echo "($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), QEMU accelerator: ${QEMU_ACCEL:-tcg}."
	echo "Single runs on a shared machine: orders of magnitude, not thresholds."
	echo
	echo "## Boot image"
	echo
	echo "| what | size |"
	echo "|---|---|"
	echo "| kernel (vmlinuz, $KERNEL_PACKAGE $KERNEL_VERSION) | $(mb "$kernel") ($kernel bytes) |"
	echo "| initramfs (initrd.img) | $(mb "$initrd") ($initrd bytes) |"
	echo "| kernel + initramfs (goal: at most 20 MB) | $(mb $((kernel + initrd))) |"
	echo "| demo OS image (debian12.tar.zst) | $(mb "$image") |"
	echo
	echo "## PXE boot to the plan (dry run, BIOS, virtio)"
	echo
	echo "| what | time |"
	echo "|---|---|"
	echo "| QEMU start to the plan printed on the serial console (wall) | $t_plan s |"
	echo "| guest kernel start to the installer starting (guest uptime) | $guest_start s |"
	echo
	echo "## Install of the demo profile (8 GiB virtio disk, 1 GiB RAM)"
	echo
	echo "| phase | time |"
	echo "|---|---|"
	echo "$phases"
	echo
	echo "- Installer total: $total s; QEMU start to power-off: $t_install s."
	echo "- Image streamed: $streamed; extracted: $extracted."
	echo "- Installer peak RSS at the end of streaming: $rss KiB. The image is streamed"
	echo "  (download, sha256, decompression and extraction in one pass), never held in memory;"
	echo "  test_image measures that peak RSS stays flat on a 200 MB image with IMAGE_SLOW_TESTS=1."
	echo
	echo "## Host"
	echo
	echo "| what | time |"
	echo "|---|---|"
	echo "| \`installer plan\` (validate a profile, load a saved inventory, plan), per run | $t_host ms |"
	echo
	cat "$B/site.md"
} >"$OUT"
echo "bench: wrote $OUT"
cat "$OUT"
