#!/bin/bash
# Hostile and broken input against a real site-server (SQLite, 127.0.0.1, a
# free port): every refusal has its status, its reason in the server's log,
# and leaves the store unchanged; secrets outside the served tree are never
# returned. Then the happy path of the same requests: events stored and
# deduplicated, the inventory returned verbatim, Range and If-None-Match.
. "$(dirname "$0")/lib.sh"

make_www
printf 'TOPSECRET-4f1c outside the tree\n' > "$T/secret.txt"
ln -s ../secret.txt "$T/www/leak-relative"
ln -s "$T/secret.txt" "$T/www/leak-absolute"
ln -s "$T" "$T/www/profiles/up"
ln -s vmlinuz "$T/www/inside-link"
mkfifo "$T/www/fifo"

site_start --www "$T/www" --policy install --max-body 65536

# ---- two machines, each with its token ----
answer 52:54:00:aa:00:01
TOKEN_A=$TOKEN A=$MID
answer 52:54:00:aa:00:02
TOKEN_B=$TOKEN B=$MID
[ -n "$TOKEN_A" ] && [ -n "$TOKEN_B" ] && [ "${#TOKEN_A}" = 64 ] || fail "no 64-hex token in the answer"
[ "$A" != "$B" ] || fail "two machines with one number"
[ "$TOKEN_A" != "$TOKEN_B" ] || fail "two machines with one token"
[ "$(state "$A")" = installing ] || fail "machine A is not installing"
ok "machines $A and $B, each with a token"

# ---- happy path: events, duplicates, inventory ----
{ event 1 52:54:00:aa:00:01 start install; event 2 52:54:00:aa:00:01 start detect
  event 3 52:54:00:aa:00:01 finish detect ',"result":"ok","duration":0.5'; } > "$T/ev1"
post_events "$A" "$TOKEN_A" "$T/ev1"
expect_status 200 "3 events"
expect_body '{"stored":3,"duplicates":0}' "3 events"
{ event 2 52:54:00:aa:00:01 start detect; event 3 52:54:00:aa:00:01 finish detect ',"result":"ok"'
  event 4 52:54:00:aa:00:01 progress image ',"progress":{"what":"x","done":10,"total":null,"rate":1.5,"eta":null,"final":false}'; } > "$T/ev2"
post_events "$A" "$TOKEN_A" "$T/ev2"
expect_status 200 "events again"
expect_body '{"stored":1,"duplicates":2}' "duplicates dropped by seq"
[ "$(events_count "$A")" = 4 ] || fail "machine A: $(events_count "$A") events stored, expected 4"
req GET "/api/v1/machines/$A/events?after=3"
expect_status 200 "events after 3"
[ "$(json '[e["seq"] for e in j["events"]]')" = "[4]" ] || fail "events after 3: $(cat "$BODY")"
# A batch that arrives in many pieces (about 50 KiB, under the 64 KiB cap), then again chunked.
for i in $(seq 100 399); do event "$i" 52:54:00:aa:00:01 info image ',"level":"info","message":"padding padding padding padding"'; done > "$T/many"
[ "$(stat -c %s "$T/many")" -gt 40000 ] && [ "$(stat -c %s "$T/many")" -lt 65536 ] || fail "the batch is $(stat -c %s "$T/many") bytes"
post_events "$A" "$TOKEN_A" "$T/many"
expect_body '{"stored":300,"duplicates":0}' "300 events in one body"
req POST "/api/v1/machines/$A/report" -H "Authorization: Bearer $TOKEN_A" -H 'Content-Type: application/x-ndjson' \
	-H 'Transfer-Encoding: chunked' --data-binary @"$T/many"
expect_body '{"stored":0,"duplicates":300}' "the same 300 events chunked"
req GET "/api/v1/machines/$A/events?after=398"
[ "$(json '[(e["seq"], e["message"]) for e in j["events"]]')" = "[(399, 'padding padding padding padding')]" ] || fail "event 399: $(cat "$BODY")"
ok "events stored, duplicates dropped"

printf '{"machine":{"vendor":"QEMU","odd":"\\u00e9 \\"q\\""},\n "disks":[{"name":"vda","size":8589934592}]  }' > "$T/inv.json"
req POST "/api/v1/machines/$A/report" -H "Authorization: Bearer $TOKEN_A" -H 'X-Installer-Upload: inventory' \
	-H 'Content-Type: application/json' --data-binary @"$T/inv.json"
expect_status 200 "inventory"
req GET "/api/v1/machines/$A/inventory"
expect_status 200 "GET inventory"
cmp -s "$BODY" "$T/inv.json" || fail "the inventory did not come back verbatim: $(cat "$BODY")"
[ "$(header Content-Type)" = application/json ] || fail "inventory Content-Type $(header Content-Type)"
ok "inventory stored and returned verbatim"

# ---- refusals of the intake; each leaves the event count at 304 ----
count_unchanged() {
	[ "$(events_count "$A")" = 304 ] || fail "$1: the store changed ($(events_count "$A") events)"
}

head -c 70000 /dev/zero | tr '\0' 'x' > "$T/big"
post_events "$A" "$TOKEN_A" "$T/big"
expect_status 413 "oversize body (Content-Length)"
log_has "413 the body (70000 bytes) is larger than 65536 bytes" "413 logged"
req POST "/api/v1/machines/$A/report" -H "Authorization: Bearer $TOKEN_A" -H 'Content-Type: application/x-ndjson' \
	-H 'Transfer-Encoding: chunked' --data-binary @"$T/big"
expect_status 413 "oversize body (chunked)"
log_has "413 the body is larger than 65536 bytes" "chunked 413 logged"
count_unchanged "oversize"

printf '{"seq":5,"type":"info",\n' > "$T/bad"
post_events "$A" "$TOKEN_A" "$T/bad"
expect_status 400 "malformed JSON"
log_has "400 line 1: not JSON" "malformed JSON logged"
count_unchanged "malformed JSON"

{ event 5 52:54:00:aa:00:01 info detect; printf '{"time":"2026-12-07T18:00:00.000000Z","machine_id":"52:54:00:aa:00:01","phase":"x","type":"info"}\n'; } > "$T/noseq"
post_events "$A" "$TOKEN_A" "$T/noseq"
expect_status 400 "an event without seq"
log_has "400 line 2: seq missing or not an integer >= 1" "missing seq logged"
count_unchanged "missing seq (the good line before it is not stored either)"

{ event 5 52:54:00:aa:00:01 info detect; event 6 52:54:00:aa:00:01 bogus detect; } > "$T/badtype"
post_events "$A" "$TOKEN_A" "$T/badtype"
expect_status 400 "an unknown type"
count_unchanged "unknown type"

event 5 52:54:00:aa:00:01 info detect ',"exit_status":"zero"' > "$T/badexit"
post_events "$A" "$TOKEN_A" "$T/badexit"
expect_status 400 "exit_status not an integer"
count_unchanged "exit_status"

event 5 52:54:00:aa:00:01 info detect > "$T/good5"
post_events "$B" "$TOKEN_A" "$T/good5"
expect_status 403 "machine A's token on machine B's URL"
log_has "403 the token belongs to machine $A, not $B" "403 logged"
count_unchanged "another machine's URL"

{ event 5 52:54:00:aa:00:01 info detect; event 6 52:54:00:aa:00:02 info detect; } > "$T/other"
post_events "$A" "$TOKEN_A" "$T/other"
expect_status 403 "an event with machine B's machine_id"
log_has "403 line 2: machine_id is not this machine's uuid or mac" "machine_id 403 logged"
count_unchanged "another machine_id"

req POST "/api/v1/machines/$A/report" -H 'Content-Type: application/x-ndjson' --data-binary @"$T/good5"
expect_status 401 "no token"
post_events "$A" "0000000000000000000000000000000000000000000000000000000000000000" "$T/good5"
expect_status 401 "unknown token"
log_has "401 unknown token" "unknown token logged"
post_events 999 "$TOKEN_A" "$T/good5"
expect_status 404 "unknown machine"
req POST "/api/v1/machines/$A/report" -H "Authorization: Bearer $TOKEN_A" -H 'Content-Type: text/plain' \
	--data-binary @"$T/good5"
expect_status 415 "events as text/plain"
req GET "/api/v1/machines/$A/report" -H "Authorization: Bearer $TOKEN_A"
expect_status 405 "GET on the report URL"
req POST "/api/v1/machines/$A/report" -H "Authorization: Bearer $TOKEN_A" -H 'X-Installer-Upload: inventory' \
	-H 'Content-Type: application/json' --data-binary '[1,2]'
expect_status 400 "an inventory that is not an object"
req GET "/api/v1/machines/$A/inventory"
cmp -s "$BODY" "$T/inv.json" || fail "a refused inventory replaced the stored one"
count_unchanged "401/404/415/405"
ok "intake refusals: 413 400 403 401 404 415 405, store unchanged"

# ---- the operator API without the operator token ----
operator "$A" hold '{"message":"x"}'
[ "$STATUS" = 200 ] || fail "hold with the operator token: $STATUS"
operator "$A" release
[ "$(state "$A")" = installing ] || fail "hold+release did not bring A back to installing: $(state "$A")"
req POST "/api/v1/machines/$A/reinstall"
expect_status 401 "reinstall without a token"
log_has "401 no operator token" "no operator token logged"
req POST "/api/v1/machines/$A/reinstall" -H "Authorization: Bearer wrong-$SITE_OPERATOR_TOKEN"
expect_status 401 "reinstall with a wrong token"
req POST "/api/v1/machines/$A/forget" -H "Authorization: Bearer $TOKEN_A"
expect_status 401 "forget with a machine token"
log_has "401 wrong operator token" "wrong operator token logged"
[ "$(state "$A")" = installing ] || fail "refused operator actions changed machine A: $(state "$A")"
ok "operator actions need the operator token"

# ---- the static tree: confinement ----
for path in '/../etc/passwd' '/%2e%2e/etc/passwd' '/%2e%2e%2f' '/%2e%2e%2fetc%2fpasswd' \
	'/profiles/..%2f..%2fetc/passwd' '/profiles/../../secret.txt' '/%252e%252e/secret.txt' \
	'/%252e%252e%252fsecret.txt' '/vmlinuz%00.txt' '/leak-relative' '/leak-absolute' '/profiles/up/secret.txt' \
	'/..%5csecret.txt' '//etc/passwd' '/profiles/' '/fifo' '/nonexistent'; do
	req GET "$path"
	case $STATUS in
	400 | 403 | 404) ;;
	*) fail "GET $path: status $STATUS" ;;
	esac
	body_lacks TOPSECRET "GET $path"
	body_lacks "root:x:0:0" "GET $path"
done
req GET '/../etc/passwd'
expect_status 403 "/../etc/passwd"
log_has "403 a . or .. segment in the path" "traversal logged"
req GET '/%2e%2e%2fetc%2fpasswd'
expect_status 403 "encoded slashes"
log_has "403 an encoded slash in the path" "encoded slash logged"
req GET '/vmlinuz%00.txt'
expect_status 403 "NUL"
log_has "403 an encoded NUL (%00) in the path" "NUL logged"
req GET '/leak-relative'
expect_status 403 "a symlink out of the tree"
log_has "403 the path leads out of the served tree (a symlink)" "symlink logged"
req GET '/leak-absolute'
expect_status 403 "an absolute symlink"
req GET '/profiles/'
expect_status 404 "a directory"
req GET '/inside-link'
expect_status 200 "a symlink inside the tree"
cmp -s "$BODY" "$T/www/vmlinuz" || fail "the inside symlink served other bytes"
ok "traversal, encodings, NUL, symlinks out: refused and logged; the secret never returned"

# ---- the static tree: Range, ETag, HEAD ----
req GET /vmlinuz -H 'Range: bytes=1000-1999'
expect_status 206 "Range"
cmp -s "$BODY" <(tail -c +1001 "$T/www/vmlinuz" | head -c 1000) || fail "Range: wrong bytes"
[ "$(header Content-Range)" = "bytes 1000-1999/300000" ] || fail "Content-Range: $(header Content-Range)"
req GET /vmlinuz -H 'Range: bytes=-100'
expect_status 206 "suffix Range"
cmp -s "$BODY" <(tail -c 100 "$T/www/vmlinuz") || fail "suffix Range: wrong bytes"
req GET /vmlinuz -H 'Range: bytes=300000-'
expect_status 416 "Range past the end"
[ "$(header Content-Range)" = "bytes */300000" ] || fail "416 Content-Range: $(header Content-Range)"
req GET /vmlinuz
expect_status 200 "whole file"
cmp -s "$BODY" "$T/www/vmlinuz" || fail "GET /vmlinuz: wrong bytes"
etag=$(header ETag)
[ -n "$etag" ] && [ -n "$(header Last-Modified)" ] || fail "no ETag or Last-Modified"
req GET /vmlinuz -H "If-None-Match: $etag"
expect_status 304 "If-None-Match"
[ ! -s "$BODY" ] || fail "304 with a body"
req GET /vmlinuz -H 'If-None-Match: "other"'
expect_status 200 "If-None-Match another tag"
req HEAD /vmlinuz -I
[ "$STATUS" = 200 ] && [ "$(header Content-Length)" = 300000 ] || fail "HEAD: $STATUS, length $(header Content-Length)"
req GET /profiles/web.yaml
expect_status 200 "a profile"
cmp -s "$BODY" "$T/www/profiles/web.yaml" || fail "profile: wrong bytes"
req DELETE /vmlinuz
expect_status 405 "DELETE"
ok "Range 206/416, ETag 304, HEAD, profiles"

# ---- a UUID as machine_id when the boot request had none ----
# Machine B booted without uuid=: its installer may still report the SMBIOS
# UUID Linux reads (machine_id_source smbios-uuid); as another source, or
# as a malformed UUID, it is refused.
U=0f0e0d0c-0b0a-0908-0706-050403020100
uev() { printf '{"seq":%s,"time":"2026-12-07T18:00:00.000000Z","machine_id":"%s","machine_id_source":"%s","phase":"detect","type":"info"}\n' "$@"; }
uev 1 "$U" boot-mac > "$T/u1"
post_events "$B" "$TOKEN_B" "$T/u1"
expect_status 403 "a UUID machine_id with source boot-mac"
uev 1 "${U%?}" smbios-uuid > "$T/u2"
post_events "$B" "$TOKEN_B" "$T/u2"
expect_status 403 "a malformed UUID machine_id"
uev 1 "$U" smbios-uuid > "$T/u3"
post_events "$B" "$TOKEN_B" "$T/u3"
expect_status 200 "the SMBIOS UUID of a machine that booted without uuid="
ok "machine_id: the SMBIOS UUID accepted only from a machine without one, as smbios-uuid"

# ---- the server's log: reasons, never a token ----
for t in "$TOKEN_A" "$TOKEN_B" "$SITE_OPERATOR_TOKEN"; do
	if grep -qF "$t" "$SITE_LOG" "$T/server.stdout"; then
		fail "a token in the server's output"
	fi
done
grep -q '^access: 127.0.0.1 POST /api/v1/machines/[0-9]*/report 413 ' "$SITE_LOG" || fail "no access log line of the 413"
ok "no token in the log; access lines present"

site_stop
ok "stopped cleanly on SIGTERM"
echo "PASS"
