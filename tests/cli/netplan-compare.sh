#!/bin/bash
# Our network rendering against netplan itself: for every example of netplan's
# own (../shared/corpus/netplan/ beside the repository, /work/shared/corpus/netplan/, or $NETPLAN_CORPUS) whose keys we support,
# and for our own files in tests/data/netplan/ (the keys the examples do not
# use: bond and bridge parameters, DHCP overrides, route options, ...),
# `installer render-network FILE --root DIR` must write the same systemd-networkd
# configuration as `netplan generate --root-dir DIR` (Debian's netplan.io).
# Every other example must be refused by our validation with the unsupported
# key named (the table below says which key; a new example that is not in the
# table is expected to be supported). Also checked: on a target with netplan we
# write /etc/netplan/50-installer.yaml (0600) and no networkd files, and netplan
# turns that file into the same configuration as the original.
#
# Normalisation before comparing (semantics kept):
#   - file names: netplan's 10-netplan-ID.EXT and our 10-installer-ID.EXT are
#     both compared as ID.EXT;
#   - comments and blank lines are dropped;
#   - MAC addresses are compared in lower case (netplan copies them as written,
#     we write them normalised; networkd does not mind);
#   - within a section, lines are sorted by key, keeping the order of lines with
#     the same key (DNS=, Address=, VLAN= keep their order); the sections of a
#     file are compared as a sorted list (two [Route] sections in either order
#     are the same routes);
#   - only systemd/network/ is compared: netplan also writes udev rules that keep
#     NetworkManager off its interfaces (there is no NetworkManager here), a udev
#     rule that repeats the .link file's Name= for set-name, and an Open vSwitch
#     cleanup unit; none of those exists in the networkd rendering.
# Skips need netplan: without /usr/sbin/netplan the test fails (rootfs/deps.sh
# installs netplan.io).
. "$(dirname "$0")/lib.sh"
# The corpus sits beside the repository (../shared/corpus/netplan, as the
# issue names it), or in the workplace's shared folder.
if [ -z "${NETPLAN_CORPUS:-}" ]; then
	for c in "$ROOT/../shared/corpus/netplan" /work/shared/corpus/netplan; do
		[ -d "$c" ] && { NETPLAN_CORPUS=$c; break; }
	done
fi
CORPUS=${NETPLAN_CORPUS:-$ROOT/../shared/corpus/netplan}
# Canonical, so that $ROOT/../shared is not taken for one of our own files.
[ ! -d "$CORPUS" ] || CORPUS=$(cd "$CORPUS" && pwd -P)
NETPLAN=/usr/sbin/netplan
[ -x "$NETPLAN" ] || die "$NETPLAN is missing: install netplan.io (make deps)"
# `netplan generate --root-dir DIR` runs this generator with the same
# arguments; calling it directly saves a Python start per example.
GENERATE=/usr/libexec/netplan/generate
[ -x "$GENERATE" ] || GENERATE="$NETPLAN generate"
[ -d "$CORPUS" ] || die "no netplan corpus at $CORPUS"

# Examples we do not support, and the key our validation must name.
declare -A UNSUPPORTED=(
	[dummy-devices.yaml]="dummy-devices"
	[virtual-ethernet.yaml]="virtual-ethernets"
	[vrf.yaml]="vrfs"
	[wireguard.yaml]="tunnels"
	[wireless.yaml]="wifis"
	[static-routes.yaml]="advertised-mss"
)

# normalise DIR PREFIX: one block per file, as described above.
normalise() {
	python3 - "$1" "$2" <<'PY'
import os, sys
d, prefix = sys.argv[1], sys.argv[2]
if not os.path.isdir(d):
    sys.exit(0)
for name in sorted(os.listdir(d), key=lambda n: n[len(prefix):] if n.startswith(prefix) else n):
    short = name[len(prefix):] if name.startswith(prefix) else "UNEXPECTED-NAME:" + name
    sections, cur = [], None
    for line in open(os.path.join(d, name)):
        line = line.strip()
        if not line or line.startswith("#") or line.startswith(";"):
            continue
        if line.startswith("["):
            cur = [line, []]
            sections.append(cur)
        else:
            if cur is None:
                cur = ["(no section)", []]
                sections.append(cur)
            k, _, v = line.partition("=")
            if k in ("MACAddress", "PermanentMACAddress"):
                line = k + "=" + v.lower()
            cur[1].append(line)
    blocks = []
    for head, lines in sections:
        lines = sorted(lines, key=lambda l: l.split("=", 1)[0])  # stable
        blocks.append("\n".join([head] + lines))
    print("=== " + short)
    print("\n".join(sorted(blocks)))
PY
}

# netplan_generate YAML DIR: netplan's rendering of YAML below DIR.
netplan_generate() {
	mkdir -p "$2/etc/netplan"
	install -m 0600 "$1" "$2/etc/netplan/$(basename "$1")"
	$GENERATE --root-dir "$2" 2>"$2.log" || { cat "$2.log" >&2; return 1; }
}

supported=() skipped=() failed=0
for f in "$CORPUS"/*.yaml "$ROOT"/tests/data/netplan/*.yaml; do
	name=$(basename "$f")
	case "$f" in "$ROOT"/tests/data/netplan/*) name=ours/$name ;; esac
	w=$T/${name%.yaml}
	mkdir -p "$w"
	if [ -n "${UNSUPPORTED[$name]:-}" ]; then
		key=${UNSUPPORTED[$name]}
		expect_rc 3 "$INSTALLER" render-network "$f" --root "$w/ours"
		grep -qE "^$f:[0-9]+:[0-9]+: error: network\.[^:]*\b$key: '$key' is not supported" "$T/err" || {
			cat "$T/err" >&2
			echo "FAIL: $name: our validation does not name the unsupported key '$key'" >&2
			failed=$((failed + 1))
			continue
		}
		[ ! -e "$w/ours/etc" ] || { echo "FAIL: $name: refused, yet files were written" >&2; failed=$((failed + 1)); }
		skipped+=("$name: '$key' is not supported ($(grep -c ': error: ' "$T/err") error(s), first: $(head -1 "$T/err" | sed "s|^$f:||"))")
		continue
	fi

	# Ours, on a target without netplan: networkd files.
	set +e
	"$INSTALLER" render-network "$f" --root "$w/ours" >"$w/ours.log" 2>&1
	rc=$?
	set -e
	if [ "$rc" -ne 0 ]; then
		cat "$w/ours.log" >&2
		echo "FAIL: $name: not in the unsupported table, but render-network exited $rc" >&2
		failed=$((failed + 1))
		continue
	fi
	netplan_generate "$f" "$w/netplan" || { echo "FAIL: $name: netplan generate failed" >&2; failed=$((failed + 1)); continue; }
	normalise "$w/netplan/run/systemd/network" 10-netplan- > "$w/netplan.norm"
	normalise "$w/ours/etc/systemd/network" 10-installer- > "$w/ours.norm"
	[ -s "$w/netplan.norm" ] || { echo "FAIL: $name: netplan wrote no networkd files" >&2; failed=$((failed + 1)); continue; }
	if ! diff -u "$w/netplan.norm" "$w/ours.norm" > "$w/diff"; then
		echo "FAIL: $name: our networkd files differ from netplan's (- netplan, + ours):" >&2
		cat "$w/diff" >&2
		failed=$((failed + 1))
		continue
	fi

	# Ours, on a target with netplan: the YAML, and nothing for networkd; netplan
	# makes the same of it as of the original.
	mkdir -p "$w/np-target/usr/sbin"
	touch "$w/np-target/usr/sbin/netplan"
	chmod 0755 "$w/np-target/usr/sbin/netplan"
	"$INSTALLER" render-network "$f" --root "$w/np-target" >"$w/np-target.log" 2>&1 ||
		{ cat "$w/np-target.log" >&2; die "$name: render-network failed on a netplan target"; }
	y=$w/np-target/etc/netplan/50-installer.yaml
	[ "$(stat -c %a "$y")" = 600 ] || die "$name: $y has mode $(stat -c %a "$y"), expected 600"
	[ ! -e "$w/np-target/etc/systemd/network" ] || die "$name: networkd files written on a netplan target"
	$GENERATE --root-dir "$w/np-target" 2>"$w/np-target.gen.log" ||
		{ cat "$w/np-target.gen.log" >&2; die "$name: netplan cannot read our 50-installer.yaml"; }
	normalise "$w/np-target/run/systemd/network" 10-netplan- > "$w/np-target.norm"
	diff -u "$w/netplan.norm" "$w/np-target.norm" >&2 ||
		die "$name: netplan renders our 50-installer.yaml differently from the original"

	supported+=("$name ($(ls "$w/ours/etc/systemd/network" | wc -l) files)")
done

echo "Supported, identical to netplan generate (${#supported[@]}):"
printf '  %s\n' "${supported[@]}"
echo "Skipped, refused with the key named (${#skipped[@]}):"
printf '  %s\n' "${skipped[@]}"
[ "$failed" -eq 0 ] || die "$failed example(s) failed"
[ "${#supported[@]}" -gt 0 ] || die "no example was compared"
echo "OK"
