#!/bin/bash
# The site server's machine lifecycle in ONE continuous QEMU run (issue 12).
# The machine's firmware boots the network first on every boot (SeaBIOS:
# NIC bootindex 1, disk bootindex 2), as rack machines often do; it has one
# blank disk. site-server runs with policy "install" and a profile that
# installs the demo image with consent to wipe (so a second install may
# overwrite the first).
#   1. PXE -> the server answers "install" -> the installer installs and
#      reboots (inst.finish default) -> PXE again -> the server, which
#      recorded the install's exit status 0, answers "local" -> the
#      installed system boots from its disk to its first-boot marker.
#      Without the server's memory this machine would reinstall in a loop.
#   2. `site-server reinstall MACHINE` (the operator command line), a reset
#      of the guest through the QEMU monitor (system_reset): PXE -> install
#      again -> reboot -> PXE -> local -> the new system's first boot.
#   3. The server's record: two install attempts, both exit status 0, every
#      phase with a duration, the machine installed, seen after its last
#      install (the boot that was answered "local"). The durations are
#      printed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/site.lib"

MAC=52:54:00:12:34:56 # the demo profile's network section matches this MAC
MARKER=INSTALLED-SYSTEM-FIRSTBOOT-OK
sed -e "s/@IMAGE_SHA256@/$(image_sha256)/" -e 's/^  wipe: false/  wipe: true/' \
	-e 's/^hostname: demo01/hostname: site90/' "$ROOT/profiles/default.yaml" >"$T/profiles/default.yaml"
grep -q '^  wipe: true' "$T/profiles/default.yaml" || die "the profile lacks wipe: true"
make_www ""
site_image "$T/www"
make_disk "$T/target.raw" 6G

site_start --policy install
log "site-server on $SITE_URL (policy install, state in $SITE_STATE)"

T0=$(date +%s)
log "1. one QEMU run, network first on every boot: PXE -> install -> reboot -> PXE -> local -> the installed system"
guest_start 3000 --disk "$T/target.raw" --mac "$MAC" --mem 1024
guest_wait 0 900 --fail-on "INSTALL FAILED" --expect "INIT: installer exited with status 0"
t_install=$WAITED off1=$OFFSET
log "install 1 done after ${t_install}s; the installer reboots the machine"
guest_wait "$off1" 900 --fail-on "INSTALL FAILED" --expect "$MARKER site90"
t_boot1=$WAITED
log "the installed system printed its first-boot marker ${t_boot1}s after the install ended"
[ "$(count_after "$off1" "INIT: installer exited")" = 0 ] || die "the installer ran again after the first install"
m=$(api "api/v1/machines/$MAC") || die "GET /api/v1/machines/$MAC failed"
python3 - "$m" <<'EOF' || die "the server's record after the first install is wrong: $m"
import json, sys
m = json.loads(sys.argv[1])
assert m["state"] == "installed", m["state"]
a = [x for x in m["attempts"] if x["kind"] == "install"]
assert len(a) == 1, f"{len(a)} install attempts"
assert a[0]["exit_status"] == 0, a[0]
# Seen again after the install finished: the boot that was answered "local".
assert m["last_seen"] > a[0]["finished"], (m["last_seen"], a[0]["finished"])
EOF
log "ok: installed, one install attempt, the machine asked again after it and booted its disk"

log "2. site-server reinstall $MAC, then system_reset of the guest"
site reinstall "$MAC" >"$T/reinstall.out" || die "site-server reinstall failed: $(cat "$T/reinstall.out")"
state=$(api "api/v1/machines/$MAC" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
[ "$state" = ready ] || die "after reinstall the state is $state, not ready"
off=$(serial_size)
guest_monitor system_reset || die "system_reset through the monitor failed"
T1=$(date +%s)
guest_wait "$off" 900 --fail-on "INSTALL FAILED" --expect "INIT: installer exited with status 0"
t_install2=$WAITED off3=$OFFSET
log "install 2 done ${t_install2}s after the reset"
guest_wait "$off3" 900 --fail-on "INSTALL FAILED" --expect "$MARKER site90"
t_boot2=$WAITED
log "the new system printed its first-boot marker ${t_boot2}s after the install ended"
[ "$(count_after "$off3" "INIT: installer exited")" = 0 ] || die "the installer ran again after the second install"
T2=$(date +%s)

log "3. the server's record"
api "api/v1/machines/$MAC" >"$T/machine.json" || die "GET /api/v1/machines/$MAC failed"
site show "$MAC" --json >"$T/show.json" || die "site-server show $MAC --json failed"
python3 - "$T/machine.json" "$T/show.json" <<'EOF' || die "the server's record is wrong (see $T/machine.json)"
import json, sys
m = json.load(open(sys.argv[1]))
show = json.load(open(sys.argv[2]))
assert show["id"] == m["id"] and show["state"] == m["state"], "show --json disagrees with the API"
assert m["state"] == "installed", f"state {m['state']}"
a = [x for x in m["attempts"] if x["kind"] == "install"]
assert len(a) == 2, f"{len(a)} install attempts, not 2"
want = ["detect", "fetch-profile", "validate", "match", "plan", "check-target", "wipe", "partition",
        "mkfs", "mount", "image", "configure", "bootloader"]
for x in a:
    assert x["exit_status"] == 0, f"attempt {x['number']}: exit status {x['exit_status']}"
    assert x["finished"], f"attempt {x['number']} not finished"
    ph = {p["phase"]: p for p in x["phases"]}
    for w in want:
        assert w in ph, f"attempt {x['number']}: no phase {w}"
        assert ph[w]["duration"] is not None and ph[w]["result"] == "ok", f"attempt {x['number']}: {ph[w]}"
    print(f"install attempt {x['number']} (started {x['started']}, {x['events']} events, exit {x['exit_status']}):")
    print("   " + ", ".join(f"{p['phase']} {p['duration']:.1f}s" for p in x["phases"] if p["duration"] is not None))
assert a[0]["number"] < a[1]["number"]
assert m["last_seen"] > a[1]["finished"], "not seen after the second install (no boot answered local)"
EOF
log "ok: two installs recorded, both exit 0, every phase with its duration, state installed"
log "times: install 1 ${t_install}s from power-on, reboot -> local -> first-boot marker ${t_boot1}s;" \
	"reinstall: reset -> install done ${t_install2}s, -> first-boot marker ${t_boot2}s; whole run $((T2 - T0))s"
