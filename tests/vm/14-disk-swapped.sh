#!/bin/bash
# The disk is swapped between the plan and the first write: the profile
# names the target by serial (PLANNED-1); after the plan, while the
# installer waits in its test seam (inst.test_pause_before_check=N, right
# before check-target), the test hot-unplugs that virtio disk through the
# QEMU monitor and plugs in another disk of the same size with another
# serial (OTHER-2) in the same PCIe slot, so that the kernel gives it the
# same name (/dev/vdb). The installer must refuse it at check-target, name
# the device, the planned and the found serial, exit with status 6, and
# write nothing to any disk: all three disks (a bystander, the planned one,
# the swapped-in one) stay byte-identical.
. "$(dirname "$0")/lib.sh"

PAUSE=120
sed "s/@IMAGE_SHA256@/$(image_sha256)/" "$ROOT/profiles/default.yaml" |
	sed 's/^    transport: virtio$/    serial: PLANNED-1/; /^    prefer: first$/d' > "$T/profiles/default.yaml"
grep -q "serial: PLANNED-1" "$T/profiles/default.yaml" || die "test setup: no disk.select.serial"
make_www "inst.finish=poweroff inst.test_pause_before_check=$PAUSE"
link_image

make_disk "$T/bystander.raw" 2G
make_disk "$T/planned.raw" 2G
make_disk "$T/other.raw" 2G
# Recognisable content, so that "byte-identical" means something.
for f in bystander planned other; do
	printf '%s: not to be written\n' "$f" | dd of="$T/$f.raw" bs=1 seek=$((512 * 1024)) conv=notrunc status=none
done
hashes() { (cd "$T" && sha256sum bystander.raw planned.raw other.raw); }
before=$(hashes)

MON=$T/monitor.sock
hmp() { # hmp COMMAND: one HMP command on the test's monitor; prints its output
	python3 - "$MON" "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
time.sleep(0.3)
s.recv(65536)  # the banner and the prompt
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
deadline = time.time() + 10
while time.time() < deadline:
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        break
    if not chunk:
        break
    out += chunk
    if out.rstrip().endswith(b"(qemu)"):
        break
sys.stdout.write(out.decode(errors="replace"))
PY
}

# The planned disk in a hot-pluggable PCIe root port of its own; the
# bystander on the root bus (pxeboot's --disk) enumerates first: /dev/vda.
"$ROOT/qemu/pxeboot.sh" --www "$T/www" --serial-log "$SERIAL" --disk "$T/bystander.raw,serial=BYSTANDER" \
	--qemu-arg -device --qemu-arg "pcie-root-port,id=rp9,chassis=9,slot=9" \
	--qemu-arg -drive --qemu-arg "file=$T/planned.raw,if=none,id=planned,format=raw" \
	--qemu-arg -device --qemu-arg "virtio-blk-pci,drive=planned,id=vdplanned,bus=rp9,serial=PLANNED-1" \
	--qemu-arg -drive --qemu-arg "file=$T/other.raw,if=none,id=other,format=raw" \
	--qemu-arg -monitor --qemu-arg "unix:$MON,server=on,wait=off" \
	--timeout 900 > "$T/pxeboot.log" 2>&1 &
QEMU_JOB=$!
trap 'kill $QEMU_JOB 2>/dev/null || true; rm -f "$T"/*.raw' EXIT

# Wait for the seam: the plan is made, nothing is written yet.
for _ in $(seq 1 1200); do
	grep -qF "TEST SEAM: pausing" "$SERIAL" 2>/dev/null && break
	kill -0 $QEMU_JOB 2>/dev/null || { cat "$T/pxeboot.log"; die "the guest stopped before the seam"; }
	sleep 0.5
done
expect_log "TEST SEAM: pausing $PAUSE s before check-target"
expect_log "serial PLANNED-1"
expect_no_log "==> wipe"
log "installer paused after the plan: swapping the disk"

has_dev() { local out; out=$(hmp "info pci"); grep -qF "id \"$1\"" <<<"$out"; }
hmp "device_del vdplanned" >/dev/null || die "the QEMU monitor does not answer"
for _ in $(seq 1 60); do
	has_dev vdplanned || break
	sleep 1
done
! has_dev vdplanned || die "the planned disk did not go away (no hot-unplug?)"
log "planned disk unplugged"
hmp "device_add virtio-blk-pci,drive=other,id=vdother,bus=rp9,serial=OTHER-2" >/dev/null ||
	die "the QEMU monitor does not answer"
for _ in $(seq 1 30); do
	has_dev vdother && break
	sleep 1
done
has_dev vdother || die "the other disk could not be plugged in"
log "other disk plugged in the same slot"

wait $QEMU_JOB || { cat "$T/pxeboot.log"; die "the guest did not power off"; }
trap 'rm -f "$T"/*.raw' EXIT

expect_log "TEST SEAM: pause over"
expect_log "it is not the disk the plan was made for"
expect_log 'serial: planned "PLANNED-1", found "OTHER-2"'
expect_log "INIT: installer exited with status 6"
expect_no_log "==> wipe"
after=$(hashes)
[ "$after" = "$before" ] || die "a disk changed: before: $before after: $after"
log "ok: the swapped disk was refused at check-target (exit 6), all three disks byte-identical"
