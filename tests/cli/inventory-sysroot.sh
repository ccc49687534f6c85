#!/bin/bash
# `installer inventory --sysroot` on every recorded machine under
# tests/data/sysroot/NAME gives exactly tests/data/sysroot/NAME.json.
. "$(dirname "$0")/lib.sh"
n=0
for dir in "$ROOT"/tests/data/sysroot/*/; do
	name=$(basename "$dir")
	expected=$ROOT/tests/data/sysroot/$name.json
	[ -f "$expected" ] || die "no $expected for the recorded machine $name"
	expect_rc 0 "$INSTALLER" inventory --sysroot "$dir"
	diff -u "$expected" "$T/out" || die "inventory of $name differs from $expected"
	# And it loads back for offline planning.
	cp "$T/out" "$T/$name.json"
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/$name.json"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || die "no recorded machines"
echo "ok: $n machines"
