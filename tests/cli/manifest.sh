#!/bin/bash
# The image manifest (docs/manifest.md) from the outside:
# - `installer manifest` writes it (format, chunk count, sha256 checked
#   here with sha256sum and split), `--check` finds a flipped byte's chunk;
# - the chunk gate: build/tests/tools/image-fetch streams a tar.zst (and the
#   plain tar) through image_install() with the manifest. One flipped byte in
#   chunk K stops the stream at chunk K, and no file whose tar header lies
#   at or after chunk K was written (where each file lies: `tar -tvR`; zstd
#   stores the random data as it is, so byte X of the tar comes at or after
#   byte X of the tar.zst); from the plain tar every file before chunk K is
#   there whole. The same damage without a manifest writes such files (the
#   control, so that the check above can fail);
# - over HTTP through tests/faultproxy.py, a connection reset in the middle
#   of a chunk resumes (Range) and the chunk is still checked whole; a byte
#   flipped on the wire (the proxy's flip) stops at its chunk; from a
#   server that announces no length, a short or long image is refused at the
#   end of the manifest's size;
# - `installer run --dry-run` with image.manifest: the fetch-manifest phase
#   and its line, a profile sha256 that is not the manifest's (exit 7), a
#   malformed or missing manifest (exit 5), all before any write.
. "$(dirname "$0")/lib.sh"
FP=$ROOT/tests/faultproxy.py
TOOL=${IMAGE_FETCH:-$ROOT/build/tests/tools/image-fetch}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
[ -x "$TOOL" ] || make -C "$ROOT" -s "build/tests/tools/image-fetch" >/dev/null
SYSROOT=$ROOT/tests/data/sysroot/nvme-sata-usb
CHUNK=65536
K=6

# ---- the image: 24 files of 40000 random bytes, in name order ----------------
mkdir -p "$T/src" "$T/www"
for i in $(seq -w 0 23); do head -c 40000 /dev/urandom > "$T/src/f$i"; done
tar -C "$T/src" --sort=name --format=gnu --numeric-owner --owner=0 --group=0 -cf "$T/img.tar" .
zstd -q -o "$T/www/img.tar.zst" "$T/img.tar"
IMG=$T/www/img.tar.zst
SIZE=$(stat -c %s "$IMG")
SHA=$(sha256sum "$IMG" | cut -d' ' -f1)
NCHUNKS=$(( (SIZE + CHUNK - 1) / CHUNK ))
# "OFFSET NAME" for each file of the tar (block numbers of its headers).
tar -tvR -f "$T/img.tar" | sed -n 's|^block \([0-9]*\): -.* \./\(f[0-9]*\)$|\1 \2|p' |
	while read -r b n; do echo "$((b * 512)) $n"; done > "$T/layout"
[ "$(wc -l < "$T/layout")" -eq 24 ] || { cat "$T/layout"; die "tar layout: expected 24 files"; }
echo "image: $SIZE bytes, $NCHUNKS chunks of $CHUNK"

# ---- installer manifest ---------------------------------------------------------
expect_rc 0 "$INSTALLER" manifest --chunk-size 64K "$IMG" -o "$IMG.manifest"
M=$IMG.manifest
[ "$(sed -n 1p "$M")" = "installer-manifest 1" ] || die "header: $(sed -n 1p "$M")"
[ "$(sed -n 2p "$M")" = "size: $SIZE" ] || die "size line: $(sed -n 2p "$M")"
[ "$(sed -n 3p "$M")" = "chunk-size: $CHUNK" ] || die "chunk-size line: $(sed -n 3p "$M")"
[ "$(sed -n 4p "$M")" = "sha256: $SHA" ] || die "sha256 line: $(sed -n 4p "$M")"
[ "$(grep -c '^chunk: ' "$M")" -eq "$NCHUNKS" ] || die "$(grep -c '^chunk: ' "$M") chunk lines, expected $NCHUNKS"
[ "$(wc -l < "$M")" -eq $((NCHUNKS + 4)) ] || die "other lines in the manifest"
# Each chunk line is the sha256 of that chunk (split, sha256sum).
mkdir "$T/split" && split -b $CHUNK -d -a 4 "$IMG" "$T/split/c"
for f in "$T"/split/c*; do sha256sum "$f" | cut -d' ' -f1; done > "$T/split.sums"
diff <(sed -n 's/^chunk: //p' "$M") "$T/split.sums" || die "chunk digests differ from sha256sum of split chunks"
# stdout, the same; the default chunk size is 4 MiB.
expect_rc 0 "$INSTALLER" manifest --chunk-size 65536 "$IMG"
cmp "$T/out" "$M" || die "stdout and -o differ"
expect_rc 0 "$INSTALLER" manifest "$IMG"
expect_in "$T/out" "chunk-size: 4194304"
expect_rc 2 "$INSTALLER" manifest --chunk-size 100000 "$IMG"
expect_in "$T/err" "not a power of two"
expect_rc 2 "$INSTALLER" manifest --chunk-size 32K "$IMG"
expect_rc 0 "$INSTALLER" manifest --check "$M" "$IMG"
expect_in "$T/out" "$SIZE bytes, $NCHUNKS chunks of 64 KiB, sha256 $SHA: matches"

# A malformed manifest: errors name the line.
{ cat "$M"; sed -n 5p "$M"; } > "$T/extra.manifest"
expect_rc 3 "$INSTALLER" manifest --check "$T/extra.manifest" "$IMG"
expect_in "$T/err" "$T/extra.manifest:$((NCHUNKS + 5)): chunk line $((NCHUNKS + 1)) is one too many"
sed '2s/.*/size: 99999999999999999999/' "$M" > "$T/big.manifest"
expect_rc 3 "$INSTALLER" manifest --check "$T/big.manifest" "$IMG"
expect_in "$T/err" "$T/big.manifest:2: size does not fit in 64 bits"

# ---- one flipped byte in chunk K ----------------------------------------------
# flip SRC DST OFFSET: a copy with the byte at OFFSET inverted.
flip() {
	cp "$1" "$2"
	"$PY" - "$2" "$3" <<'PYEOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))
PYEOF
}
FLIP=$((K * CHUNK + 20000))
flip "$IMG" "$T/www/bad.tar.zst" $FLIP
expect_rc 7 "$INSTALLER" manifest --check "$M" "$T/www/bad.tar.zst"
expect_in "$T/out" "chunk $K of $NCHUNKS (bytes $((K * CHUNK))-$((K * CHUNK + CHUNK - 1))) does not match"

# fetch NAME URL [tool options]: image-fetch into a fresh $T/NAME, output in $T/NAME.out/.err, exit in RC.
fetch() {
	local name=$1 url=$2
	shift 2
	rm -rf "${T:?}/$name" && mkdir "$T/$name"
	set +e
	timeout 120 "$TOOL" "$@" "$url" "$T/$name" > "$T/$name.out" 2> "$T/$name.err"
	RC=$?
	set -e
	echo "--- $name: exit $RC: $(grep -h '^result\|^error' "$T/$name.out" | tr '\n' ' ')"
}
# past DIR K: no file whose header lies at or after chunk K is in DIR; prints how many there are.
past() {
	local n=0 off f
	while read -r off f; do
		[ "$off" -ge $(($2 * CHUNK)) ] || continue
		n=$((n + 1))
		[ ! -e "$1/$f" ] || die "$f (tar offset $off) lies past chunk $2 but was written to $1"
	done < "$T/layout"
	[ "$n" -gt 0 ] || die "no file lies past chunk $2: the test proves nothing"
	echo "    $n files lie past chunk $2: none of them was written"
}

fetch intact "file://$IMG" --manifest "$M"
[ "$RC" -eq 0 ] || die "intact: failed"
expect_in "$T/intact.out" "result: 0 bytes=$SIZE sha256=$SHA chunks=$NCHUNKS"
diff -r "$T/src" "$T/intact" || die "intact: the files differ"

fetch flipped "file://$T/www/bad.tar.zst" --manifest "$M"
[ "$RC" -ne 0 ] || die "flipped: succeeded"
expect_in "$T/flipped.out" "result: EBADMSG bytes="
expect_in "$T/flipped.out" " chunks=$K"
expect_in "$T/flipped.out" "error: Image file://$T/www/bad.tar.zst: chunk $K of $NCHUNKS (bytes $((K * CHUNK))-$((K * CHUNK + CHUNK - 1))) does not match its manifest; nothing of it or after it was unpacked"
past "$T/flipped" $K
[ -e "$T/flipped/f00" ] || die "flipped: not even the first file was unpacked from the good chunks"

# The same in the plain tar (no decompressor holding a block back: exactly
# the bytes of chunks 0..K-1 reached libarchive).
cp "$T/img.tar" "$T/www/img.tar"
expect_rc 0 "$INSTALLER" manifest --chunk-size 64K "$T/www/img.tar" -o "$T/www/img.tar.manifest"
flip "$T/www/img.tar" "$T/www/bad.tar" $FLIP
fetch flipped-tar "file://$T/www/bad.tar" --manifest "$T/www/img.tar.manifest"
expect_in "$T/flipped-tar.out" "result: EBADMSG bytes="
expect_in "$T/flipped-tar.out" " chunks=$K"
expect_in "$T/flipped-tar.out" "chunk $K of "
past "$T/flipped-tar" $K
# Every file that ends before chunk K is there, whole.
while read -r off f; do
	[ $((off + 512 + 40000)) -le $((K * CHUNK)) ] || continue
	cmp "$T/src/$f" "$T/flipped-tar/$f" || die "$f lies before chunk $K but was not unpacked whole"
done < "$T/layout"

# The control: the same image with only its whole-file sha256.
fetch control "file://$T/www/bad.tar.zst" --sha256 "$SHA"
[ "$RC" -ne 0 ] || die "control: succeeded"
late=$(awk -v lim=$((K * CHUNK)) '$1 >= lim { print $2 }' "$T/layout" | while read -r f; do
	[ ! -e "$T/control/$f" ] || echo "$f"; done | wc -l)
[ "$late" -gt 0 ] || die "control: no file past chunk $K was written without a manifest either: the check above proves nothing"
echo "    without a manifest, $late files past chunk $K were written"

# ---- over HTTP: resume in the middle of a chunk -----------------------------------
start_bg origin "$T/origin.port" "$PY" "$FP" origin --dir "$T/www" --port-file "$T/origin.port"
echo '{"rules": []}' > "$T/prog.json"
start_bg proxy "$T/proxy.port" "$PY" "$FP" proxy --upstream "http://127.0.0.1:$(cat "$T/origin.port")" \
	--program "$T/prog.json" --log "$T/proxy.log" --port-file "$T/proxy.port"
BASE=http://127.0.0.1:$(cat "$T/proxy.port")
printf '{"rules": [{"path": "\\\\.tar\\\\.zst", "steps": [{"do": "reset", "at_offset": %d}, {"do": "reset", "at_offset": %d}]}]}\n' \
	$((3 * CHUNK + 1000)) $((3 * CHUNK + 30000)) > "$T/prog.json"
fetch resumed "$BASE/img.tar.zst" --manifest "$M" --attempts 3
[ "$RC" -eq 0 ] || { cat "$T/resumed.err"; die "resumed: failed"; }
expect_in "$T/resumed.out" "result: 0 bytes=$SIZE sha256=$SHA chunks=$NCHUNKS"
expect_in "$T/resumed.err" "Resuming at byte $((3 * CHUNK + 1000))"
expect_in "$T/resumed.err" "Resuming at byte $((3 * CHUNK + 30000))"
diff -r "$T/src" "$T/resumed" || die "resumed: the files differ"

# A resume inside the bad chunk: still stopped at chunk K.
printf '{"rules": [{"path": "\\\\.tar\\\\.zst", "steps": [{"do": "reset", "at_offset": %d}]}]}\n' \
	$((K * CHUNK + 5000)) > "$T/prog.json"
fetch resumed-bad "$BASE/bad.tar.zst" --manifest "$M" --attempts 3
expect_in "$T/resumed-bad.err" "Resuming at byte $((K * CHUNK + 5000))"
expect_in "$T/resumed-bad.out" "result: EBADMSG "
expect_in "$T/resumed-bad.out" " chunks=$K"
expect_in "$T/resumed-bad.out" "error: Image $BASE/bad.tar.zst: chunk $K of $NCHUNKS"
past "$T/resumed-bad" $K

# The proxy flips one byte on the wire (the file on the server is intact).
printf '{"rules": [{"path": "\\\\.tar\\\\.zst", "steps": [{"do": "flip", "at_offset": %d}]}]}\n' $FLIP > "$T/prog.json"
fetch wire "$BASE/img.tar.zst" --manifest "$M" --attempts 3
expect_in "$T/wire.out" "result: EBADMSG "
expect_in "$T/wire.out" " chunks=$K"
expect_in "$T/wire.out" "error: Image $BASE/img.tar.zst: chunk $K of $NCHUNKS"
grep -q "\"flipped_at\": $FLIP" "$T/proxy.log" || die "wire: the proxy did not flip the byte"
past "$T/wire" $K

# ---- a server that announces no length ------------------------------------------
cat > "$T/nolength.py" <<'PYEOF'
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        path = os.path.join(sys.argv[1], os.path.basename(self.path.split("?")[0]))
        try:
            data = open(path, "rb").read()
        except OSError:
            self.send_error(404); return
        self.send_response(200)
        self.end_headers()  # no Content-Length: the body ends when the connection closes
        self.wfile.write(data)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[2], "w").write(str(s.server_address[1]))
s.serve_forever()
PYEOF
start_bg nolength "$T/nolength.port" "$PY" "$T/nolength.py" "$T/www" "$T/nolength.port"
NOLEN=http://127.0.0.1:$(cat "$T/nolength.port")
head -c $((SIZE - 1000)) "$IMG" > "$T/www/short.tar.zst"
fetch short "$NOLEN/short.tar.zst" --manifest "$M" --attempts 1
expect_in "$T/short.out" "result: EBADMSG "
expect_in "$T/short.out" "ends at byte $((SIZE - 1000)), its manifest gives $SIZE bytes"
{ cat "$IMG"; head -c 5000 /dev/urandom; } > "$T/www/long.tar.zst"
fetch long "$NOLEN/long.tar.zst" --manifest "$M" --attempts 1
expect_in "$T/long.out" "result: EBADMSG "
expect_in "$T/long.out" "longer than the $SIZE bytes its manifest gives"
expect_in "$T/long.out" " chunks=$((NCHUNKS - 1))"

# ---- installer run --dry-run with image.manifest ----------------------------------
profile() { # IMAGE-MAPPING
	printf 'version: 1\nhostname: srv01\ndisk: { select: { transport: nvme }, partitions: [ { size: rest, mount: / } ] }\nimage: %s\n' "$1" > "$T/www/p.yaml"
}
run() {
	INSTALLER_PROC_CMDLINE="inst.profile=file://$T/www/p.yaml" "$INSTALLER" run --sysroot "$SYSROOT" --dry-run
}
MSHA=$(sha256sum "$M" | cut -d' ' -f1)
profile "{ url: img.tar.zst, manifest: img.tar.zst.manifest }"
expect_rc 0 run
expect_in "$T/out" "  Manifest:   file://$T/www/img.tar.zst.manifest (every chunk checked before it is unpacked)"
expect_in "$T/out" "==> fetch-manifest: file://$T/www/img.tar.zst.manifest"
expect_in "$T/out" "image: $SIZE bytes, $NCHUNKS chunks of 64 KiB, manifest sha256 $MSHA"
expect_in "$T/out" "<== fetch-manifest done"
expect_in "$T/out" "image sha256 $SHA"

profile "{ url: img.tar.zst, sha256: $SHA, manifest: img.tar.zst.manifest }"
expect_rc 0 run
expect_in "$T/out" "image sha256 $SHA (the profile's too)"

profile "{ url: img.tar.zst, sha256: $(echo x | sha256sum | cut -d' ' -f1), manifest: img.tar.zst.manifest }"
expect_rc 7 run
expect_in "$T/out" "is not the manifest's $SHA"
expect_in "$T/out" "nothing was written to any disk"

cp "$T/extra.manifest" "$T/www/extra.manifest"
profile "{ url: img.tar.zst, manifest: extra.manifest }"
expect_rc 5 run
expect_in "$T/out" "Invalid image manifest: file://$T/www/extra.manifest:$((NCHUNKS + 5)): chunk line"
expect_in "$T/out" "nothing was written to any disk"

profile "{ url: img.tar.zst, manifest: nope.manifest }"
expect_rc 5 run
expect_in "$T/out" "Cannot fetch the image manifest"

# A profile check: a manifest replaces the sha256; insecure_no_checksum and a manifest exclude each other.
profile "{ url: http://h/i.tar.zst, manifest: http://h/i.tar.zst.manifest }"
expect_rc 0 "$INSTALLER" validate "$T/www/p.yaml"
profile "{ url: http://h/i.tar.zst, manifest: http://h/i.tar.zst.manifest, insecure_no_checksum: true }"
expect_rc 3 "$INSTALLER" validate "$T/www/p.yaml"
expect_in "$T/err" "p.yaml:4:74: error: image.insecure_no_checksum: 'insecure_no_checksum: true' and a manifest exclude each other"
profile "{ url: http://h/i.tar.zst, manifest: 'ftp://h/x' }"
expect_rc 3 "$INSTALLER" validate "$T/www/p.yaml"
expect_in "$T/err" "invalid image manifest URL"
echo ok
