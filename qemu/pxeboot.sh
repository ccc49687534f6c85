#!/bin/bash
# pxeboot.sh — PXE-boot one QEMU machine from a boot tree (ipxe/mkwww.sh output).
#
# Usage: qemu/pxeboot.sh --www DIR [options]
#
#   --www DIR            boot tree: TFTP root (boot file) and, unless --port is
#                        given, served over HTTP by qemu/serve.sh
#   --port PORT          use an HTTP server already listening on 127.0.0.1:PORT
#   --record FILE        the server also accepts POSTs (the installer's event
#                        reports, docs/events.md) and appends each to FILE
#   --bootfile NAME      DHCP boot file (default boot.ipxe; pxelinux/lpxelinux.0
#                        for the pxelinux path)
#   --disk SPEC          FILE[,if=virtio|sata|nvme|scsi|usb][,serial=S][,format=F]
#                        [,model=M][,vendor=V][,lbs=N][,pbs=N][,rotational=0|1]
#                        repeatable; default if=virtio, format from the name
#                        (.qcow2 -> qcow2, else raw). model= is the ATA model
#                        (sata) or the SCSI product (scsi), vendor= the SCSI
#                        vendor; lbs=/pbs= logical/physical sector size
#                        (not sata); rotational= sets sata/scsi rotation rate
#   --boot-index N       with --boot-disk or --boot-order net-first: boot from
#                        disk N (0-based, order of --disk) instead of the first
#   --boot-order ORDER   net (default: the NIC only, bootindex=1) | disk (same
#                        as --boot-disk) | net-first: the NIC first
#                        (bootindex=1), then disk N (bootindex=2), on every
#                        boot: a rack machine's usual order. Reboots stay
#                        reboots: one QEMU run can install, reboot into the
#                        network again and boot the disk if the boot server
#                        says so (tests/vm/90-site-lifecycle.sh)
#   --mac MAC            NIC MAC (default 52:54:00:12:34:56)
#   --nic MODEL          virtio (default) | e1000 | e1000e
#   --mac2 MAC           add a second NIC (same model) with this MAC, on its
#                        own user-mode network (restrict=on, --net2), without
#                        any forward: it only gets DHCP from QEMU
#   --net2 CIDR          the second NIC's network (default 10.0.3.0/24; the
#                        guest's DHCP address there is .15)
#   --extra-nic MAC[,MODEL]  another NIC (repeatable), on its own restricted
#                        user-mode network that reaches nothing
#   --no-nic-rom         no option ROM on the boot NIC (romfile=): under OVMF
#                        the firmware's own PXE client boots, not QEMU's iPXE
#   --tap IFNAME         the boot NIC on an existing tap device instead of
#                        user mode (only tests/vm/50-dnsmasq-proxy.sh, inside
#                        a network namespace it created); no TFTP, no HTTP
#                        server, no forwards: DHCP/TFTP/HTTP come from the tap
#   --mem MB             memory (default 1024)
#   --smp N              CPUs (default 2)
#   --uuid UUID          SMBIOS system UUID (iPXE passes it as inst.uuid=)
#   --sys-serial S       SMBIOS system serial number (inst.serial=)
#   --firmware F         bios (default, SeaBIOS) | uefi (OVMF, fresh NVRAM copy)
#                        | uefi-sb (OVMF with Secure Boot enforcing and
#                        Microsoft's keys enrolled: OVMF_CODE_4M.secboot.fd,
#                        a copy of OVMF_VARS_4M.ms.fd; SMM on)
#   --efivars FILE       UEFI NVRAM file kept across runs (created from OVMF's)
#   --boot-disk          boot from the first disk instead of the network
#   --no-net             no network card at all (-nic none); needs --boot-disk
#                        (e.g. the installer medium: --disk installer.iso,if=usb)
#   --serial-log FILE    serial console log (default: a temp file)
#   --console            also show the serial console on stdout (and take
#                        keyboard input from stdin)
#   --expect STRING      succeed as soon as STRING appears on the serial console
#   --fail-on STRING     fail as soon as STRING appears (repeatable;
#                        "Kernel panic - not syncing" is always checked)
#   --wait-exit          after --expect matched, keep waiting until the guest
#                        powers off (QEMU exits) before succeeding
#   --timeout SECONDS    give up after this long (default 600)
#   --no-reboot          a guest reboot ends QEMU instead of rebooting
#   --screendump FILE    on failure, save the VGA screen as PNG (in BIOS mode
#                        SeaBIOS and iPXE print to VGA only, not to serial)
#   --forward IP=PORT    also forward guest address IP, port 80, to the HTTP
#                        server on 127.0.0.1:PORT (repeatable; IP in
#                        10.0.2.0/24, not .100): e.g. an image server apart
#                        from the boot server (tests/vm/91-site-discover.sh)
#   --ssh-port PORT      forward 127.0.0.1:PORT on the host to the guest's
#                        port 22 (hostfwd; bound to loopback only)
#   --monitor SOCK       the QEMU human monitor on this unix socket (default:
#                        a socket in a temp dir) so a caller can send
#                        `system_reset`, `screendump`, ... (qemu/vmdrive.py
#                        monitor SOCK CMD)
#   --qemu-arg ARG       extra QEMU argument (repeatable)
#
# Without --expect, the run succeeds when QEMU exits by itself (the guest
# powered off) before the timeout. On failure the last serial lines are shown.
# Exit status: 0 ok, 1 timeout or QEMU exited early, 2 usage, 3 --fail-on hit.
#
# Networking is QEMU user mode with restrict=on: the guest reaches nothing but
# 10.0.2.100:80, forwarded (a relay per connection: busybox nc) to the HTTP
# server on 127.0.0.1. The server binds 127.0.0.1 only.
#
# Acceleration: TCG (-accel tcg -cpu max,erms=off,fsrm=off) unless
# QEMU_ACCEL=kvm is set. Without ERMS the guest kernel clears pages with
# rep stosq instead of rep stosb: under TCG here, clear_page_erms sometimes
# ran for 20-45 s (soft lockups in udev workers while the bochs framebuffer
# or a module was set up), long enough for a mount unit to time out; with
# these flags such stalls were rarer (0 of 3 boots, then one in a later run),
# not gone. Not svm=off: that CPU model makes static glibc binaries abort at
# start.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUSYBOX=/bin/busybox
GUEST_HTTP=10.0.2.100

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit "${1:-0}"
}

WWW="" PORT="" BOOTFILE=boot.ipxe MAC=52:54:00:12:34:56 NIC=virtio MEM=1024 SMP=2
FIRMWARE=bios EFIVARS="" BOOT_DISK="" SERIAL_LOG="" CONSOLE="" EXPECT="" WAIT_EXIT=""
MAC2="" NET2=10.0.3.0/24
TIMEOUT=600 NO_REBOOT="" NO_NET="" UUID="" SYS_SERIAL="" SCREENDUMP="" SSH_PORT="" RECORD=()
BOOT_INDEX=0 TAP="" NO_NIC_ROM="" NET_FIRST="" MONITOR=""
DISKS=() FAIL_ON=() EXTRA=() EXTRA_NICS=() FORWARDS=()
while [ $# -gt 0 ]; do
	case "$1" in
	--www) WWW=$2; shift 2 ;;
	--port) PORT=$2; shift 2 ;;
	--record) RECORD=(--record "$(realpath -m "$2")"); shift 2 ;;
	--bootfile) BOOTFILE=$2; shift 2 ;;
	--disk) DISKS+=("$2"); shift 2 ;;
	--mac) MAC=$2; shift 2 ;;
	--boot-index) BOOT_INDEX=$2; shift 2 ;;
	--boot-order)
		case "$2" in
		net) ;;
		disk) BOOT_DISK=1 ;;
		net-first) NET_FIRST=1 ;;
		*) echo "pxeboot: --boot-order net|disk|net-first" >&2; exit 2 ;;
		esac
		shift 2 ;;
	--monitor) MONITOR=$2; shift 2 ;;
	--extra-nic) EXTRA_NICS+=("$2"); shift 2 ;;
	--no-nic-rom) NO_NIC_ROM=1; shift ;;
	--tap) TAP=$2; shift 2 ;;
	--nic) NIC=$2; shift 2 ;;
	--mac2) MAC2=$2; shift 2 ;;
	--net2) NET2=$2; shift 2 ;;
	--mem) MEM=$2; shift 2 ;;
	--smp) SMP=$2; shift 2 ;;
	--uuid) UUID=$2; shift 2 ;;
	--sys-serial) SYS_SERIAL=$2; shift 2 ;;
	--firmware) FIRMWARE=$2; shift 2 ;;
	--efivars) EFIVARS=$2; shift 2 ;;
	--boot-disk) BOOT_DISK=1; shift ;;
	--no-net) NO_NET=1; shift ;;
	--serial-log) SERIAL_LOG=$2; shift 2 ;;
	--console) CONSOLE=1; shift ;;
	--expect) EXPECT=$2; shift 2 ;;
	--fail-on) FAIL_ON+=("$2"); shift 2 ;;
	--wait-exit) WAIT_EXIT=1; shift ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--no-reboot) NO_REBOOT=1; shift ;;
	--screendump) SCREENDUMP=$2; shift 2 ;;
	--ssh-port) SSH_PORT=$2; shift 2 ;;
	--forward) FORWARDS+=("$2"); shift 2 ;;
	--qemu-arg) EXTRA+=("$2"); shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "pxeboot: unknown argument: $1" >&2; usage 2 >&2 ;;
	esac
done
FAIL_ON+=("Kernel panic - not syncing")

log() { echo "pxeboot: $*" >&2; }
die() { echo "pxeboot: error: $*" >&2; exit 2; }
[ -n "$BOOT_DISK" ] && [ ${#DISKS[@]} -eq 0 ] && die "--boot-disk needs a --disk"
[ -n "$BOOT_DISK" ] || [ -n "$TAP" ] || [ -d "$WWW" ] || die "--www DIR needed (or --boot-disk or --tap)"
[ -z "$NO_NET" ] || [ -n "$BOOT_DISK" ] || die "--no-net needs --boot-disk"
[ -z "$NO_NET" ] || [ -z "$SSH_PORT" ] || die "--no-net and --ssh-port exclude each other"
[ -z "$NET_FIRST" ] || [ -z "$BOOT_DISK" ] || die "--boot-order net-first and --boot-disk exclude each other"
[ -z "$NET_FIRST" ] || [ -z "$NO_NET" ] || die "--boot-order net-first needs a network card"
[ -z "$NET_FIRST" ] || [ ${#DISKS[@]} -gt 0 ] || die "--boot-order net-first needs a --disk"
[ -z "$NET_FIRST" ] || [ -z "$NO_REBOOT" ] || die "--boot-order net-first and --no-reboot exclude each other"
case "$PORT" in "" | [0-9]*) ;; *) die "bad --port $PORT" ;; esac
case "$TIMEOUT" in '' | *[!0-9]*) die "bad --timeout $TIMEOUT" ;; esac
case "$BOOT_INDEX" in '' | *[!0-9]*) die "bad --boot-index $BOOT_INDEX" ;; esac
case "$MAC" in [0-9a-fA-F][0-9a-fA-F]:??:??:??:??:??) ;; *) die "bad --mac $MAC" ;; esac
case "$MAC2" in "" | [0-9a-fA-F][0-9a-fA-F]:??:??:??:??:??) ;; *) die "bad --mac2 $MAC2" ;; esac

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pxeboot.XXXXXX")
QEMU_PID="" SERVER_PIDFILE=""
cleanup() {
	if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill "$QEMU_PID" 2>/dev/null || true
		for _ in $(seq 40); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$QEMU_PID" 2>/dev/null || true
	fi
	[ -z "$SERVER_PIDFILE" ] || "$HERE/serve.sh" stop --pidfile "$SERVER_PIDFILE" || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

[ -n "$SERIAL_LOG" ] || SERIAL_LOG=$TMP/serial.log
[ -n "$MONITOR" ] || MONITOR=$TMP/monitor.sock
case "$MONITOR" in *,*) die "--monitor path must not contain ','" ;; esac
rm -f "$MONITOR"
mkdir -p "$(dirname "$SERIAL_LOG")"
: >"$SERIAL_LOG"

# --- HTTP server ---------------------------------------------------------------------
if [ -z "$BOOT_DISK" ] && [ -z "$PORT" ] && [ -z "$TAP" ]; then
	SERVER_PIDFILE=$TMP/server.pid
	PORT=$("$HERE/serve.sh" start --dir "$WWW" --pidfile "$SERVER_PIDFILE" --log "$TMP/http.log" "${RECORD[@]}")
fi

# --- QEMU command line -----------------------------------------------------------------
ARGS=(-name pxeboot -machine q35 -m "$MEM" -smp "$SMP" -display none -no-user-config)
[ -z "$UUID" ] || ARGS+=(-uuid "$UUID")
case "$SYS_SERIAL" in *,*) die "--sys-serial must not contain ','" ;; esac
[ -z "$SYS_SERIAL" ] || ARGS+=(-smbios "type=1,serial=$SYS_SERIAL")
if [ "${QEMU_ACCEL:-tcg}" = kvm ]; then
	ARGS+=(-accel kvm -cpu host)
else
	ARGS+=(-accel tcg -cpu max,erms=off,fsrm=off)
fi

case "$FIRMWARE" in
bios) ;;
uefi | uefi-sb)
	code=/usr/share/OVMF/OVMF_CODE_4M.fd vars=/usr/share/OVMF/OVMF_VARS_4M.fd
	if [ "$FIRMWARE" = uefi-sb ]; then
		# The Secure Boot build needs SMM, and its variable store is
		# writable only from SMM (secure pflash).
		code=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd vars=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
		ARGS+=(-machine smm=on -global driver=cfi.pflash01,property=secure,value=on)
	fi
	[ -f "$code" ] && [ -f "$vars" ] || die "OVMF not found (apt-get install ovmf)"
	if [ -n "$EFIVARS" ]; then
		[ -f "$EFIVARS" ] || cp "$vars" "$EFIVARS"
	else
		EFIVARS=$TMP/OVMF_VARS.fd
		cp "$vars" "$EFIVARS"
	fi
	ARGS+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$code"
		-drive "if=pflash,format=raw,unit=1,file=$EFIVARS")
	;;
*) die "--firmware bios|uefi|uefi-sb" ;;
esac

# Network: user mode, restricted; only 10.0.2.100:80 -> 127.0.0.1:PORT.
# relay PORT: the guestfwd command, one busybox nc per connection. QEMU
# (libslirp) gives the command the guest's connection as stdin, stdout AND
# stderr: nc's own error ("can't connect to remote host": the server is
# down) would reach the guest as the server's answer (curl: "Received
# HTTP/0.9"). Its stderr goes to /dev/null instead; a refused connection
# then looks to the guest like a connection closed without an answer.
relay() { echo "cmd:/bin/sh -c 'exec $BUSYBOX nc 127.0.0.1 $1 2>/dev/null'"; }
NETDEV="user,id=n0,restrict=on"
if [ -n "$TAP" ]; then
	# A tap device the caller made (inside its own network namespace).
	case "$TAP" in *[!a-zA-Z0-9_-]*) die "bad --tap $TAP" ;; esac
	[ -z "$SSH_PORT" ] || die "--ssh-port needs user-mode networking, not --tap"
	NETDEV="tap,id=n0,ifname=$TAP,script=no,downscript=no"
elif [ -z "$BOOT_DISK" ]; then
	NETDEV+=",tftp=$(realpath "$WWW"),bootfile=$BOOTFILE"
	NETDEV+=",guestfwd=tcp:$GUEST_HTTP:80-$(relay "$PORT")"
fi
for fw in "${FORWARDS[@]}"; do
	fwip=${fw%%=*} fwport=${fw#*=}
	case "$fwip" in 10.0.2.[0-9] | 10.0.2.[0-9][0-9] | 10.0.2.[0-9][0-9][0-9]) ;; *) die "--forward $fw: IP in 10.0.2.0/24" ;; esac
	[ "$fwip" != "$GUEST_HTTP" ] || die "--forward $fw: $GUEST_HTTP is the boot server's"
	case "$fwport" in '' | *[!0-9]*) die "--forward $fw: IP=PORT" ;; esac
	[ -z "$TAP" ] || die "--forward needs user-mode networking, not --tap"
	# Like the boot server's forward: to loopback only.
	NETDEV+=",guestfwd=tcp:$fwip:80-$(relay "$fwport")"
done
# The host end of an SSH forward listens on loopback only.
[ -z "$SSH_PORT" ] || NETDEV+=",hostfwd=tcp:127.0.0.1:$SSH_PORT-:22"
nic_device() { # MODEL
	case "$1" in
	virtio) echo virtio-net-pci ;;
	e1000 | e1000e) echo "$1" ;;
	*) die "NIC model $1: virtio|e1000|e1000e" ;;
	esac
}
check_mac() {
	case "$1" in [0-9a-fA-F][0-9a-fA-F]:??:??:??:??:??) ;; *) die "bad MAC $1" ;; esac
}
nicopts="$(nic_device "$NIC"),netdev=n0,mac=$MAC"
[ -n "$BOOT_DISK" ] || nicopts+=",bootindex=1"
if [ -n "$NO_NET" ]; then
	ARGS+=(-nic none)
else
	[ -z "$NO_NIC_ROM" ] || nicopts+=",romfile="
	ARGS+=(-netdev "$NETDEV" -device "$nicopts")
	# A second NIC: its own restricted user network, nothing forwarded.
	[ -z "$MAC2" ] || ARGS+=(-netdev "user,id=n1,restrict=on,net=$NET2" -device "$(nic_device "$NIC"),netdev=n1,mac=$MAC2")
	k=2 # n1 is --mac2's
	for x in "${EXTRA_NICS[@]}"; do
		xmac=${x%%,*} xmodel=virtio
		[ "$xmac" = "$x" ] || xmodel=${x#*,}
		check_mac "$xmac"
		# Its own user-mode network, restricted, with no forwards: it reaches nothing.
		ARGS+=(-netdev "user,id=n$k,restrict=on" -device "$(nic_device "$xmodel"),netdev=n$k,mac=$xmac,romfile=")
		k=$((k + 1))
	done
fi
ARGS+=(-device virtio-rng-pci)

# Disks.
n=0 have_ahci="" have_scsi="" have_xhci=""
for spec in "${DISKS[@]}"; do
	file=${spec%%,*} iface=virtio serial="" format="" model="" vendor="" lbs="" pbs="" rot=""
	opts=${spec#"$file"}
	IFS=, read -r -a kv <<<"${opts#,}"
	for o in "${kv[@]}"; do
		case "$o" in
		if=*) iface=${o#if=} ;;
		serial=*) serial=${o#serial=} ;;
		format=*) format=${o#format=} ;;
		model=*) model=${o#model=} ;;
		vendor=*) vendor=${o#vendor=} ;;
		lbs=*) lbs=${o#lbs=} ;;
		pbs=*) pbs=${o#pbs=} ;;
		rotational=*) rot=${o#rotational=} ;;
		"") ;;
		*) die "unknown disk option '$o' in $spec" ;;
		esac
	done
	[ -f "$file" ] || [ -b "$file" ] || die "disk $file not found"
	[ -n "$format" ] || case "$file" in *.qcow2) format=qcow2 ;; *) format=raw ;; esac
	[ -n "$serial" ] || serial=disk$n
	boot=""
	[ -n "$BOOT_DISK" ] && [ "$n" = "$BOOT_INDEX" ] && boot=",bootindex=1"
	# net-first: the NIC has bootindex=1, this disk comes next.
	[ -n "$NET_FIRST" ] && [ "$n" = "$BOOT_INDEX" ] && boot=",bootindex=2"
	# Properties beyond the serial, where the transport has them.
	case "$lbs$pbs" in *[!0-9]*) die "lbs=/pbs= must be numbers in $spec" ;; esac
	[ -z "$lbs" ] || [ "$iface" != sata ] || die "lbs= is not supported with if=sata (ATA disks have 512-byte logical sectors in QEMU)"
	[ -z "$lbs" ] || boot+=",logical_block_size=$lbs"
	[ -z "$pbs" ] || boot+=",physical_block_size=$pbs"
	case "$iface:$rot" in
	*:) ;;
	sata:0 | scsi:0) boot+=",rotation_rate=1" ;; # 1 = non-rotating (SSD)
	sata:1 | scsi:1) boot+=",rotation_rate=7200" ;;
	*) die "rotational=0|1, only with if=sata or if=scsi, in $spec" ;;
	esac
	case "$iface" in
	sata) [ -z "$vendor" ] || die "vendor= needs if=scsi in $spec"
		[ -z "$model" ] || boot+=",model=${model//,/,,}" ;;
	scsi) [ -z "$model" ] || boot+=",product=${model//,/,,}"
		[ -z "$vendor" ] || boot+=",vendor=${vendor//,/,,}" ;;
	*) [ -z "$model$vendor" ] || die "model=/vendor= need if=sata or if=scsi in $spec" ;;
	esac
	serial=${serial//,/,,}
	# The file name goes into QEMU's option syntax: a comma would have to be doubled.
	case "$file" in *,*) die "disk file names must not contain ','" ;; esac
	ARGS+=(-drive "file=$file,if=none,id=d$n,format=$format,cache=unsafe,discard=unmap")
	case "$iface" in
	virtio) ARGS+=(-device "virtio-blk-pci,drive=d$n,serial=$serial$boot") ;;
	sata)
		[ -n "$have_ahci" ] || { ARGS+=(-device "ahci,id=ahci0"); have_ahci=0; }
		ARGS+=(-device "ide-hd,drive=d$n,bus=ahci0.$have_ahci,serial=$serial$boot")
		have_ahci=$((have_ahci + 1))
		;;
	nvme) ARGS+=(-device "nvme,drive=d$n,serial=$serial$boot") ;;
	scsi)
		[ -n "$have_scsi" ] || { ARGS+=(-device "virtio-scsi-pci,id=scsi0"); have_scsi=1; }
		ARGS+=(-device "scsi-hd,drive=d$n,bus=scsi0.0,serial=$serial$boot")
		;;
	usb)
		[ -n "$have_xhci" ] || { ARGS+=(-device "qemu-xhci,id=xhci0"); have_xhci=1; }
		ARGS+=(-device "usb-storage,drive=d$n,bus=xhci0.0,serial=$serial$boot")
		;;
	*) die "disk interface $iface: virtio|sata|nvme|scsi|usb" ;;
	esac
	n=$((n + 1))
done

# Serial console: to the log file, or to stdio as well with --console.
if [ -n "$CONSOLE" ]; then
	ARGS+=(-chardev "stdio,id=ser0,signal=on,logfile=$SERIAL_LOG")
else
	ARGS+=(-chardev "file,id=ser0,path=$SERIAL_LOG")
fi
ARGS+=(-serial chardev:ser0)
ARGS+=(-monitor "unix:$MONITOR,server=on,wait=off")
[ -z "$NO_REBOOT" ] || ARGS+=(-no-reboot)
ARGS+=("${EXTRA[@]}")

# --- run and watch ----------------------------------------------------------------------
what="boot from disk $BOOT_INDEX"
[ -n "$BOOT_DISK" ] || what="PXE boot ($BOOTFILE, http port $PORT)"
[ -z "$NET_FIRST" ] || what="network first, then disk $BOOT_INDEX, on every boot ($BOOTFILE, http port $PORT)"
[ -z "$TAP" ] || [ -n "$BOOT_DISK" ] || what="PXE boot on tap $TAP"
nicdesc="$NIC $MAC${MAC2:+ + $MAC2}"
[ -z "$NO_NET" ] || nicdesc="no network"
log "$what, $FIRMWARE, $nicdesc, ${MEM} MB, $n disk(s), timeout ${TIMEOUT}s"
log "serial log: $SERIAL_LOG"
[ "$MONITOR" = "$TMP/monitor.sock" ] || log "monitor: $MONITOR"
start=$(date +%s.%N)
if [ -n "$CONSOLE" ]; then
	qemu-system-x86_64 "${ARGS[@]}" <&0 &
else
	qemu-system-x86_64 "${ARGS[@]}" </dev/null &
fi
QEMU_PID=$!

elapsed() { echo "$(date +%s.%N) $start" | awk '{printf "%.1f", $1 - $2}'; }
show_tail() {
	if [ -n "$SCREENDUMP" ] && [ -n "$QEMU_PID" ] && [ -S "$MONITOR" ]; then
		PYTHON=python3
		[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
		"$PYTHON" - "$MONITOR" "$(realpath -m "$SCREENDUMP")" <<-'EOF' || true
			import socket, sys, time
			s = socket.socket(socket.AF_UNIX)
			s.connect(sys.argv[1])
			s.sendall(b"screendump " + sys.argv[2].encode() + b" -f png\n")
			time.sleep(1)
		EOF
		[ -s "$SCREENDUMP" ] && log "screen saved to $SCREENDUMP"
	fi
	[ -n "$CONSOLE" ] && return 0
	echo "pxeboot: --- last lines of $SERIAL_LOG ---" >&2
	tail -n 40 "$SERIAL_LOG" | tr -d '\r' | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' >&2
	echo "pxeboot: ---" >&2
}
seen() { grep -qF -- "$1" "$SERIAL_LOG" 2>/dev/null; }

matched=""
while :; do
	if ! kill -0 "$QEMU_PID" 2>/dev/null; then
		rc=0
		wait "$QEMU_PID" || rc=$?
		QEMU_PID=""
		if [ -n "$EXPECT" ] && [ -z "$matched" ] && ! seen "$EXPECT"; then
			log "QEMU exited (status $rc) after $(elapsed) s without '$EXPECT'"
			show_tail
			exit 1
		fi
		log "QEMU exited (status $rc) after $(elapsed) s"
		[ "$rc" = 0 ] || { show_tail; exit 1; }
		exit 0
	fi
	for f in "${FAIL_ON[@]}"; do
		if seen "$f"; then
			log "'$f' on the console after $(elapsed) s"
			show_tail
			exit 3
		fi
	done
	if [ -n "$EXPECT" ] && [ -z "$matched" ] && seen "$EXPECT"; then
		log "'$EXPECT' after $(elapsed) s"
		[ -n "$WAIT_EXIT" ] || exit 0
		matched=1
	fi
	if [ "$(awk -v s="$start" -v t="$TIMEOUT" -v n="$(date +%s.%N)" 'BEGIN{print (n - s >= t)}')" = 1 ]; then
		if [ -n "$EXPECT" ] && [ -z "$matched" ]; then
			log "timeout after ${TIMEOUT} s waiting for '$EXPECT'"
		else
			log "timeout after ${TIMEOUT} s waiting for the guest to power off"
		fi
		show_tail
		exit 1
	fi
	sleep 0.25
done
