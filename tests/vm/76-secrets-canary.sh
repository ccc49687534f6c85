#!/bin/bash
# Secrets never leak: a profile with a canary password hash (a user's
# password_hash), a canary report token (report: in the profile) and canary
# credentials in the image URL (user:password@, served fine by the test
# server). A full install must show none of them in any event, on the serial
# console, or in any world-readable file of the installed system (its root
# filesystem loop-mounted read-only on the host); /etc/shadow must hold the
# hash and be 0640 root:shadow. Then a failing install (an image whose sha256
# is wrong): its log must be uploaded, and be canary-free too.
# (no_timer_check: see 75-events-report.sh.)
. "$(dirname "$0")/lib.sh"

UUID=7a6e7c1d-0b9e-4c55-9f0e-76c0ffee0076
CANARY_HASH='$6$CanarySalt76$RXJdMZQIFFUAT9Rq4Fcd5pFVx/J8T41Qj54Sjn5KTvqcjPiLQD.9/a.jv.J8hOTwnH9ubfrBtQlobKCI1GU/20'
CANARY_TOKEN=canary-token-3b1f9e76
CANARY_USER=canaryuser76
CANARY_PASS=CanaryPass-5d2e76
CANARIES=("$CANARY_HASH" "${CANARY_HASH:30:40}" "$CANARY_TOKEN" "$CANARY_PASS" "$CANARY_USER:$CANARY_PASS")

# profile IMAGE SHA256: the demo profile with the canaries planted.
profile() {
	sed -e "s|@IMAGE_SHA256@|$2|" \
		-e "s|url: http://10.0.2.100/images/debian12.tar.zst|url: http://$CANARY_USER:$CANARY_PASS@10.0.2.100/images/$1|" \
		-e "s|password_hash: \"!\"|password_hash: \"$CANARY_HASH\"|" \
		"$ROOT/profiles/default.yaml"
	printf 'report:\n  url: http://10.0.2.100/report\n  token: %s\n' "$CANARY_TOKEN"
}

# scan WHAT FILE...: no canary in any of the files.
scan() {
	local what=$1 c; shift
	for c in "${CANARIES[@]}"; do
		if grep -rlF -- "$c" "$@" 2>/dev/null; then
			die "a canary secret (${c:0:12}...) leaked into $what"
		fi
	done
}

# The recorded POST bodies (the headers carry the token, legitimately).
bodies() { # RECORD OUT
	python3 -c 'import json, sys
with open(sys.argv[2], "w") as out:
    for l in open(sys.argv[1]):
        out.write(json.loads(l)["body"] + "\n")' "$1" "$2"
}

MNT=$T/mnt LOOP=""
cleanup() {
	mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"
	[ -z "$LOOP" ] || losetup -d "$LOOP" 2>/dev/null || true
}
trap cleanup EXIT

profile debian12.tar.zst "$(image_sha256)" > "$T/profiles/default.yaml"
grep -qF "$CANARY_HASH" "$T/profiles/default.yaml" || die "the canary hash was not planted"
make_www "no_timer_check inst.finish=poweroff"
link_image
make_disk "$T/target.raw" 6G

log "1. full install with the canaries in the profile"
pxeboot --disk "$T/target.raw" --uuid "$UUID" --mem 1024 --record "$T/posts.jsonl" \
	--timeout 900 --fail-on "INSTALL FAILED" || die "the install did not finish"
expect_log "INSTALL COMPLETE"
expect_log "INIT: installer exited with status 0"
python3 "$ROOT/tests/vm/events-check.py" "$T/posts.jsonl" --token "$CANARY_TOKEN" --exit 0 \
	--machine-id "$UUID" --machine-id-source smbios-uuid --phases detect,validate,image,configure,bootloader ||
	die "the reported events are wrong"
bodies "$T/posts.jsonl" "$T/events.ndjson"
grep -q '"phase":"detect","type":"start"' "$T/events.ndjson" || die "events from before the profile was known were not sent"
scan "the reported events" "$T/events.ndjson"
scan "the serial console" "$SERIAL"

log "2. the installed system: world-readable files, /etc/shadow"
mkdir -p "$MNT"
# Partitions by offset (no partition device nodes without udev): the one
# whose filesystem is labelled root.
while read -r start size; do
	LOOP=$(losetup --find --show --read-only --offset $((start * 512)) --sizelimit $((size * 512)) "$T/target.raw")
	[ "$(blkid -p -o value -s LABEL "$LOOP" 2>/dev/null)" = root ] && break
	losetup -d "$LOOP"
	LOOP=""
done < <(/sbin/sfdisk -J "$T/target.raw" | python3 -c 'import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]: print(p["start"], p["size"])')
[ -n "$LOOP" ] || die "no partition labelled root on the installed disk"
mount -o ro,noload "$LOOP" "$MNT"
n=$(find "$MNT" -xdev -type f -perm -o=r | wc -l)
[ "$n" -gt 1000 ] || die "only $n world-readable files: is this the installed system?"
find "$MNT" -xdev -type f -perm -o=r -print0 | xargs -0 -r grep -lF \
	-e "$CANARY_HASH" -e "${CANARY_HASH:30:40}" -e "$CANARY_TOKEN" -e "$CANARY_PASS" >"$T/leaks" || true
[ ! -s "$T/leaks" ] || die "canaries in world-readable files of the installed system: $(tr '\n' ' ' <"$T/leaks")"
grep -qF "admin:$CANARY_HASH:" "$MNT/etc/shadow" || die "/etc/shadow lacks the user's hash"
shadow_gid=$(awk -F: '$1 == "shadow" {print $3}' "$MNT/etc/group")
[ "$(stat -c '%a %u %g' "$MNT/etc/shadow")" = "640 0 $shadow_gid" ] ||
	die "/etc/shadow is $(stat -c '%a %u:%g' "$MNT/etc/shadow"), expected 640 root:shadow (0:$shadow_gid)"
log "  $n world-readable files scanned, no canary; /etc/shadow 0640 root:shadow with the hash"
cleanup
LOOP=""

log "3. a failing install (wrong image checksum): the log is uploaded, canary-free"
mkdir -p "$T/tiny/etc"
echo tiny > "$T/tiny/etc/hostname"
tar -C "$T/tiny" -cf - . | zstd -q -o "$T/www/images/tiny.tar.zst"
WRONG=$(image_sha256 | tr '0-9a-f' '1-9a-f0')
profile tiny.tar.zst "$WRONG" > "$T/www/profiles/default.yaml" # the served copy
mv "$SERIAL" "$T/install-ok.log"
mv "$T/posts.jsonl" "$T/posts-ok.jsonl"
make_disk "$T/target2.raw" 6G
pxeboot --disk "$T/target2.raw" --uuid "$UUID" --mem 1024 --record "$T/posts.jsonl" \
	--timeout 900 || die "the guest did not power off"
expect_log "INSTALL FAILED (exit status 7)"
python3 "$ROOT/tests/vm/events-check.py" "$T/posts.jsonl" --token "$CANARY_TOKEN" --exit 7 --log-upload \
	--machine-id "$UUID" --phases detect,validate,image || die "the reported events of the failed install are wrong"
bodies "$T/posts.jsonl" "$T/failed.txt"
grep -qF "does not match its checksum" "$T/failed.txt" || die "the uploaded log does not say why the install failed"
scan "the events and log of the failed install" "$T/failed.txt"
scan "the serial console of the failed install" "$SERIAL"
log "ok: no canary in events, uploaded log, console or world-readable files; /etc/shadow 0640 root:shadow"
