#!/bin/bash
# Run the profile fuzzer (what `make fuzz` does after building it).
#
#   tests/fuzz/run.sh --fuzzer build/fuzz/fuzz_profile --seconds 600 --out build/fuzz
#
# The corpus is build/fuzz/corpus: the shipped and test profiles and the
# hand-written seeds in tests/fuzz/corpus are copied into it first, and what
# libFuzzer finds stays there for the next run. Crashes, leaks, timeouts and
# out-of-memory inputs are written to build/fuzz/artifacts/; any of them fails
# the run. The full libFuzzer output is in build/fuzz/fuzz.log; the end of the
# run prints the executions and the coverage.
set -u
cd "$(dirname "$0")/../.."

FUZZER=build/fuzz/fuzz_profile SECONDS_=600 OUT=build/fuzz
while [ $# -gt 0 ]; do
	case "$1" in
	--fuzzer) FUZZER=$2; shift 2;;
	--seconds) SECONDS_=$2; shift 2;;
	--out) OUT=$2; shift 2;;
	*) echo "usage: $0 [--fuzzer BIN] [--seconds N] [--out DIR]" >&2; exit 2;;
	esac
done
if [ ! -x "$FUZZER" ]; then
	echo "fuzz: $FUZZER is missing (make fuzz-build)" >&2
	exit 1
fi

CORPUS=$OUT/corpus ARTIFACTS=$OUT/artifacts LOG=$OUT/fuzz.log
mkdir -p "$CORPUS" "$ARTIFACTS"

# Seeds: flat names, so that two files called default.yaml do not collide.
n=0
for f in profiles/*.yaml profiles/examples/*.yaml tests/fuzz/corpus/*; do
	[ -f "$f" ] || continue
	cp "$f" "$CORPUS/seed-$(echo "$f" | tr / _)" && n=$((n + 1))
done
while IFS= read -r f; do
	cp "$f" "$CORPUS/seed-$(echo "$f" | tr / _)" && n=$((n + 1))
done < <(find tests/data/profiles -name '*.yaml' | sort)
echo "fuzz: $n seed files, corpus $CORPUS ($(find "$CORPUS" -type f | wc -l) inputs)," \
	"${SECONDS_}s, log $LOG"

# libFuzzer's -timeout and -rss_limit_mb make hangs and memory blow-ups
# findings too. UBSan aborts on the first report (-fno-sanitize-recover).
# PARTED_GPT_APPLE: without it Debian's libparted runs dmidecode from a
# constructor and reads an uninitialised buffer, which ASan reports before
# main() (see tests/run.sh).
export PARTED_GPT_APPLE=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
"$FUZZER" \
	-max_total_time="$SECONDS_" \
	-max_len=65536 \
	-timeout=10 \
	-rss_limit_mb=2048 \
	-dict=tests/fuzz/yaml.dict \
	-artifact_prefix="$ARTIFACTS/" \
	-print_final_stats=1 \
	"$CORPUS" > "$LOG" 2>&1 &
pid=$!
# Progress on the terminal: libFuzzer's pulse lines (at doubling counts).
tail -n +1 -f --pid=$pid "$LOG" 2>/dev/null | grep --line-buffered -E '^#[0-9]+[[:space:]]+(INITED|pulse)'
wait $pid
rc=$?

echo "=== fuzz summary"
grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$LOG" | tail -1
grep -E '^Done [0-9]+ runs' "$LOG" | tail -1
grep -E '^stat::' "$LOG"

found=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$LOG")
if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
	echo "=== fuzz: FAILED (libFuzzer exit status $rc)"
	grep -E '^(==[0-9]+==ERROR|SUMMARY:)|runtime error:' "$LOG" | head -5
	for f in $found; do echo "  reproducer: $f (replay: $FUZZER $f)"; done
	echo "  full output: $LOG"
	exit 1
fi
echo "=== fuzz: no crash"
