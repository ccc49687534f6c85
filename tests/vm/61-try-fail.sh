#!/bin/bash
# make try with a broken profile: a FAIL verdict carrying the installer's own
# errors (FILE:LINE:COLUMN) and its phase log, a non-zero exit status, and no
# disk written. First, without booting anything: a profile whose image URL
# the rehearsal machine cannot reach is refused with a clear message.
. "$(dirname "$0")/lib.sh"

# 1. An image URL elsewhere: refused before any QEMU run (exit 2), with advice.
sed 's|url: http://10.0.2.100/images/debian12.tar.zst|url: https://images.example.net/debian12.tar.zst|' \
	"$ROOT/profiles/default.yaml" >"$T/elsewhere.yaml"
rc=0
"$ROOT/qemu/try.sh" --profile "$T/elsewhere.yaml" --out "$T/try0" >"$T/try0.out" 2>&1 || rc=$?
cat "$T/try0.out"
[ "$rc" = 2 ] || die "an unreachable image URL: try exited $rc, not 2"
grep -q "image url is https://images.example.net/debian12.tar.zst" "$T/try0.out" || die "no message naming the URL"
grep -q -- "--demo-image" "$T/try0.out" || die "no advice to use the demo image"
[ ! -e "$T/try0/install.log" ] || die "a machine was booted"

# 2. A broken profile. Line 5 column 13: a size that is not a size;
# line 9 column 3: an unknown key.
cat > "$T/broken.yaml" <<'YAML'
version: 1
hostname: broken
disk:
  partitions:
    - size: lots
      mount: /
image:
  url: http://10.0.2.100/images/debian12.tar.zst
  sha265: 0000000000000000000000000000000000000000000000000000000000000000
YAML
rc=0
"$ROOT/qemu/try.sh" --profile "$T/broken.yaml" --disks "2G 1G" --out "$T/try" --timeout 600 \
	>"$T/try.out" 2>&1 || rc=$?
cat "$T/try.out"
SERIAL=$T/try/install.log
[ "$rc" = 1 ] || die "a broken profile: try exited $rc, not 1"
grep -q '^FAIL: the installer exited with status 3' "$T/try.out" || die "no FAIL verdict with the exit status"
grep -q '^installer errors:' "$T/try.out" || die "no installer errors in the verdict"
grep -q 'http://10.0.2.100/profiles/broken.yaml:5:13: error: disk.partitions\[0\].size' "$T/try.out" ||
	die "the verdict lacks the error at line 5"
grep -q 'http://10.0.2.100/profiles/broken.yaml:9:3: error:' "$T/try.out" || die "the verdict lacks the error at line 9"
grep -q '<!! validate FAILED' "$T/try.out" || die "the verdict's phase log lacks the failed phase"
grep -q '^unchanged: disk 0 (blocks 0) disk 1 (blocks 0)' "$T/try.out" || die "the verdict does not show the disks unchanged"
! grep -q '^PASS' "$T/try.out" || die "a PASS line in a failing rehearsal"
expect_no_log "==> plan"
log "ok: FAIL verdict with the installer's FILE:LINE:COLUMN errors, exit 1, no disk written"
