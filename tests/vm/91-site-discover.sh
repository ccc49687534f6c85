#!/bin/bash
# An unknown machine under the site policy "discover" (issue 12), in ONE
# continuous QEMU run with network-first boot order, and the server's crash
# safety during the install that follows.
#   1. The machine (two virtio disks with serials, SMBIOS UUID and serial)
#      PXE-boots; the server does not know it and answers "discover": the
#      installer reports its inventory and waits (the serial console shows
#      the waiting line, the server shows the machine "discovered").
#   2. The inventory is in the server (GET /api/v1/machines/ID/inventory):
#      both disks with their serials, the NIC with its MAC, the memory, the
#      firmware, the SMBIOS UUID and serial. `site-server inventory MACHINE`
#      prints it, and the host's `installer plan --inventory` takes that
#      output as it is.
#   3. `site-server assign MACHINE site91.yaml` + `release`: the waiting
#      installer is told to reboot, PXE, the server answers "install" with
#      the assigned profile.
#   4. Crash: when the install's image phase has started, the server is
#      killed with SIGKILL, stays down ~20 s, and is started again on the
#      same port and database. The image comes from a separate image server
#      (qemu/serve.sh, guest address 10.0.2.101: a site's HTTP cache), so
#      the install itself goes on; its events queue in the installer and are
#      retried.
#   5. The install ends with exit status 0, the machine reboots, the server
#      answers "local", the installed system prints its first-boot marker.
#      The record: the attempt's events are seq 1..N without a gap, every
#      event line the installer printed on the serial console is stored, as
#      printed; events from the time the server was down are there; the
#      machine is installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/site.lib"

MAC=52:54:00:12:34:91
UUID=91e0c1a2-5b6d-4e7f-8a9b-0c1d2e3f4a91
SYS_SERIAL=SITE91-SYSTEM
MARKER=INSTALLED-SYSTEM-FIRSTBOOT-OK
DOWN=20

# The image server: a plain static HTTP server on loopback, reached by the
# guest as 10.0.2.101 (pxeboot.sh --forward).
mkdir -p "$T/imgwww/images"
ln -sf "$BUILD/image/debian12.tar.zst" "$T/imgwww/images/debian12.tar.zst"
IMG_PIDFILE=$T/imgserver.pid
IMG_PORT=$("$ROOT/qemu/serve.sh" start --dir "$T/imgwww" --pidfile "$IMG_PIDFILE" --log "$T/imgserver.log")
cleanup91() {
	site_cleanup
	"$ROOT/qemu/serve.sh" stop --pidfile "$IMG_PIDFILE" || true
}
trap cleanup91 EXIT

# The profile the operator assigns: the demo profile for this machine's MAC,
# its image from the image server. No default profile: the machine installs
# only what it is assigned.
sed -e "s/@IMAGE_SHA256@/$(image_sha256)/" -e 's/^hostname: demo01/hostname: site91/' \
	-e "s/52:54:00:12:34:56/$MAC/" -e 's|http://10.0.2.100/images/|http://10.0.2.101/images/|' \
	"$ROOT/profiles/default.yaml" >"$T/profiles/site91.yaml"
grep -q 'http://10.0.2.101/images/debian12.tar.zst' "$T/profiles/site91.yaml" || die "the profile's image URL was not rewritten"
make_www ""
make_disk "$T/disk-a.raw" 6G
make_disk "$T/disk-b.raw" 2G

site_start --policy discover
log "site-server on $SITE_URL (policy discover), image server on 127.0.0.1:$IMG_PORT (guest: 10.0.2.101)"

T0=$(date +%s)
log "1. an unknown machine boots: the server answers discover; the installer reports and waits"
guest_start 3600 --disk "$T/disk-a.raw,serial=SITE91-DISK-A" --disk "$T/disk-b.raw,serial=SITE91-DISK-B" \
	--mac "$MAC" --uuid "$UUID" --sys-serial "$SYS_SERIAL" --mem 1024 --forward "10.0.2.101=$IMG_PORT"
guest_wait 0 900 --fail-on "INSTALL FAILED" --fail-on "INIT: installer exited" \
	--expect "discover: waiting for the site server to release this machine"
log "the machine waits (${WAITED}s after power-on)"
t_discover=$WAITED
api "api/v1/machines/$MAC" >"$T/machine-discovered.json" || die "GET /api/v1/machines/$MAC failed"
python3 - "$T/machine-discovered.json" "$UUID" "$SYS_SERIAL" <<'EOF' || die "the discovered machine's record is wrong"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["state"] == "discovered", f"state {m['state']}"
assert m["uuid"] == sys.argv[2] and m["serial"] == sys.argv[3], (m["uuid"], m["serial"])
assert m["platform"] == "pcbios", m["platform"]
assert m["has_inventory"], "no inventory"
assert not [a for a in m["attempts"] if a["kind"] == "install"], "an install attempt already"
EOF

log "2. the inventory in the server"
api "api/v1/machines/$MAC/inventory" >"$T/inventory-api.json" || die "GET /api/v1/machines/$MAC/inventory failed"
python3 - "$T/inventory-api.json" "$MAC" "$UUID" "$SYS_SERIAL" <<'EOF' || die "the stored inventory is wrong (see $T/inventory-api.json)"
import json, sys
inv = json.load(open(sys.argv[1]))
mac, uuid, serial = sys.argv[2:5]
disks = {d["name"]: d for d in inv["disks"]}
assert disks.get("vda", {}).get("serial") == "SITE91-DISK-A", disks.get("vda")
assert disks.get("vdb", {}).get("serial") == "SITE91-DISK-B", disks.get("vdb")
assert disks["vda"]["size_bytes"] == 6 << 30 and disks["vdb"]["size_bytes"] == 2 << 30
assert mac in [n["mac"] for n in inv["nics"]], inv["nics"]
assert 900 << 20 <= inv["memory_bytes"] <= 1 << 30, inv["memory_bytes"]
assert inv["firmware"] == "bios", inv["firmware"]
assert inv["dmi"]["product_uuid"] == uuid and inv["dmi"]["product_serial"] == serial, inv["dmi"]
print(f"inventory: firmware {inv['firmware']}, memory {inv['memory_bytes'] >> 20} MiB, "
      f"disks {', '.join(d['name'] + ' ' + str(d['serial']) for d in inv['disks'])}, "
      f"NICs {', '.join(n['name'] + ' ' + n['mac'] for n in inv['nics'])}")
EOF
site inventory "$MAC" >"$T/m.json" || die "site-server inventory $MAC failed"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(a != b)' \
	"$T/m.json" "$T/inventory-api.json" || die "site-server inventory differs from the API's"
timeout 60 "$BUILD/installer/installer" plan --inventory "$T/m.json" --profile "$T/profiles/site91.yaml" >"$T/plan.out" 2>&1 ||
	{ cat "$T/plan.out" >&2; die "installer plan --inventory (site-server inventory's output) failed"; }
grep -q '/dev/vda' "$T/plan.out" || { cat "$T/plan.out" >&2; die "the plan does not use /dev/vda"; }
log "ok: inventory stored; installer plan --inventory takes site-server inventory's output"

log "3. assign site91.yaml + release: the waiting installer reboots into an install"
site assign "$MAC" site91.yaml >"$T/assign.out" || die "site-server assign failed: $(cat "$T/assign.out")"
off=$(serial_size)
site release "$MAC" >"$T/release.out" || die "site-server release failed: $(cat "$T/release.out")"
state=$(api "api/v1/machines/$MAC" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
[ "$state" = ready ] || die "after release the state is $state, not ready"
guest_wait "$off" 120 --fail-on "INSTALL FAILED" --expect "INIT: installer exited with status 0"
off_install=$OFFSET TD=$(date +%s)
log "the discover run ended ${WAITED}s after the release; the machine reboots"
guest_wait "$off_install" 600 --fail-on "INSTALL FAILED" --expect '"phase":"image","type":"start"'

log "4. the image phase started: kill -9 the server, ${DOWN}s down, restart it on the same port and database"
before=$(api "api/v1/machines/$MAC" | python3 -c '
import json, sys
m = json.load(sys.stdin)
a = [x for x in m["attempts"] if x["kind"] == "install"][-1]
print(a["events"])')
site_kill9
t_kill=$(date -u +%FT%T.%6NZ)
curl -sf --max-time 2 "${SITE_URL}healthz" >/dev/null 2>&1 && die "the server still answers after kill -9"
sleep "$DOWN"
t_restart=$(date -u +%FT%T.%6NZ)
site_start --policy discover
log "restarted; $before events of the install were stored before the kill"

log "5. the install finishes, the machine boots its disk"
guest_wait "$off_install" 900 --fail-on "INSTALL FAILED" --expect "INIT: installer exited with status 0"
off_done=$OFFSET t_install=$(($(date +%s) - TD))
log "the install ended with status 0 (${t_install}s after the discover run ended)"
guest_wait "$off_done" 900 --fail-on "INSTALL FAILED" --expect "$MARKER site91"
t_boot=$WAITED
log "the installed system printed its first-boot marker ${t_boot}s later"
[ "$(count_after "$off_done" "INIT: installer exited")" = 0 ] || die "the installer ran again after the install"
T1=$(date +%s)
# The installer waits for its report queue to drain before it exits; give
# the server a moment for the last POST anyway.
sleep 2

api "api/v1/machines/$MAC" >"$T/machine.json" || die "GET /api/v1/machines/$MAC failed"
attempt=$(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
print([x for x in m["attempts"] if x["kind"] == "install"][-1]["number"])' "$T/machine.json")
api "api/v1/machines/$MAC/events?attempt=$attempt" >"$T/events.json" || die "GET events failed"
# The install's part of the serial log. Not `tail | head -c` under pipefail:
# head's early exit can kill tail with SIGPIPE and end the test silently
# (it did once in a clean run).
python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.stdout.buffer.write(d[int(sys.argv[2]):int(sys.argv[3])])' \
	"$SERIAL" "$off_install" "$off_done" >"$T/install-serial.log"
python3 - "$T/machine.json" "$T/events.json" "$T/install-serial.log" "$t_kill" "$t_restart" "$before" <<'EOF' ||
import json, re, sys
m = json.load(open(sys.argv[1]))
events = json.load(open(sys.argv[2]))["events"]
serial = open(sys.argv[3], "rb").read().decode("utf-8", "replace").replace("\r", "")
t_kill, t_restart, before = sys.argv[4], sys.argv[5], int(sys.argv[6])
assert m["state"] == "installed", f"state {m['state']}"
a = [x for x in m["attempts"] if x["kind"] == "install"]
assert len(a) == 1, f"{len(a)} install attempts"
a = a[0]
assert a["exit_status"] == 0 and a["profile"] == "site91.yaml", a
seqs = [e["seq"] for e in events]
n = len(seqs)
assert seqs == list(range(1, n + 1)), f"stored seqs are not 1..{n} without gaps: {seqs}"
assert a["events"] == n, (a["events"], n)
by_seq = {e["seq"]: e for e in events}
printed = parsed = 0
for line in serial.splitlines():
    i = line.find('{"seq":')
    if i < 0:
        continue
    printed += 1
    seq = int(re.match(r'\{"seq":(\d+)', line[i:]).group(1))
    assert seq in by_seq, f"event seq {seq} was printed on the console but is not in the server"
    try:
        ev = json.loads(line[i:])
    except ValueError:
        continue  # a kernel message cut into the line: the seq was checked
    parsed += 1
    assert ev == by_seq[seq], f"event {seq} differs:\n console {ev}\n server  {by_seq[seq]}"
assert printed >= n, f"{printed} event lines on the console, {n} stored"
# Events whose own time falls while the server was down reached it later
# (the guest's clock is the host's: QEMU's RTC).
down = [e for e in events if t_kill < e["time"] < t_restart]
assert down, f"no stored event from the time the server was down ({t_kill} .. {t_restart})"
last = events[-1]
assert last["type"] == "finish" and last.get("phase") == "install" and last.get("exit_status") == 0, last
print(f"events: {n} stored, seq 1..{n} without a gap, {before} before the kill; {printed} printed on the console "
      f"({parsed} compared field by field); {len(down)} from the {t_kill[11:19]}..{t_restart[11:19]} outage arrived after the restart")
EOF
	die "the record after the crash is wrong (see $T/machine.json, $T/events.json)"
log "ok: no event lost across kill -9, the outage's events arrived, the machine is installed"
log "times: power-on to the waiting line ${t_discover}s; reboot -> install done ${t_install}s (with a ${DOWN}s server outage) -> first-boot marker ${t_boot}s; whole run $((T1 - T0))s"
