#!/bin/bash
# The resuming image stream against every fault kind (docs/installer.md,
# "Retries and resume"): build/tests/tools/image-fetch streams a small
# tar.zst through image_install() (download thread, sha256, libarchive) into
# a directory, through tests/faultproxy.py in front of its Range-capable
# origin, both on 127.0.0.1. A short policy keeps every case to seconds:
# attempts 3, min_rate 1024 bytes/s over a 5 s window. Judged from the
# outside: the exit, the error, the files and their hash, the proxy's log
# (Range offsets, requests, bytes sent).
. "$(dirname "$0")/lib.sh"
FP=$ROOT/tests/faultproxy.py
TOOL=${IMAGE_FETCH:-$ROOT/build/tests/tools/image-fetch}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
[ -x "$TOOL" ] || make -C "$ROOT" -s "build/tests/tools/image-fetch" >/dev/null
START_BG_TIMEOUT=600
# The image: 2 MB of random data (zstd cannot shrink it) in a tar.zst.
mkdir -p "$T/src/etc" "$T/www"
head -c 2000000 /dev/urandom > "$T/src/etc/blob"
echo hello > "$T/src/etc/hostname"
tar -C "$T/src" -cf - . | zstd -q -o "$T/www/img.tar.zst"
SIZE=$(stat -c %s "$T/www/img.tar.zst")
SHA=$(sha256sum "$T/www/img.tar.zst" | cut -d' ' -f1)
BLOB=$(sha256sum "$T/src/etc/blob" | cut -d' ' -f1)

start_bg origin "$T/origin.port" "$PY" "$FP" origin --dir "$T/www" --port-file "$T/origin.port"
echo '{"rules": []}' > "$T/prog.json"
start_bg proxy "$T/proxy.port" "$PY" "$FP" proxy --upstream "http://127.0.0.1:$(cat "$T/origin.port")" \
	--program "$T/prog.json" --log "$T/proxy.log" --port-file "$T/proxy.port"
BASE=http://127.0.0.1:$(cat "$T/proxy.port")

# fetch CASE [tool options]: the case's own path (a link to the image) and
# program (steps for requests 1, 2, ...; pass after them); stdout/stderr of
# the tool in $T/CASE.out/.err, its exit in RC, the seconds in SECS.
fetch() {
	local name=$1 steps=$2
	shift 2
	ln -sf img.tar.zst "$T/www/$name.tar.zst"
	printf '{"rules": [{"path": "/%s\\\\.tar\\\\.zst", "steps": %s}]}\n' "$name" "$steps" > "$T/prog.json"
	rm -rf "$T/root" && mkdir "$T/root"
	local t0=$(date +%s.%N)
	set +e
	timeout 120 "$TOOL" --sha256 "$SHA" --attempts 3 --min-rate 1024 --rate-window 5 "$@" \
		"$BASE/$name.tar.zst?token=SeCrEt" "$T/root" > "$T/$name.out" 2> "$T/$name.err"
	RC=$?
	set -e
	SECS=$(echo "$(date +%s.%N) - $t0" | bc | xargs printf "%.1f")
	echo "--- $name: exit $RC in $SECS s: $(grep -h '^result\|^error' "$T/$name.out" | tr '\n' ' ')"
	sed -n '/interrupted at\|Resuming at\|Retrying from/p' "$T/$name.err" | sed 's/^/    /'
	! grep -q SeCrEt "$T/$name.out" "$T/$name.err" || die "$name: the URL's token was printed"
	settle "$name"
}
# settle CASE: wait until the proxy's log of the case stops growing. The
# proxy writes a request's line after the answer went out, so the tool can
# exit before the line of its last request exists (seen with other tests
# beside this one): three equal counts 0.1 s apart, at most 10 s.
settle() {
	local n=-1 m same=0 i
	for i in $(seq 100); do
		m=$(log "$1" | wc -l)
		if [ "$m" = "$n" ]; then
			same=$((same + 1))
			[ "$same" -lt 2 ] || return 0
		else
			same=0
		fi
		n=$m
		sleep 0.1
	done
}
ok() {
	[ "$RC" -eq 0 ] || { cat "$T/$1.out" "$T/$1.err" >&2; die "$1: failed"; }
	expect_in "$T/$1.out" "result: 0 bytes=$SIZE sha256=$SHA"
	[ "$(sha256sum "$T/root/etc/blob" | cut -d' ' -f1)" = "$BLOB" ] || die "$1: the extracted file differs"
}
failed() { # CASE ERRNO-NAME TEXT
	[ "$RC" -ne 0 ] || die "$1: succeeded"
	expect_in "$T/$1.out" "result: $2 "
	expect_in "$T/$1.out" "$3"
	expect_in "$T/$1.out" "error: $BASE/$1.tar.zst: "
}
# log CASE: the proxy's log lines for the case as "start bytes status action" lines.
log() {
	"$PY" - "$T/proxy.log" "/$1.tar.zst" <<'PYEOF'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("path", "").split("?")[0] == sys.argv[2]:
        print(e.get("start") or 0, e.get("bytes") or 0, e.get("status"), e.get("range"), e.get("action"), sep="\t")
PYEOF
}
# ranges_continue CASE: every request starts where the previous ones ended
# (the Range offsets are right), the whole is the image once (+1% slack).
ranges_continue() {
	log "$1" > "$T/$1.log"
	"$PY" - "$T/$1.log" "$SIZE" "$1" <<'PYEOF' || die "$1: Range offsets or bytes sent wrong (see above)"
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
size, name = int(sys.argv[2]), sys.argv[3]
got = 0
for start, sent, status, rng, action in rows:
    start, sent = int(start), int(sent)
    print("    proxy: start %d sent %d status %s range %s (%s)" % (start, sent, status, rng, action))
    if status in ("200", "206") and start != got:
        print("%s: request from %d, expected %d" % (name, start, got)); sys.exit(1)
    if status == "200" and rng != "None":
        sys.exit(1)
    got += sent if status in ("200", "206") else 0
total = sum(int(r[1]) for r in rows)
print("    proxy: %d bytes sent for a %d byte image (%.3f x)" % (total, size, total / size))
if got != size or total > size * 1.01:
    sys.exit(1)
PYEOF
}
requests() { log "$1" | wc -l; }

# Resets at 30, 60 and 95%: resumed from the right offsets, the image once.
fetch resets '[{"do": "reset", "at_percent": 30}, {"do": "reset", "at_percent": 60}, {"do": "reset", "at_percent": 95}]'
ok resets
ranges_continue resets
[ "$(requests resets)" -eq 4 ] || die "resets: $(requests resets) requests, expected 4"
expect_in "$T/resets.err" "Image download interrupted at "
expect_in "$T/resets.err" "of $SIZE ("
expect_in "$T/resets.err" "Resuming at byte "
log resets | awk -v s="$SIZE" 'NR > 1 { sub(/bytes=/, "", $4); sub(/-$/, "", $4); print $4 / s }' > "$T/resets.pct"
awk 'NR == 1 && ($1 < .29 || $1 > .31) || NR == 2 && ($1 < .59 || $1 > .61) || NR == 3 && ($1 < .94 || $1 > .96) { exit 1 }' \
	"$T/resets.pct" || { cat "$T/resets.pct"; die "resets: Range offsets are not at 30/60/95%"; }

# A 503 burst (two), then the file.
fetch burst '[{"do": "status", "code": 503, "count": 2}]'
ok burst
[ "$(requests burst)" -eq 3 ] || die "burst: $(requests burst) requests, expected 3"
expect_in "$T/burst.err" "(HTTP 503); attempt 2 of 3"

# 429 Too Many Requests and 408 are "not now", retried like a 5xx.
fetch busy '[{"do": "status", "code": 429, "count": 1}, {"do": "status", "code": 408, "count": 1}]'
ok busy
[ "$(requests busy)" -eq 3 ] || die "busy: $(requests busy) requests, expected 3"
# Any other 4xx is final: one request.
fetch forbidden '[{"do": "status", "code": 403, "count": 5}]'
failed forbidden EACCES "HTTP 403"
[ "$(requests forbidden)" -eq 1 ] || die "forbidden: $(requests forbidden) requests, expected 1"

# Three 503s with attempts 3: gives up, naming the attempts and the cause.
fetch burst-long '[{"do": "status", "code": 503, "count": 5}]'
failed burst-long EIO "gave up after 3 attempts in "
expect_in "$T/burst-long.out" "(last: HTTP 503)"
[ "$(requests burst-long)" -eq 3 ] || die "burst-long: $(requests burst-long) requests, expected 3"

# Refused for 3 s in mid-stream (the connection reset, the port closed),
# then back: resumed (6 attempts: the waits add up to more than 3 s).
fetch refused '[{"do": "reset", "at_percent": 40}, {"do": "refuse", "seconds": 3}]' --attempts 6
ok refused
ranges_continue refused
expect_in "$T/refused.err" "Couldn't connect to server"

# A stall longer than the window: judged too slow, resumed.
fetch stall '[{"do": "stall", "at_percent": 50, "seconds": 8, "then": "close"}]'
ok stall
ranges_continue stall
expect_in "$T/stall.err" "slower than 1024 bytes/s over 5 s"

# A trickle below min_rate: fails with a named error within attempts x
# window (+ the waits and slack).
fetch trickle '[{"do": "trickle", "rate": 200, "count": 10}]' --attempts 2
failed trickle ETIMEDOUT "gave up after 2 attempts in "
expect_in "$T/trickle.out" "(last: slower than 1024 bytes/s over 5 s)"
[ "$(echo "$SECS < 2 * 5 + 2 + 5" | bc)" = 1 ] || die "trickle: took $SECS s, more than attempts x window"
[ "$(echo "$SECS >= 2 * 5" | bc)" = 1 ] || die "trickle: gave up after $SECS s, before attempts x window"

# Fast enough but never done: the deadline (here 3 s) bounds the whole stream.
fetch deadline '[{"do": "trickle", "rate": 20000, "count": 10}]' --deadline 3
failed deadline ETIMEDOUT "gave up after 1 attempt in 3 s (last: the deadline of 3 s was reached)"
[ "$(echo "$SECS < 5" | bc)" = 1 ] || die "deadline: took $SECS s"

# Range ignored (200 with the whole file): -ESTALE, nothing of that answer used.
fetch norange '[{"do": "reset", "at_percent": 40}, {"do": "ignore_range"}]'
failed norange ESTALE "server ignored the Range request (HTTP 200 instead of 206"
log norange > "$T/norange.log" # (not piped into head: under pipefail its early exit fails the script)
first=$(head -1 "$T/norange.log" | cut -f2)
expect_in "$T/norange.out" "bytes=$first "
[ "$(requests norange)" -eq 2 ] || die "norange: $(requests norange) requests, expected 2"

# The file changed between the first answer and the resumed one.
fetch changed '[{"do": "reset", "at_percent": 40}, {"do": "change", "what": ["etag"]}]'
failed changed ESTALE "the file changed on the server (ETag differs from the first answer)"
fetch changed-len '[{"do": "reset", "at_percent": 40}, {"do": "change", "what": ["length"]}]'
failed changed-len ESTALE "the file changed on the server (length differs from the first answer)"

# Truncated with a Content-Length that promises more: resumed.
fetch trunc-wrong '[{"do": "truncate", "at_percent": 50, "content_length": "wrong"}]'
ok trunc-wrong
ranges_continue trunc-wrong
expect_in "$T/trunc-wrong.err" "truncated body: ended at byte"
# A resumed answer cut short with a matching Content-Length and
# Content-Range end (a consistent part of the same file): resumed again.
fetch trunc-correct '[{"do": "reset", "at_percent": 30}, {"do": "truncate", "at_percent": 60, "content_length": "correct"}]'
ok trunc-correct
ranges_continue trunc-correct
# The first answer cut short but complete-looking (its Content-Length
# matches): HTTP cannot tell; the checksum (or the archive) refuses it.
fetch trunc-first '[{"do": "truncate", "at_percent": 50, "content_length": "correct"}]'
[ "$RC" -ne 0 ] || die "trunc-first: a truncated image was accepted"
grep -qE 'result: (EBADMSG|EILSEQ) ' "$T/trunc-first.out" || die "trunc-first: not refused as corrupt: $(cat "$T/trunc-first.out")"

# 404: fatal at once, one request.
fetch missing '[{"do": "status", "code": 404, "count": 5}]'
failed missing ENOENT "HTTP 404"
[ "$(requests missing)" -eq 1 ] || die "missing: $(requests missing) requests, expected 1"
[ "$(echo "$SECS < 3" | bc)" = 1 ] || die "missing: took $SECS s"
! grep -q 'interrupted at' "$T/missing.err" || die "missing: a 404 was retried"

# SIGTERM during a backoff wait (the third: 2 to 4 s) ends it at once.
ln -sf img.tar.zst "$T/www/signal.tar.zst"
echo '{"rules": [{"path": "/signal\\.tar\\.zst", "steps": [{"do": "status", "code": 503, "count": 9}]}]}' > "$T/prog.json"
rm -rf "$T/root" && mkdir "$T/root"
timeout 60 "$TOOL" --attempts 10 "$BASE/signal.tar.zst" "$T/root" > "$T/signal.out" 2> "$T/signal.err" &
pid=$!
for _ in $(seq 200); do [ "$(grep -c 'interrupted at' "$T/signal.err")" -ge 3 ] && break; sleep 0.05; done
grep -q 'attempt 4 of 10' "$T/signal.err" || die "signal: no third retry"
t0=$(date +%s.%N)
kill -TERM "$pid"
set +e
wait "$pid"
RC=$?
set -e
SECS=$(echo "$(date +%s.%N) - $t0" | bc | xargs printf "%.1f")
echo "--- signal: exit $RC $SECS s after SIGTERM: $(tr '\n' ' ' < "$T/signal.out")"
[ "$RC" -ne 0 ] || die "signal: succeeded"
expect_in "$T/signal.out" "result: ECANCELED "
[ "$(echo "$SECS < 1" | bc)" = 1 ] || die "signal: the wait went on for $SECS s after SIGTERM"
[ "$(requests signal)" -eq 3 ] || die "signal: $(requests signal) requests, expected 3"

echo "fetch-faults: all cases passed"
