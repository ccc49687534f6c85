#!/bin/bash
# serve.sh — serve a directory over HTTP on 127.0.0.1 (never any other address).
#
# Usage:
#   qemu/serve.sh start --dir DIR [--port PORT] [--pidfile FILE] [--log FILE]
#                       [--record FILE]
#       Starts the server in the background (detached) and prints the port
#       on stdout. PORT 0 or none: a free port. --pidfile FILE records the
#       server's pid for `stop`; --log FILE gets the request log; --record
#       FILE accepts POSTs (event reports) and appends each to FILE.
#   qemu/serve.sh stop --pidfile FILE
#       Stops the server started with that pidfile.
#   qemu/serve.sh run --dir DIR [--port PORT]
#       Serves in the foreground until interrupted.
#
# The server is qemu/httpd.py (Python's ThreadingHTTPServer, many connections
# at once). QEMU guests reach it through guestfwd (see qemu/pxeboot.sh).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit "${1:-0}"
}

# Debian's python3 first (a user's pyenv shim may not be there under CI).
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3

cmd=${1:-}
[ -n "$cmd" ] || usage 1 >&2
shift
DIR="" PORT=0 PIDFILE="" LOG=/dev/null RECORD=()
while [ $# -gt 0 ]; do
	case "$1" in
	--dir) DIR=$2; shift 2 ;;
	--port) PORT=$2; shift 2 ;;
	--pidfile) PIDFILE=$2; shift 2 ;;
	--log) LOG=$2; shift 2 ;;
	--record) RECORD=(--record "$2"); shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "serve: unknown argument: $1" >&2; usage 1 >&2 ;;
	esac
done
die() { echo "serve: error: $*" >&2; exit 1; }

case "$cmd" in
-h | --help) usage 0 ;;
run)
	[ -d "$DIR" ] || die "--dir DIR needed"
	exec "$PYTHON" "$HERE/httpd.py" "$DIR" --port "$PORT" "${RECORD[@]}"
	;;
start)
	[ -d "$DIR" ] || die "--dir DIR needed"
	portfile=$(mktemp "${TMPDIR:-/tmp}/serve-port.XXXXXX")
	rm -f "$portfile"
	# setsid: the server must not get the terminal's signals meant for a caller
	setsid "$PYTHON" "$HERE/httpd.py" "$DIR" --port "$PORT" --port-file "$portfile" "${RECORD[@]}" \
		</dev/null >>"$LOG" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		[ -s "$portfile" ] && break
		kill -0 "$pid" 2>/dev/null || die "server exited (see ${LOG})"
		sleep 0.05
	done
	[ -s "$portfile" ] || { kill "$pid"; die "server did not start"; }
	port=$(cat "$portfile")
	rm -f "$portfile"
	[ -z "$PIDFILE" ] || echo "$pid" >"$PIDFILE"
	echo "serve: pid $pid serving $DIR on http://127.0.0.1:$port/" >&2
	echo "$port"
	;;
stop)
	[ -n "$PIDFILE" ] || die "--pidfile FILE needed"
	[ -f "$PIDFILE" ] || exit 0
	pid=$(cat "$PIDFILE")
	# Only kill it if it is still our server (pids get reused).
	if grep -q httpd.py "/proc/$pid/cmdline" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$PIDFILE"
	;;
*) usage 1 >&2 ;;
esac
