#!/bin/bash
# Run the libFuzzer targets (what `make fuzz` does after building them).
#
#   tests/fuzz/run.sh [--seconds N] [--out DIR] [TARGET...]
#   tests/fuzz/run.sh --seconds 600 --out build/fuzz profile plan inventory netplan cmdline
#
# TARGET is the NAME of tests/fuzz/fuzz_NAME.c, built as DIR/fuzz_NAME; no
# TARGET: all of them. Each runs for N seconds (per target, one after the
# other). Per target, under DIR/NAME/:
#   corpus/     the seeds (below) are copied in first; what libFuzzer finds
#               stays there for the next run
#   artifacts/  crashes, leaks, timeouts, out-of-memory inputs: any of them
#               fails the run
#   fuzz.log    libFuzzer's whole output
# Seeds: profile: profiles/, tests/data/profiles/ and tests/fuzz/corpus/profile/;
# inventory: tests/data/inventory/ and the recorded machines in tests/data/sysroot/;
# netplan: tests/data/netplan/, tests/fuzz/corpus/netplan/, the netplan sections of the profiles, and
# $NETPLAN_CORPUS (a directory of netplan examples, e.g. a checkout of
# canonical/netplan's examples/) when set; cmdline: tests/fuzz/corpus/cmdline/;
# plan: tests/fuzz/corpus/plan/ (its input is a stream of decisions, not a file
# format: these are inputs that once broke a plan invariant); trust:
# tests/fuzz/corpus/trust/ (a manifest, a keyring, a signature file).
# The last lines print, per target: executions, seconds, coverage, corpus
# size, and the verdict.
set -u
cd "$(dirname "$0")/../.."

SECONDS_=600 OUT=build/fuzz TARGETS=()
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) SECONDS_=$2; shift 2;;
	--out) OUT=$2; shift 2;;
	-*) echo "usage: $0 [--seconds N] [--out DIR] [TARGET...]" >&2; exit 2;;
	*) TARGETS+=("$1"); shift;;
	esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(profile plan inventory netplan cmdline trust)

# seed DIR FILE...: copy with flat names (two files called default.yaml must
# not collide).
seed() {
	local dir=$1 f; shift
	for f in "$@"; do
		[ -f "$f" ] && cp "$f" "$dir/seed-$(echo "$f" | tr / _)"
	done
	return 0
}

# target options: max input length, dictionary
opts() {
	case "$1" in
	profile) echo "-max_len=65536 -dict=tests/fuzz/yaml.dict";;
	netplan) echo "-max_len=16384 -dict=tests/fuzz/netplan.dict";;
	inventory) echo "-max_len=16384 -dict=tests/fuzz/inventory.dict";;
	cmdline) echo "-max_len=2048 -dict=tests/fuzz/cmdline.dict";; # COMMAND_LINE_SIZE on x86
	plan) echo "-max_len=1024";;
	trust) echo "-max_len=65536";; # manifests, keyrings, signature files
	esac
}

# PARTED_GPT_APPLE: without it Debian's libparted runs dmidecode from a
# constructor and reads an uninitialised buffer, which ASan reports before
# main() (see tests/run.sh). UBSan aborts on the first report
# (-fno-sanitize-recover); LeakSanitizer runs after every input that leaked.
export PARTED_GPT_APPLE=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=() summary=()
for t in "${TARGETS[@]}"; do
	fuzzer=$OUT/fuzz_$t
	if [ ! -x "$fuzzer" ]; then
		echo "fuzz: $fuzzer is missing (make fuzz-build)" >&2
		failed+=("$t (not built)")
		continue
	fi
	corpus=$OUT/$t/corpus artifacts=$OUT/$t/artifacts log=$OUT/$t/fuzz.log
	mkdir -p "$corpus" "$artifacts"
	case $t in
	profile)
		seed "$corpus" profiles/*.yaml profiles/examples/*.yaml tests/fuzz/corpus/profile/*
		seed "$corpus" $(find tests/data/profiles -name '*.yaml' | sort);;
	inventory)
		seed "$corpus" tests/data/inventory/*.json tests/data/sysroot/*.json;;
	netplan)
		seed "$corpus" tests/data/netplan/*.yaml tests/fuzz/corpus/netplan/*
		# The network: section of every profile, alone.
		for f in profiles/*.yaml profiles/examples/*.yaml; do
			[ -f "$f" ] && grep -q '^network:' "$f" || continue
			sed -n '/^network:/,/^[^ #]/p' "$f" | sed '$ { /^[^ #]/d }' > "$corpus/seed-net-$(echo "$f" | tr / _)"
		done
		[ -z "${NETPLAN_CORPUS:-}" ] || seed "$corpus" "$NETPLAN_CORPUS"/*.yaml;;
	cmdline)
		seed "$corpus" tests/fuzz/corpus/cmdline/*;;
	trust)
		# A manifest, a keyring and a signature file, each behind its
		# parser's letter (tests/fuzz/fuzz_trust.c).
		seed "$corpus" tests/fuzz/corpus/trust/*;;
	plan)
		# Inputs that once broke a plan invariant (sizes wrapping past 2^64).
		seed "$corpus" tests/fuzz/corpus/plan/*;;
	esac
	echo "=== fuzz $t: ${SECONDS_}s, corpus $corpus ($(find "$corpus" -type f | wc -l) inputs), log $log"

	# libFuzzer's -timeout and -rss_limit_mb make hangs and memory blow-ups
	# findings too.
	t0=$(date +%s)
	# shellcheck disable=SC2046
	"$fuzzer" \
		-max_total_time="$SECONDS_" \
		-timeout=10 \
		-rss_limit_mb=2048 \
		$(opts "$t") \
		-artifact_prefix="$artifacts/" \
		-print_final_stats=1 \
		"$corpus" > "$log" 2>&1 &
	pid=$!
	# Progress on the terminal: libFuzzer's pulse lines (at doubling counts).
	tail -n +1 -f --pid=$pid "$log" 2>/dev/null | grep --line-buffered -E '^#[0-9]+[[:space:]]+(INITED|pulse)'
	wait $pid
	rc=$?
	secs=$(( $(date +%s) - t0 ))

	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\)\/\([^ ]*\).*/cov \1, ft \2, corpus \3 inputs (\4)/p')
	found=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log")
	if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
		verdict="FAILED (libFuzzer exit status $rc)"
		echo "=== fuzz $t: $verdict"
		grep -E '^(==[0-9]+==ERROR|SUMMARY:)|runtime error:|^fuzz_[a-z]+:' "$log" | head -5
		for f in $found; do echo "  reproducer: $f (replay: $fuzzer $f)"; done
		echo "  full output: $log"
		failed+=("$t")
	else
		verdict="no crash"
	fi
	summary+=("$t: ${execs:-?} executions in ${secs}s, ${cov:-no coverage line}; $verdict")
done

echo "=== fuzz summary"
for s in "${summary[@]}"; do echo "  $s"; done
if [ ${#failed[@]} -gt 0 ]; then
	echo "=== fuzz: FAILED: ${failed[*]}"
	exit 1
fi
echo "=== fuzz: no crash"
