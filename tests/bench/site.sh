#!/bin/bash
# The site server's benchmark (tests/bench.sh runs it; make bench, make
# bench-site): site-server on 127.0.0.1 with SQLite and with PostgreSQL
# (tests/server/pg.sh), loaded by build/tests/bench/site-load:
#   - paced: 10, 100 and 1000 simulated machines, each booting (GET
#     /ipxe/answer), posting its inventory and its 80 events in batches of
#     1-10 spread over 40 s (time compressed: a real install sends them over
#     minutes), while 4 status page readers poll GET /api/v1/machines and
#     GET / every 2 s;
#   - as fast as it goes: 100 machines with 400 events each, each posting
#     its next batch as soon as the last one was answered (100 clients at
#     once): the most events per second the server stores;
#   - PostgreSQL again with 16 threads (1000 machines paced, and as fast as
#     it goes): its commits wait for the disk, so more of them in flight help.
# Every run ends with site-load checking through the API that exactly the
# events sent were stored; a run that fails stops the benchmark (no figures).
#
#   tests/bench/site.sh DIR     work in DIR; the Markdown section on stdout
# Environment (to try other settings; make bench uses the defaults):
#   SITE_BENCH_STORES="sqlite postgresql"  SITE_BENCH_SIZES="10 100 1000"
#   SITE_BENCH_SPREAD=40 (seconds)  SITE_BENCH_THREADS=4 (site-server --threads)
#
# Every process has a timeout and is stopped on exit. Nothing listens
# beyond 127.0.0.1 (PostgreSQL: a unix socket in DIR only).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=$(realpath -m "$1")
SERVER=$ROOT/build/server/site-server
LOAD=$ROOT/build/tests/bench/site-load
PG=$ROOT/tests/server/pg.sh
SPREAD=${SITE_BENCH_SPREAD:-40}
SIZES=${SITE_BENCH_SIZES:-10 100 1000}
STORES=${SITE_BENCH_STORES:-sqlite postgresql}
THREADS=${SITE_BENCH_THREADS:-4} # site-server --threads (its default: 4)
for f in "$SERVER" "$LOAD"; do
	[ -x "$f" ] || { echo "site bench: $f is missing (make server site-load)" >&2; exit 1; }
done
mkdir -p "$DIR"

tpid='' spid='' pgdir=''
cleanup() {
	if [ -n "$spid" ]; then kill -TERM "$spid" 2>/dev/null || true; fi
	if [ -n "$tpid" ]; then wait "$tpid" 2>/dev/null || true; fi
	if [ -n "$pgdir" ]; then "$PG" stop "$pgdir" >/dev/null 2>&1 || true; fi
	tpid='' spid='' pgdir=''
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A boot tree: the answers only name the kernel and initrd; profiles/ must exist.
www=$DIR/www
mkdir -p "$www/profiles"
cp "$ROOT/profiles/default.yaml" "$www/profiles/"
: >"$www/vmlinuz"
: >"$www/initrd.img"

# start NAME DB-URL THREADS: site-server on a free port; sets port, spid, tpid
start_server() {
	local state=$DIR/$1
	mkdir -p "$state"
	port=$(free_port)
	timeout -k 5 900 "$SERVER" serve --listen "127.0.0.1:$port" --www "$www" --state-dir "$state" \
		--db "$2" --policy install --url "http://127.0.0.1:$port/" --threads "$3" \
		>"$state/server.log" 2>&1 &
	tpid=$!
	for _ in $(seq 100); do
		spid=$(pgrep -P "$tpid" || true)
		if [ -n "$spid" ] && curl -sf --max-time 2 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$tpid" 2>/dev/null || break
		sleep 0.2
	done
	echo "site bench: site-server did not start; its log:" >&2
	tail -20 "$state/server.log" >&2
	exit 1
}

# CPU seconds (user + system) and peak RSS (KiB) of the server.
server_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$spid/stat"
}
server_rss() {
	sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$spid/status"
}
# CPU seconds of PostgreSQL: the postmaster with its reaped children, and
# its live children (site-server's connections stay open during a run).
pg_cpu() {
	local pm p
	[ -n "$pgdir" ] || { echo 0; return; }
	pm=$(head -1 "$pgdir/data/postmaster.pid")
	{
		awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat"
		for p in $(pgrep -P "$pm"); do
			awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || true
		done
	} | awk -v hz="$(getconf CLK_TCK)" '{t += $1} END {print t / hz}'
}

# run STORE NAME MACHINES SPREAD EVENTS: one configuration; appends a table row to $DIR/rows
run() {
	local store=$1 name=$2 n=$3 spread=$4 events=$5 threads=${6:-$THREADS} db cpu0 cpu1 pg0 pg1
	local res=$DIR/$name.txt
	if [ "$store" = postgresql ]; then
		pgdir=$DIR/$name-pg
		db=$("$PG" start "$pgdir")
	else
		db=sqlite:$DIR/$name/site.db
	fi
	start_server "$name" "$db" "$threads"
	echo "site bench: $store, $n machines, $events events each, spread ${spread} s" >&2
	cpu0=$(server_cpu)
	pg0=$(pg_cpu)
	if ! timeout -k 5 150 "$LOAD" --url "http://127.0.0.1:$port/" --machines "$n" --spread "$spread" --events "$events" \
		--readers 4 --read-interval 2 --timeout 120 \
		--inventory "$ROOT/tests/data/sysroot/nvme-sata-usb.json" >"$res" 2>"$DIR/$name.load.log"; then
		cat "$DIR/$name.load.log" >&2
		echo "site bench: $name FAILED; server log: $DIR/$name/server.log" >&2
		exit 1
	fi
	cpu1=$(server_cpu)
	pg1=$(pg_cpu)
	echo "cpu_s $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.1f", b - a}')" >>"$res"
	echo "pg_cpu_s $(awk -v a="$pg0" -v b="$pg1" 'BEGIN {printf "%.1f", b - a}')" >>"$res"
	echo "rss_kib $(server_rss)" >>"$res"
	cleanup
	awk -v store="$store" -v spread="$spread" -v threads="$threads" '
		{ v[$1] = $2 }
		END {
			run = spread > 0 ? "paced, " spread " s" : "as fast as it goes"
			db = store == "postgresql" ? sprintf(" + %.1f s", v["pg_cpu_s"]) : ""
			printf "| %s | %d | %s | %d | %d | %d | %.1f / %.1f | %.1f / %.1f | %.1f / %.1f | %.1f / %.1f | %.1f s%s | %.1f s | %.0f MB |\n",
				store, v["machines"], run, threads, v["events_stored"], v["events_per_s"],
				v["events_p50_ms"], v["events_p99_ms"], v["page_p50_ms"], v["page_p99_ms"],
				v["api_list_p50_ms"], v["api_list_p99_ms"], v["answer_p50_ms"], v["answer_p99_ms"],
				v["cpu_s"], db, v["client_cpu_s"], v["rss_kib"] / 1024
		}' "$res" >>"$DIR/rows"
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
niceness=$(ps -o ni= -p $$ | tr -d ' ')
: >"$DIR/rows"
for store in $STORES; do
	for n in $SIZES; do
		run "$store" "$store-$n" "$n" "$SPREAD" 80
	done
	run "$store" "$store-max" 100 0 400
	if [ "$store" = postgresql ] && [ "$THREADS" != 16 ]; then
		# PostgreSQL waits for every commit's WAL on disk: more threads,
		# more commits in flight.
		run "$store" "$store-1000-t16" 1000 "$SPREAD" 80 16
		run "$store" "$store-max-t16" 100 0 400 16
	fi
done

cat <<EOF
## Site server

Measured by \`tests/bench/site.sh\` (make bench, or make bench-site for this
section alone) on $(date -u +%Y-%m-%d) at commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown),
$(nproc) cores shared with the load generator and with other work (load average
$load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; run at nice $niceness), site-server
and the load generator (tests/bench/site-load.c) on 127.0.0.1. Each machine
fetches its boot answer, posts its inventory once and its 80 events (an
install of the demo profile with 52 image progress events) as NDJSON in
batches of 1-10; 4 status page readers poll GET /api/v1/machines and GET /
every 2 s. "Paced": the batches are spread over $SPREAD s from the machine's
boot (boots spread over the first $((SPREAD / 4)) s); a real install sends its events
over minutes (image progress every 10 s), so these rates are 10-20 times a
real site's with the same number of machines. "As fast as it goes": 100
machines with 400 events each send their next batch as soon as the last
one is answered. Every run checked through the API that each machine is
installed with exactly the events it sent stored. Events/s: events stored
per second from the first batch sent to the last one answered (in a paced
run the rate offered, as long as the server keeps up). Latencies in ms, p50 /
p99, from the request handed to libcurl to its answer: connecting included
(each machine request opens a connection, as the installer does; at most
64 at once: site-server's 400 connections are 100 per worker thread). CPU: user +
system seconds during the run of site-server (+ PostgreSQL 15, on a unix
socket, fsync on), and of the load generator (one thread). Threads:
site-server --threads (worker threads, each with its own database
connection; default 4).

| store | machines | run | threads | events stored | events/s | event POST | GET / | GET /api/v1/machines | boot answer | CPU: server (+ PostgreSQL) | CPU: load generator | server peak RSS |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
EOF
cat "$DIR/rows"
