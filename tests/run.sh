#!/bin/bash
# Run every test and print a summary whose last line is "N passed, N failed".
#
#   tests/run.sh              everything (unit, unit-asan, cli, cli-asan, server, vm)
#   TESTS="unit cli" tests/run.sh
#   QEMU_ACCEL=kvm tests/run.sh   (where KVM can run Linux guests)
#   VM_JOBS=1 tests/run.sh        (VM tests one at a time; default 2)
#   TESTS=vm VM_TESTS="20-install-boot 21-bad-checksum" tests/run.sh   (some VM tests)
#   make check-site: the server section and the site server's three VM tests
#   make check-long: five installer VM tests left out of make check
#   (23, 41, 60, 80, 94); make check-secureboot: 31; those nine run only
#   when VM_TESTS names them (VM_OWN_TARGET below)
#
# Unit tests count one per cmocka test case, also when run again under
# AddressSanitizer and UndefinedBehaviorSanitizer (unit-asan); cli and vm
# tests one per script, cli tests again against the installer built with
# ASan and UBSan (cli-asan). See docs/testing.md.
# A test that cannot run (a missing build step) counts as failed, never as
# passed.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
TESTS=${TESTS:-unit unit-asan cli cli-asan server vm}
LOG=$ROOT/build/test-logs
mkdir -p "$LOG"
PASSED=0 FAILED=0
FAILURES=()
START=$(date +%s)

pass() { PASSED=$((PASSED + ${2:-1})); echo "PASS: $1"; }
fail() { FAILED=$((FAILED + ${2:-1})); FAILURES+=("$1"); echo "FAIL: $1"; }

want() { case " $TESTS " in *" $1 "*) return 0;; esac; return 1; }

# A pool of background jobs, POOL_JOBS at a time. The cli sections run
# CLI_JOBS scripts at a time (default 3): they spend most of their time
# waiting (retry backoffs, stalls, timeouts of the fault proxy), so several
# at a time finish the section sooner even on 2 cores; each has its own
# temporary directory and port 0 servers. The VM section runs VM_JOBS.
# pool_run NAME LOG CMD...: start CMD in the background, its output to LOG,
# once a slot is free; when it ends, "$POOL_DONE NAME STATUS SECONDS" runs
# in this shell (so that pass and fail count). pool_drain: wait for every job.
CLI_JOBS=${CLI_JOBS:-3}
POOL_JOBS=1
declare -A pool_name=() pool_start=()
pool_reap() {
	local pid rc name
	wait -n -p pid
	rc=$?
	name=${pool_name[$pid]}
	unset "pool_name[$pid]"
	"$POOL_DONE" "$name" "$rc" "$(( $(date +%s) - pool_start[$pid] ))"
}
pool_run() {
	local name=$1 out=$2
	shift 2
	while [ "${#pool_name[@]}" -ge "$POOL_JOBS" ]; do pool_reap; done
	"$@" > "$out" 2>&1 &
	pool_name[$!]=$name
	pool_start[$!]=$(date +%s)
}
pool_drain() { while [ "${#pool_name[@]}" -gt 0 ]; do pool_reap; done; }

# The cli tests, the longest first (they decide when the section ends), then
# the rest in name order.
CLI_LONG="netplan-compare fetch-faults discover-upload sysconf-image signal-configure faultproxy run-report sudo-visudo-image plan-mark"
cli_tests() {
	local n
	for n in $CLI_LONG; do [ -f "tests/cli/$n.sh" ] && echo "$n"; done
	for t in tests/cli/*.sh; do
		n=$(basename "$t" .sh)
		[ "$n" != lib ] || continue
		case " $CLI_LONG " in *" $n "*) continue;; esac
		echo "$n"
	done
}

# run_cmocka NAME BINARY LOG: one cmocka binary, one count per case (a crash
# without a FAILED line counts as one failure).
run_cmocka() {
	local name=$1 t=$2 out=$3 rc ok bad
	(cd "$ROOT" && "$t") > "$out" 2>&1
	rc=$?
	ok=$(sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	bad=$(sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	ok=${ok:-0} bad=${bad:-0}
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		bad=1 # crashed
	fi
	[ "$ok" -gt 0 ] && pass "$name ($ok cases)" "$ok"
	if [ "$bad" -gt 0 ]; then
		grep -E '^\[  (ERROR|FAILED) \]|error:|Assertion|ERROR:' "$out" | head -20
		fail "$name ($bad cases, see $out)" "$bad"
	fi
}

# ---- build (warnings are errors here) ----------------------------------------
echo "=== build"
if ! make -j2 --no-print-directory WERROR=-Werror installer unit-bins > "$LOG/build.log" 2>&1; then
	cat "$LOG/build.log"
	fail "build (installer and unit tests)"
	echo "$PASSED passed, $FAILED failed"
	exit 1
fi

# ---- unit tests (cmocka) ------------------------------------------------------
if want unit; then
	echo "=== unit tests"
	for t in build/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		out="$LOG/$name.log"
		run_cmocka "$name" "$t" "$out"
	done
fi

# ---- unit tests again, under ASan (with LeakSanitizer) and UBSan ---------------
# Every library source and test rebuilt with the sanitizers (make unit-asan,
# build/asan/). Any sanitizer report fails the binary, and then none of its
# cases count as passed. LeakSanitizer does not work under ptrace (gdb, strace).
#
# Binaries left out of this section, each with the bug that keeps it out:
ASAN_EXCLUDE=""
if want unit-asan; then
	echo "=== unit tests under ASan and UBSan"
	t0=$(date +%s)
	if make -j2 --no-print-directory unit-asan > "$LOG/build-asan.log" 2>&1; then
		echo "    built in $(( $(date +%s) - t0 ))s"
		# PARTED_GPT_APPLE: Debian's libparted (3.5-3) runs `dmidecode` from a
		# constructor when this is unset, and on empty output strchr()s the
		# uninitialised getline() buffer: ASan stops every binary linked with
		# libparted before main(). Set, the check is skipped ("1" would turn
		# the Apple quirk on).
		export PARTED_GPT_APPLE=0
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
		export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
		for t in build/asan/tests/test_*; do
			[ -x "$t" ] || continue
			name=$(basename "$t")
			case " $ASAN_EXCLUDE " in *" $name "*) echo "    skipped: asan/$name (ASAN_EXCLUDE)"; continue;; esac
			out="$LOG/asan-$name.log"
			(cd "$ROOT" && "$t") > "$out" 2>&1
			rc=$?
			ok=$(sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
			bad=$(sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
			ok=${ok:-0} bad=${bad:-0}
			what="$bad cases"
			if grep -qE '^==[0-9]+==ERROR: [A-Za-z]+Sanitizer|runtime error:' "$out"; then
				grep -E '^==[0-9]+==ERROR|runtime error:|^SUMMARY:' "$out" | head -5
				bad=$((ok + bad)) ok=0
				[ "$bad" -gt 0 ] || bad=1
				what="sanitizer report, $bad cases"
			elif [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
				bad=1 what="crashed" # crashed
			fi
			[ "$ok" -gt 0 ] && pass "asan/$name ($ok cases)" "$ok"
			if [ "$bad" -gt 0 ]; then
				case $what in sanitizer*) ;; *)
					grep -E '^\[  (ERROR|FAILED) \]|error:|Assertion|ERROR:' "$out" | head -20;;
				esac
				fail "asan/$name ($what, see $out)" "$bad"
			fi
		done
		unset PARTED_GPT_APPLE ASAN_OPTIONS UBSAN_OPTIONS
		echo "    ran in $(( $(date +%s) - t0 ))s with the build"
	else
		tail -30 "$LOG/build-asan.log"
		fail "unit-asan build (see $LOG/build-asan.log)"
	fi
fi

# ---- the site server (server/, docs/site.md) ------------------------------------
# Its C tests (tests/server/test_*.c, cmocka: one per case) and its scripts
# (tests/server/*.sh: one each, a skip (77) counts as failed). The scripts
# start their own servers (site-server, PostgreSQL, nginx, chromium) on
# 127.0.0.1 or a socket, and stop them.
if want server; then
	echo "=== server tests"
	if make -j2 --no-print-directory WERROR=-Werror server server-tests > "$LOG/build-server.log" 2>&1; then
		for t in build/tests/server/test_*; do
			[ -x "$t" ] || continue
			name=server/$(basename "$t")
			out="$LOG/server-$(basename "$t").log"
			run_cmocka "$name" "$t" "$out"
		done
		for t in tests/server/*.sh; do
			[ -f "$t" ] || continue
			case $(basename "$t") in lib.sh | pg.sh) continue ;; esac
			name=$(basename "$t" .sh)
			t0=$(date +%s)
			if timeout -k 10 900 bash "$t" > "$LOG/server-$name.log" 2>&1; then
				pass "server/$name ($(( $(date +%s) - t0 ))s)"
			else
				tail -20 "$LOG/server-$name.log"
				fail "server/$name (see $LOG/server-$name.log)"
			fi
		done
		# The request-facing scripts again against the server built with ASan,
		# LSan and UBSan (make server-asan): any sanitizer report fails.
		if make -j2 --no-print-directory server-asan > "$LOG/build-server-asan.log" 2>&1; then
			for name in bad-input hostile lifecycle-api; do
				out="$LOG/server-asan-$name.log"
				if SITE_SERVER_BIN=$ROOT/build/asan/site-server PARTED_GPT_APPLE=0 \
					ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
					timeout -k 10 900 bash "tests/server/$name.sh" > "$out" 2>&1 &&
					! grep -qE '^==[0-9]+==ERROR: [A-Za-z]+Sanitizer|runtime error:' "$out"; then
					pass "server-asan/$name"
				else
					grep -E '^==[0-9]+==ERROR|runtime error:|^SUMMARY:' "$out" | head -5
					tail -10 "$out"
					fail "server-asan/$name (see $out)"
				fi
			done
		else
			tail -30 "$LOG/build-server-asan.log"
			fail "server-asan build (see $LOG/build-server-asan.log)"
		fi
	else
		tail -30 "$LOG/build-server.log"
		fail "server build (see $LOG/build-server.log)"
	fi
fi

# ---- command-line tests (no root, no VM) -------------------------------------
if want cli; then
	echo "=== cli tests ($CLI_JOBS at a time)"
	t0=$(date +%s)
	cli_done() {
		if [ "$2" -eq 0 ]; then
			pass "cli/$1 ($3s)"
		else
			tail -20 "$LOG/cli-$1.log"
			fail "cli/$1 (see $LOG/cli-$1.log)"
		fi
	}
	POOL_DONE=cli_done POOL_JOBS=$CLI_JOBS
	for name in $(cli_tests); do
		pool_run "$name" "$LOG/cli-$name.log" bash "tests/cli/$name.sh"
	done
	pool_drain
	echo "    ran in $(( $(date +%s) - t0 ))s"
fi

# ---- command-line tests again, against the installer under ASan and UBSan -------
# build/asan/installer (make installer-asan: the unit-asan library and the
# command-line layer, compiled with the sanitizers); tests/cli/lib.sh takes it
# from $INSTALLER. Every sanitizer report goes to a file of its own
# (log_path: build/test-logs/cli-asan/NAME/asan.PID), and any such file fails
# the test, even when the test expected the command to fail or did not look
# at its exit status. LeakSanitizer runs at every exit of the installer.
# Tests left out of this section, each with the reason:
#   mkdnsmasq  runs no installer binary (ipxe/mkdnsmasq.sh only)
# Not rerun under the sanitizers: mkdnsmasq and faultproxy run no program
# of ours (shell and Python only).
CLI_ASAN_EXCLUDE="mkdnsmasq faultproxy"
if want cli-asan; then
	echo "=== cli tests against the installer under ASan and UBSan"
	t0=$(date +%s)
	if make -j2 --no-print-directory WERROR=-Werror installer-asan > "$LOG/build-cli-asan.log" 2>&1; then
		echo "    built in $(( $(date +%s) - t0 ))s"
		t0=$(date +%s)
		cli_asan_done() {
			local name=$1 rc=$2 secs=$3 san=$LOG/cli-asan/$1 reports f
			reports=$(find "$san" -type f | sort)
			if [ "$rc" -eq 0 ] && [ -z "$reports" ]; then
				pass "cli-asan/$name (${secs}s)"
			elif [ -n "$reports" ]; then
				for f in $reports; do grep -E 'ERROR|runtime error|^SUMMARY' "$f" | head -3; done
				fail "cli-asan/$name (sanitizer report: $reports)"
			else
				tail -20 "$LOG/cli-asan-$name.log"
				fail "cli-asan/$name (see $LOG/cli-asan-$name.log)"
			fi
		}
		POOL_DONE=cli_asan_done POOL_JOBS=$CLI_JOBS
		for name in $(cli_tests); do
			case " $CLI_ASAN_EXCLUDE " in *" $name "*) echo "    skipped: cli-asan/$name (CLI_ASAN_EXCLUDE)"; continue;; esac
			san=$LOG/cli-asan/$name
			rm -rf "$san" && mkdir -p "$san"
			# PARTED_GPT_APPLE=0: see the unit-asan section.
			pool_run "$name" "$LOG/cli-asan-$name.log" env INSTALLER="$ROOT/build/asan/installer" PARTED_GPT_APPLE=0 \
				IMAGE_FETCH="$ROOT/build/asan/tests/tools/image-fetch" \
				ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$san/asan" \
				UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$san/ubsan" \
				bash "tests/cli/$name.sh"
		done
		pool_drain
		echo "    ran in $(( $(date +%s) - t0 ))s"
	else
		tail -30 "$LOG/build-cli-asan.log"
		fail "cli-asan build (see $LOG/build-cli-asan.log)"
	fi
fi

# ---- VM tests (QEMU, TCG by default) -------------------------------------------
if want vm; then
	echo "=== vm tests (build the boot image and the demo OS image first)"
	t0=$(date +%s)
	if make --no-print-directory all image > "$LOG/build-boot.log" 2>&1; then
		echo "    boot image and OS image ready in $(( $(date +%s) - t0 ))s"
		# VM_JOBS tests at a time (default 2): a TCG guest keeps about one
		# core busy and spends part of its time waiting on I/O and timers,
		# so two at a time finish the section sooner on a 2-core machine.
		# Every test has its own work directory, ports and namespaces.
		# Results are printed as tests finish; the order of the summary
		# lines is the order of completion.
		VM_JOBS=${VM_JOBS:-2}
		# Two tests at a time write up to about 5 GB; QEMU pauses a guest
		# whose disk write fails for lack of space, which looks like a hang.
		free_mb=$(df -Pm build | awk 'NR == 2 { print $4 }')
		echo "    ${free_mb} MB free on $(cd build && pwd -P)"
		[ "$free_mb" -ge 8192 ] ||
			echo "    warning: VM tests need about 8 GB free here; failures may be a full disk"
		t0=$(date +%s)
		vm_done() {
			local name=$1 rc=$2 secs=$3
			if [ "$rc" -eq 0 ]; then
				pass "vm/$name (${secs}s)"
			else
				tail -30 "$LOG/vm-$name.log"
				fail "vm/$name (${secs}s, see $LOG/vm-$name.log)"
			fi
			# A finished test's disks and ISOs (up to 2.5 GB written each)
			# go at once, so the suite needs room for two tests at a time,
			# not for all of them; its logs and serial consoles stay.
			# KEEP_VM_DISKS=1 keeps them for a post-mortem.
			[ "${KEEP_VM_DISKS:-0}" = 1 ] ||
				find "build/vmtest/$name" -type f -size +32M -delete 2>/dev/null || true
		}
		POOL_DONE=vm_done POOL_JOBS=$VM_JOBS
		# The longest tests start first so that the short ones fill the
		# other slot around them instead of leaving one to run alone at the
		# end.
		LONG_VM="80-raid1 95-powercut 90-site-lifecycle 92-site-status-page 91-site-discover 93-net-resume 30-uefi-install-boot"
		# Left out of make check unless VM_TESTS names them, to keep it
		# under 45 minutes on 2 cores (docs/testing.md "What make check
		# leaves out"): the site server's three (make check-site) and
		# five of the installer's (make check-long):
		# 80-raid1 (12-18 minutes), 41-usb-uefi (UEFI is installed and
		# booted by 30, a USB stick by 40), 60-try-pass (qemu/try.sh's
		# PASS; its full install and boot are 93's and 95's too) and
		# 94-net-fail (each of its faults is also a case of make
		# check-faults, and of the host's tests/cli/fetch-faults.sh),
		# 23-manifest-flip (a byte flipped on the wire stops the install
		# at its chunk: the host's tests/cli/manifest.sh shows the same
		# through the real download and unpack code); and
		# 31-secureboot (make check-secureboot: three boots under OVMF
		# with Secure Boot, 7-8 minutes).
		VM_OWN_TARGET="41-usb-uefi 60-try-pass 80-raid1 94-net-fail 23-manifest-flip 31-secureboot 90-site-lifecycle 91-site-discover 92-site-status-page"
		for t in $(for n in $LONG_VM; do echo "tests/vm/$n.sh"; done) \
			$(ls tests/vm/*.sh | grep -vE "/($(echo "$LONG_VM" | tr ' ' '|'))\.sh$"); do
			[ -f "$t" ] && [ "$(basename "$t")" != lib.sh ] || continue
			name=$(basename "$t" .sh)
			case " ${VM_TESTS:-$name} " in *" $name "*) ;; *) continue;; esac
			case " $VM_OWN_TARGET " in *" $name "*) [ -n "${VM_TESTS:-}" ] || continue;; esac
			pool_run "$name" "$LOG/vm-$name.log" bash "$t"
			echo "    started vm/$name"
		done
		pool_drain
		echo "    vm tests ran in $(( $(date +%s) - t0 ))s"
	else
		tail -30 "$LOG/build-boot.log"
		fail "boot image build (see $LOG/build-boot.log)"
	fi
fi

echo "=== summary ($(( $(date +%s) - START ))s)"
for f in "${FAILURES[@]}"; do echo "  failed: $f"; done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
