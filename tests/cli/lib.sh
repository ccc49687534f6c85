# Shared helpers for the command-line tests (sourced).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# INSTALLER: the binary under test; tests/run.sh sets it to build/asan/installer
# for the cli-asan section (the same tests against an ASan/UBSan build).
INSTALLER=${INSTALLER:-$ROOT/build/installer/installer}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
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
