#!/bin/bash
# The machine life cycle through HTTP only (docs/site.md, "States"), with a
# real site-server on SQLite:
#   policy install:  answer install -> install finish exit 0 -> answer local ->
#                    reinstall -> answer install; exit 7 -> hold with the
#                    error, the log; release -> install; hold/release
#   policy discover: answer discover (inst.mode=discover) -> /next wait ->
#                    inventory -> release -> /next reboot -> answer install;
#                    assign a profile; forget
. "$(dirname "$0")/lib.sh"

make_www
M=52:54:00:bb:00:01

# ---------------- policy install ----------------
site_start --www "$T/www" --policy install --append "inst.debug=1"

req GET /boot.ipxe
expect_status 200 "boot.ipxe"
body_has "chain --replace --autofree ${SITE_URL}ipxe/answer?mac=\${netX/mac}&uuid=\${uuid}&serial=\${serial:uristring}&platform=\${platform}&arch=\${buildarch}" "boot.ipxe chains to the answer"

answer $M
body_has "kernel ${SITE_URL}vmlinuz initrd=initrd.img " "install answer"
body_has " inst.profiles=${SITE_URL}profiles/ " "install answer: the profile lookup"
body_has " inst.report=${SITE_URL}api/v1/machines/$MID/report inst.report.token=$TOKEN " "install answer: report URL and token"
body_has " inst.debug=1 \${extra_args} " "install answer: --append"
body_lacks "inst.mode=discover" "install answer"
[ "$(state "$MID")" = installing ] || fail "after the install answer: $(state "$MID")"
req GET "/api/v1/machines/$MID"
[ "$(json 'j["uuid"], j["serial"], j["platform"], j["attempt"]["number"], j["attempt"]["kind"]')" = "(None, None, 'pcbios', 1, 'install')" ] ||
	fail "machine after the answer: $(cat "$BODY")"
ok "policy install: a new machine gets the installer (attempt 1), uuid/serial placeholders ignored"

{ event 1 $M start install; event 2 $M start image
  event 3 $M progress image ',"progress":{"what":"img","done":500,"total":1000,"rate":100,"eta":5,"final":false}'; } > "$T/e1"
post_events "$MID" "$TOKEN" "$T/e1"
expect_status 200 "events 1-3"
req GET "/api/v1/machines/$MID"
[ "$(json 'j["state"], j["phase"], j["progress"]["done"], j["progress"]["total"]')" = "('installing', 'image', 500, 1000)" ] ||
	fail "machine while installing: $(cat "$BODY")"
{ event 4 $M finish image ',"result":"ok","duration":2.5'; event 5 $M finish install ',"result":"ok","exit_status":0,"duration":3.0'; } > "$T/e2"
post_events "$MID" "$TOKEN" "$T/e2"
expect_status 200 "events 4-5"
expect_body '{"stored":2,"duplicates":0}' "events 4-5"
req GET "/api/v1/machines/$MID"
[ "$(json 'j["state"], j["attempt"]["exit_status"], j["attempt"]["events"]')" = "('installed', 0, 5)" ] ||
	fail "after install finish exit 0: $(cat "$BODY")"
[ "$(json '[(p["phase"], p["result"], p["duration"]) for p in j["attempts"][0]["phases"]]')" = "[('install', 'ok', 3.0), ('image', 'ok', 2.5)]" ] ||
	fail "phases: $(json 'j["attempts"][0]["phases"]')"
ok "events -> installed, phases from start/finish"

answer $M pcbios
body_has "sanboot --no-describe --drive 0x80 || exit" "local answer (BIOS)"
body_lacks "kernel" "local answer"
answer $M efi
body_has $'\nexit\n' "local answer (UEFI)"
body_lacks "sanboot" "local answer (UEFI)"
[ "$(state "$MID")" = installed ] || fail "a local answer changed the state: $(state "$MID")"
ok "installed -> local boot (sanboot on BIOS, exit on UEFI)"

operator "$MID" reinstall
expect_status 200 "reinstall"
[ "$(json 'j["state"]')" = ready ] || fail "reinstall answered $(cat "$BODY")"
answer $M
OLD_TOKEN=$TOKEN
body_has " inst.report.token=$TOKEN " "install answer after reinstall"
req GET "/api/v1/machines/$MID"
[ "$(json 'j["state"], j["attempt"]["number"]')" = "('installing', 2)" ] || fail "after reinstall: $(cat "$BODY")"
ok "reinstall -> ready -> install (attempt 2)"

{ event 1 $M start install; event 2 $M start image
  event 3 $M error image ',"level":"error","message":"Image: img does not match its checksum"'
  event 4 $M finish image ',"result":"failed","errno":"EBADMSG","duration":1.0'
  event 5 $M finish install ',"result":"failed","exit_status":7,"duration":2.0'; } > "$T/e3"
post_events "$MID" "$TOKEN" "$T/e3"
expect_status 200 "failed install events"
printf 'the installer log\nline 2: caf\xc3\xa9 $HOME "q"\n' > "$T/log"
req POST "/api/v1/machines/$MID/report" -H "Authorization: Bearer $TOKEN" -H 'X-Installer-Upload: log' \
	-H 'Content-Type: text/plain; charset=utf-8' --data-binary @"$T/log"
expect_status 200 "log upload"
req GET "/api/v1/machines/$MID"
[ "$(json 'j["state"], j["last_error"], j["attempt"]["exit_status"], j["attempt"]["has_log"]')" = "('failed', 'Image: img does not match its checksum', 7, True)" ] ||
	fail "after exit 7: $(cat "$BODY")"
req GET "/api/v1/machines/$MID/log"
expect_status 200 "GET log"
cmp "$BODY" "$T/log" || fail "the log did not come back verbatim: $(od -c "$BODY" | head)"
answer $M
body_has "echo install 2 failed in phase image: Image: img does not match its checksum. site-server reinstall_release $MID" "hold answer"
body_has "sleep 30" "hold answer"
body_has "chain --replace --autofree ${SITE_URL}ipxe/answer?mac=\${netX/mac}" "hold answer asks again"
body_lacks "kernel" "hold answer"
ok "exit 7 -> failed -> hold with the error; the log stored"

operator "$MID" release
expect_status 200 "release"
[ "$(json 'j["state"]')" = ready ] || fail "release of a failed machine: $(cat "$BODY")"
answer $M
body_has "inst.report.token=$TOKEN" "install after release"
[ "$(state "$MID")" = installing ] || fail "after release and answer: $(state "$MID")"
operator "$MID" hold '{"message":"disk swap, rack 4"}'
expect_status 200 "hold"
[ "$(json 'j["state"], j["message"]')" = "('held', 'disk swap, rack 4')" ] || fail "hold: $(cat "$BODY")"
answer $M
body_has "echo disk swap, rack 4" "held answer"
operator "$MID" release
[ "$(json 'j["state"]')" = installing ] || fail "release of a held installing machine: $(cat "$BODY")"
operator "$MID" frobnicate
expect_status 404 "an unknown action"
operator 424242 reinstall
expect_status 404 "reinstall of an unknown machine"
operator "$M" hold
[ "$STATUS" = 200 ] && [ "$(json 'j["id"]')" = "$MID" ] || fail "hold by MAC: $STATUS $(cat "$BODY")"
operator "$M" release
ok "release -> install; hold with a message -> hold answer; release -> back; names by MAC"

# An earlier attempt's token of machine 1 is no key to machine 2.
answer 52:54:00:bb:00:02
event 1 52:54:00:bb:00:02 start install > "$T/e4"
post_events "$MID" "$OLD_TOKEN" "$T/e4"
expect_status 403 "machine 1's old token on machine 2"
log_has "403 the token belongs to machine 1, not $MID" "old token 403 logged"
post_events "$MID" "$TOKEN" "$T/e4"
expect_status 200 "machine 2's own token"
site_stop

# ---------------- policy discover ----------------
rm -rf "$T/state"
site_start --www "$T/www" --policy discover
D=52:54:00:cc:00:01
answer $D efi
body_has " inst.mode=discover inst.wait=${SITE_URL}api/v1/machines/$MID/next" "discover answer"
body_has " inst.report=${SITE_URL}api/v1/machines/$MID/report inst.report.token=$TOKEN" "discover answer"
[ "$(state "$MID")" = discovered ] || fail "a new machine under policy discover: $(state "$MID")"
req GET "/api/v1/machines/$MID/next" -H "Authorization: Bearer $TOKEN"
expect_status 200 "next"
expect_body '{"action":"wait","state":"discovered"}' "next while discovered"
req GET "/api/v1/machines/$MID/next"
expect_status 401 "next without a token"
printf '{"disks":[{"name":"nvme0n1"}]}' > "$T/inv"
req POST "/api/v1/machines/$MID/report" -H "Authorization: Bearer $TOKEN" -H 'X-Installer-Upload: inventory' \
	-H 'Content-Type: application/json' --data-binary @"$T/inv"
expect_status 200 "inventory"
req GET "/api/v1/machines/$MID"
[ "$(json 'j["has_inventory"], j["inventory"]["disks"][0]["name"], j["attempt"]["kind"]')" = "(True, 'nvme0n1', 'discover')" ] ||
	fail "discovered machine: $(cat "$BODY")"
answer $D efi
body_has "inst.mode=discover" "a discovered machine boots discover again"
DTOKEN=$TOKEN
ok "policy discover: discover answer, /next wait, inventory"

operator "$MID" release
expect_status 200 "release"
[ "$(json 'j["state"]')" = ready ] || fail "release of a discovered machine: $(cat "$BODY")"
req GET "/api/v1/machines/$MID/next" -H "Authorization: Bearer $DTOKEN"
expect_body '{"action":"reboot","state":"ready"}' "next after release"

operator "$MID" assign '{"profile":"nope.yaml"}'
expect_status 400 "assign a missing profile"
operator "$MID" assign '{"profile":"../web.yaml"}'
expect_status 400 "assign a path"
operator "$MID" assign '{"profile":"web.yaml"}'
expect_status 200 "assign web.yaml"
[ "$(json 'j["profile"]')" = web.yaml ] || fail "assign: $(cat "$BODY")"
answer $D efi
body_has " inst.profile=${SITE_URL}profiles/web.yaml " "install answer with the assigned profile"
body_lacks "inst.mode=discover" "install answer after release"
body_lacks "inst.profiles=" "install answer with an assignment"
[ "$(state "$MID")" = installing ] || fail "after release and answer: $(state "$MID")"
# The discover attempt's token, replaced by the install attempt's: no more
# events or inventory with it (a token is good for its own run only).
{ event 1 $D start install; } > "$T/e5"
post_events "$MID" "$DTOKEN" "$T/e5"
expect_status 403 "events with a replaced attempt's token"
log_has "was replaced by attempt" "replaced token 403 logged"
post_events "$MID" "$TOKEN" "$T/e5"
expect_status 200 "events with the current attempt's token"
operator "$MID" assign '{"profile":null}'
[ "$(json 'j["profile"]')" = None ] || fail "assign null: $(cat "$BODY")"
ok "release -> /next reboot -> install; assign a profile -> inst.profile="

for p in / "/machines/$MID" "/machines/$D" /site.js /site.css; do
	req GET "$p"
	expect_status 200 "page $p"
	[ "$(header Content-Security-Policy)" = "default-src 'self'" ] || fail "page $p: CSP '$(header Content-Security-Policy)'"
done
req GET /
body_has "$D" "the machine table"
req GET /machines/nope
expect_status 404 "the page of an unknown machine"
req GET /healthz
expect_body ok "healthz"
ok "pages: 200 with CSP default-src 'self'"

req GET /api/v1/machines
expect_status 200 "list"
[ "$(json '[m["mac"] for m in j["machines"]]')" = "['$D']" ] || fail "list: $(cat "$BODY")"
operator "$MID" forget
expect_status 200 "forget"
req GET "/api/v1/machines/$MID"
expect_status 404 "a forgotten machine"
req GET "/api/v1/machines/$MID/next" -H "Authorization: Bearer $DTOKEN"
[ "$STATUS" = 404 ] || [ "$STATUS" = 401 ] || fail "next of a forgotten machine: $STATUS"
ok "forget"
site_stop
echo PASS
