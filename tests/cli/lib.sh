# Shared helpers for the command-line tests (sourced).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# INSTALLER: the binary under test; tests/run.sh sets it to build/asan/installer
# for the cli-asan section (the same tests against an ASan/UBSan build).
INSTALLER=${INSTALLER:-$ROOT/build/installer/installer}
T=$(mktemp -d)
# Background servers started with start_bg are killed, and waited for,
# before $T goes.
PIDS=()
cli_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cli_cleanup EXIT
# start_bg NAME PORTFILE CMD...: a background server (at most
# START_BG_TIMEOUT seconds, default 300); returns once it wrote its port
# file; its stderr in $T/NAME.err.
start_bg() {
	local name=$1 pf=$2
	shift 2
	timeout "${START_BG_TIMEOUT:-300}" "$@" 2>"$T/$name.err" &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$pf" ] && return 0; sleep 0.05; done
	cat "$T/$name.err" >&2
	die "$name did not start"
}
die() { echo "FAIL: $*" >&2; exit 1; }
# expect_rc CODE CMD...: run CMD, require exit status CODE; output in $T/out, $T/err
expect_rc() {
	local want=$1; shift
	set +e
	"$@" >"$T/out" 2>"$T/err"
	local rc=$?
	set -e
	[ "$rc" -eq "$want" ] || { cat "$T/out" "$T/err" >&2; die "'$*' exited $rc, expected $want"; }
}
expect_in() { grep -qF -- "$2" "$1" || { cat "$1" >&2; die "$1 lacks: $2"; }; }
