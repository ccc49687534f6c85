#!/bin/bash
# build/tests/server/test_store again against a throwaway PostgreSQL
# (tests/server/pg.sh in a temporary directory): the same cases as on SQLite.
set -u
cd "$(dirname "$0")/../.."
TEST=build/tests/server/test_store
[ -x "$TEST" ] || { echo "store-pg: no $TEST (make build/tests/server/test_store)"; exit 1; }

dir=$(mktemp -d /tmp/store-pg.XXXXXX)
cleanup() {
	tests/server/pg.sh stop "$dir" || true
	rm -rf "$dir"
}
trap cleanup EXIT

url=$(tests/server/pg.sh start "$dir") || { echo "store-pg: PostgreSQL did not start"; exit 1; }
echo "store-pg: PostgreSQL at $url"
SITE_TEST_PG_URL=$url timeout -k 10 600 "$TEST" 2>&1 | tee "$dir/out"
rc=${PIPESTATUS[0]}
echo "store-pg: test_store exited with $rc"
[ "$rc" -eq 0 ] || exit 1
# Both groups must have run and passed: SQLite's and PostgreSQL's.
grep -q '^test_store: PostgreSQL' "$dir/out" || { echo "store-pg: the PostgreSQL cases did not run"; exit 1; }
[ "$(grep -c '^\[  PASSED  \]' "$dir/out")" -eq 2 ] || { echo "store-pg: not both groups passed"; exit 1; }
exit 0
