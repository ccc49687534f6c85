#!/bin/bash
# A throwaway PostgreSQL 15 for tests and benchmarks: no TCP at all, one unix
# socket inside DIR, trust authentication (only who can enter DIR can
# connect: DIR is 0700).
#
#   pg.sh start DIR   initdb + start in DIR (created when missing), create the
#                     database "site", print its libpq URL on stdout
#   pg.sh url DIR     print the URL again
#   pg.sh stop DIR    stop it (pg_ctl -m fast; killed when that times out)
#
# Run as root, the server runs as the user postgres (DIR is chowned to it).
# Environment: PG_BIN (default /usr/lib/postgresql/15/bin), PG_FSYNC=off for
# a faster, non-durable server. Every step has a timeout.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PGUSER_NAME=site

die() { echo "pg.sh: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: pg.sh start|stop|url DIR"
cmd=$1
dir=$2
case $cmd in start) mkdir -p "$dir" ;; esac
[ -d "$dir" ] || die "$dir: no such directory"
dir=$(cd "$dir" && pwd -P)
# The URL carries DIR unquoted, and a unix socket path has at most 107 bytes.
[[ $dir =~ ^[A-Za-z0-9/._-]+$ ]] || die "$dir: use a directory name of letters, digits and /._- only"
[ $(( ${#dir} + 15 )) -le 107 ] || die "$dir: too long for a unix socket path"
data=$dir/data

# As root: the server must not run as root (postgres refuses).
AS_OWNER=()
if [ "$(id -u)" -eq 0 ]; then
	AS_OWNER=(runuser -u postgres --)
fi

url() {
	echo "postgresql:///site?host=$dir&user=$PGUSER_NAME"
}

case $cmd in
start)
	[ -x "$PG_BIN/initdb" ] || die "no $PG_BIN/initdb (apt-get install postgresql-15)"
	[ ! -e "$data/PG_VERSION" ] || die "$data exists already: stop and remove it first"
	chmod 0700 "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir"
	fi
	timeout -k 5 120 "${AS_OWNER[@]}" "$PG_BIN/initdb" -D "$data" -U "$PGUSER_NAME" -A trust \
		-E UTF8 --locale=C.UTF-8 --no-instructions > "$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; die "initdb failed"; }
	cat >> "$data/postgresql.conf" <<CONF
# pg.sh: a unix socket in $dir only, no TCP
listen_addresses = ''
unix_socket_directories = '$dir'
unix_socket_permissions = 0700
max_connections = 200
shared_buffers = 64MB
dynamic_shared_memory_type = mmap
logging_collector = off
fsync = ${PG_FSYNC:-on}
CONF
	timeout -k 5 90 "${AS_OWNER[@]}" "$PG_BIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start \
		> "$dir/pg_ctl.log" 2>&1 ||
		{ cat "$dir/pg_ctl.log" "$dir/server.log" >&2 || true; die "the server did not start"; }
	timeout -k 5 60 "${AS_OWNER[@]}" "$PG_BIN/createdb" -h "$dir" -U "$PGUSER_NAME" site >&2 ||
		{ timeout -k 5 60 "${AS_OWNER[@]}" "$PG_BIN/pg_ctl" -D "$data" -m immediate -w -t 30 stop >&2 || true
		  die "createdb failed"; }
	url
	;;
url)
	[ -e "$data/PG_VERSION" ] || die "no server in $dir"
	url
	;;
stop)
	[ -e "$data/PG_VERSION" ] || exit 0
	if ! timeout -k 5 60 "${AS_OWNER[@]}" "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 30 stop > "$dir/pg_ctl.log" 2>&1; then
		# Not running (nothing to do), or stuck: kill what we started.
		if [ -f "$data/postmaster.pid" ]; then
			pid=$(head -1 "$data/postmaster.pid")
			if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
				kill -9 "$pid" 2>/dev/null || true
				echo "pg.sh: killed postmaster $pid" >&2
			fi
		fi
	fi
	;;
*)
	die "usage: pg.sh start|stop|url DIR"
	;;
esac
