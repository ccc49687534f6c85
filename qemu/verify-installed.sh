#!/bin/bash
# verify-installed.sh — log in to an installed system over SSH (through a
# QEMU hostfwd on 127.0.0.1) and check that it came up as its profile says.
#
# Usage: qemu/verify-installed.sh --port PORT --key FILE --user NAME
#            --hostname NAME [--mac MAC] [--timeout SECONDS] [--poweroff]
#
# Checks, each printed as "verify: ok ..." or "verify: FAILED ...":
#   - SSH login as --user with the private key --key (the profile's key)
#   - the hostname is --hostname
#   - sudo works without a password (the profile's sudo rule)
#   - the NIC with --mac is configured by systemd-networkd from the
#     installer's .network file and has an IPv4 address
#   - cloud-init ran from our NoCloud seed and `cloud-init status` is done
#   - no failed systemd units
# --poweroff: `sudo poweroff` at the end (QEMU then exits).
# Exit status: 0 all checks passed, 1 a check failed, 2 usage.
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit "${1:-0}"
}
PORT="" KEY="" USER_NAME="" HOST="" MAC="" TIMEOUT=300 POWEROFF=""
while [ $# -gt 0 ]; do
	case "$1" in
	--port) PORT=$2; shift 2 ;;
	--key) KEY=$2; shift 2 ;;
	--user) USER_NAME=$2; shift 2 ;;
	--hostname) HOST=$2; shift 2 ;;
	--mac) MAC=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--poweroff) POWEROFF=1; shift ;;
	-h | --help) usage 0 ;;
	*) echo "verify: unknown argument: $1" >&2; usage 2 >&2 ;;
	esac
done
[ -n "$PORT" ] && [ -n "$KEY" ] && [ -n "$USER_NAME" ] && [ -n "$HOST" ] || usage 2 >&2

# ssh refuses a private key readable by others; git checks it out 0644.
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
install -m 0600 "$KEY" "$TMP/key"
SSH=(ssh -i "$TMP/key" -p "$PORT" -o BatchMode=yes -o ConnectTimeout=10
	-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
	"$USER_NAME@127.0.0.1")

FAILED=0
ok() { echo "verify: ok: $*"; }
bad() { echo "verify: FAILED: $*"; FAILED=1; }

deadline=$(($(date +%s) + TIMEOUT))
until "${SSH[@]}" true 2>/dev/null; do
	if [ "$(date +%s)" -ge "$deadline" ]; then
		bad "no SSH login as $USER_NAME on 127.0.0.1:$PORT within ${TIMEOUT}s"
		exit 1
	fi
	sleep 5
done
ok "SSH login as $USER_NAME with the profile's key"

got=$("${SSH[@]}" hostname)
[ "$got" = "$HOST" ] && ok "hostname is $got" || bad "hostname is '$got', expected '$HOST'"

"${SSH[@]}" sudo -n true && ok "passwordless sudo for $USER_NAME" || bad "sudo -n true failed"

if [ -n "$MAC" ]; then
	# The interface that has this MAC, whatever the installed system named it.
	ifname=$("${SSH[@]}" "ip -o link | awk -v m='$MAC' '\$0 ~ m {sub(\":\",\"\",\$2); print \$2}'")
	status=$("${SSH[@]}" "networkctl status '$ifname' --no-pager 2>&1" || true)
	if echo "$status" | grep -q "Network File: /etc/systemd/network/10-installer-" &&
		echo "$status" | grep -qE "State: routable|State: configured"; then
		addr=$("${SSH[@]}" "ip -4 -o addr show dev '$ifname' | awk '{print \$4}'")
		ok "$ifname ($MAC) configured by systemd-networkd from the installer's file, address $addr"
	else
		bad "$ifname ($MAC) is not configured from the installer's .network file:"
		echo "$status" | sed 's/^/    /'
	fi
fi

ci=$("${SSH[@]}" "cloud-init status --wait --long 2>&1" || true)
if echo "$ci" | grep -q "^status: done" && echo "$ci" | grep -qi "nocloud"; then
	ok "cloud-init: $(echo "$ci" | grep -i '^detail' -A1 | tr '\n' ' ' | sed 's/  */ /g')"
else
	bad "cloud-init did not finish from our NoCloud seed:"
	echo "$ci" | sed 's/^/    /'
fi

failed_units=$("${SSH[@]}" "systemctl --failed --no-legend --plain | awk '{print \$1}'" || true)
[ -z "$failed_units" ] && ok "no failed systemd units" || bad "failed units: $failed_units"

if [ -n "$POWEROFF" ]; then
	"${SSH[@]}" sudo -n poweroff >/dev/null 2>&1 || true
fi
exit "$FAILED"
