#!/bin/bash
# Two machines with different MACs PXE-boot at the same time from the same
# boot server and each gets its own profile (profiles/mac/<mac>.yaml); a
# third profile, default.yaml, is there too and must not be taken.
. "$(dirname "$0")/lib.sh"

profile() { # HOSTNAME
	cat <<YAML
version: 1
hostname: $1
disk:
  partitions:
    - { size: rest, mount: / }
image:
  url: http://10.0.2.100/images/debian12.tar.zst
  sha256: 0000000000000000000000000000000000000000000000000000000000000000
YAML
}
mkdir -p "$T/profiles/mac"
profile alpha > "$T/profiles/mac/52-54-00-00-aa-01.yaml"
profile beta > "$T/profiles/mac/52-54-00-00-aa-02.yaml"
profile fallback > "$T/profiles/default.yaml"
make_www "inst.finish=poweroff inst.dryrun"
make_disk "$T/a.raw" 2G
make_disk "$T/b.raw" 2G

# One server for both machines, as at a real site.
PORT=$("$ROOT/qemu/serve.sh" start --dir "$T/www" --pidfile "$T/httpd.pid" --log "$T/httpd.log")
trap '"$ROOT/qemu/serve.sh" stop --pidfile "$T/httpd.pid"' EXIT

"$ROOT/qemu/pxeboot.sh" --www "$T/www" --port "$PORT" --disk "$T/a.raw" --mac 52:54:00:00:aa:01 \
	--serial-log "$T/alpha.log" --timeout 300 > "$T/alpha.out" 2>&1 &
A=$!
"$ROOT/qemu/pxeboot.sh" --www "$T/www" --port "$PORT" --disk "$T/b.raw" --mac 52:54:00:00:aa:02 \
	--serial-log "$T/beta.log" --timeout 300 > "$T/beta.out" 2>&1 &
B=$!
wait $A || { SERIAL=$T/alpha.log; die "machine alpha did not power off"; }
wait $B || { SERIAL=$T/beta.log; die "machine beta did not power off"; }

SERIAL=$T/alpha.log
expect_log "profiles/mac/52-54-00-00-aa-01.yaml"
expect_log "profile valid: hostname alpha"
SERIAL=$T/beta.log
expect_log "profiles/mac/52-54-00-00-aa-02.yaml"
expect_log "profile valid: hostname beta"
for log in "$T/alpha.log" "$T/beta.log"; do
	! grep -q "hostname fallback" "$log" || { SERIAL=$log; die "a machine took the default profile"; }
done
grep -q "aa-01.yaml" "$T/httpd.log" && grep -q "aa-02.yaml" "$T/httpd.log" || die "the server did not serve both profiles"
log "ok: alpha and beta each got their own profile from the same server"
