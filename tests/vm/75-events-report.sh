#!/bin/bash
# Events of a full install reach a report endpoint: PXE boot with
# inst.report=URL and inst.report.token=TOKEN (a loopback HTTP server that
# records every POST, reached through the same guestfwd as the boot tree),
# install the demo image, power off. The recorded events must carry the
# bearer token, be numbered without gaps, keep monotonic time, start and
# finish every phase in the install order detect -> ... -> bootloader, and
# end with the install's finish event, exit status 0. docs/events.md.
# no_timer_check: on a heavily loaded host the kernel's IO-APIC timer check
# under TCG can fail ("IO-APIC + timer doesn't work!" panic); it tests QEMU,
# not the installer.
. "$(dirname "$0")/lib.sh"

MAC=52:54:00:12:34:75
TOKEN=events-test-token-75
sed "s/@IMAGE_SHA256@/$(image_sha256)/" "$ROOT/profiles/default.yaml" > "$T/profiles/default.yaml"
make_www "no_timer_check inst.finish=poweroff inst.report=http://10.0.2.100/report inst.report.token=$TOKEN"
link_image
make_disk "$T/target.raw" 6G

log "install (PXE, TCG) with events reported to the test's HTTP server; the guest powers off when done"
pxeboot --disk "$T/target.raw" --mac "$MAC" --mem 1024 --record "$T/posts.jsonl" \
	--timeout 900 --fail-on "INSTALL FAILED" || die "the install did not finish"
expect_log "INSTALL COMPLETE"
expect_log "INIT: installer exited with status 0"
expect_log "report: "
expect_no_log "events delivered to http://10.0.2.100/report, "
[ -s "$T/posts.jsonl" ] || die "no POST reached the report endpoint"

python3 "$ROOT/tests/vm/events-check.py" "$T/posts.jsonl" --token "$TOKEN" --exit 0 --serial "$SERIAL" \
	--machine-id "$MAC" --machine-id-source boot-mac --print \
	--phases detect,fetch-profile,validate,match,plan,check-target,wipe,partition,mkfs,mount,image,configure,bootloader ||
	die "the reported events are wrong (records in $T/posts.jsonl)"
grep -q '^{"seq":[0-9]*,.*"phase":"image","type":"progress","progress":{"what":"debian12.tar.zst","done":[0-9]*,"total":[0-9]*' "$SERIAL" ||
	die "no progress event with bytes done and total for the image phase"
log "ok: every phase reported in order, start before finish, final exit 0, bearer token presented"
