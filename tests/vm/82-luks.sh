#!/bin/bash
# LUKS2 data volume unlocked at boot by a key file: install / (plain ext4)
# and a LUKS2 partition holding /srv/secure, whose key file the installer
# fetches over HTTP from the test's server (URL with user:password@ and a
# ?token=: neither may appear anywhere). Then boot the installed system,
# which reports from inside (cloud-init runcmd, on the serial console): the
# volume is mounted from /dev/mapper/secure, is LUKS2, was unlocked by
# systemd-cryptsetup from /etc/crypttab with the key file (mode 0400 in a
# 0700 directory) without any passphrase prompt, and it writes a canary
# file into it. The host then finds a LUKS2 header on the partition and the
# canary nowhere on the disk (it is encrypted). A second disk holding a
# filesystem is attached the whole time and must be byte-identical.
. "$(dirname "$0")/lib.sh"

MAC=52:54:00:12:34:56
KEY="luks-test-key-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
KUSER=keyuser$RANDOM PASS=Pw0rd$RANDOM$RANDOM TOKEN=tok$RANDOM$RANDOM
printf '%s\n' "$KEY" > "$T/secure.key"
cat > "$T/profiles/default.yaml" <<EOF
version: 1
hostname: crypt01
disk:
  select: { serial: LUKS-A }
  firmware: bios
  partitions:
    - { size: 2560MiB, fs: ext4, mount: / }
    - size: rest
      fs: ext4
      mount: /srv/secure
      luks:
        name: secure
        key_url: "http://$KUSER:$PASS@10.0.2.100/keys/secure.key?token=$TOKEN"
        key_sha256: "$(sha256sum < "$T/secure.key" | cut -d' ' -f1)"
image:
  url: http://10.0.2.100/images/debian12.tar.zst
  sha256: "$(image_sha256)"
firstboot:
  runcmd:
    - |
      C=\$(printf 'PLAIN%sCANARY-%s' TEXT 7f3a)
      printf '%s\n' "\$C" > /srv/secure/canary; sync
      echo "LUKSCHECK src=\$(findmnt -no SOURCE /srv/secure) type=\$(cryptsetup status secure | awk '/type:/ {print \$2}') unit=\$(systemctl is-active systemd-cryptsetup@secure.service) key=\$(stat -c %a /etc/cryptsetup-keys.d/secure.key) dir=\$(stat -c %a /etc/cryptsetup-keys.d) owner=\$(stat -c %U /etc/cryptsetup-keys.d/secure.key) crypttab=\$(grep -c '^secure[[:space:]]UUID=.*/etc/cryptsetup-keys.d/secure.key' /etc/crypttab) prompts=\$(journalctl -b --no-pager | grep -ci 'passphrase') canary=\$(sha256sum < /srv/secure/canary | cut -c1-16) LUKSCHECK-END" > /dev/ttyS0
EOF
make_www "inst.finish=reboot"
link_image
mkdir -p "$T/www/keys"
cp "$T/secure.key" "$T/www/keys/secure.key"
make_disk "$T/a.raw" 4G
make_disk "$T/other.raw" 256M
/sbin/mke2fs -q -F -t ext4 -L other "$T/other.raw"
before=$(sha256sum < "$T/other.raw")

# Neither the key nor the URL's credentials on the console, ever.
no_secrets() { # LOG
	for s in "$KEY" "$PASS" "$TOKEN" "$KUSER"; do
		! grep -aqF -- "$s" "$1" || die "$1 shows a secret of the key URL or the key itself ($s)"
	done
}

log "install with a LUKS2 data volume, TCG"
pxeboot --disk "$T/a.raw,serial=LUKS-A" --disk "$T/other.raw,serial=OTHER" \
	--mac "$MAC" --mem 1024 --no-reboot --timeout 1500 --fail-on "INSTALL FAILED" || die "the install did not finish"
expect_log "LUKS key for secure: http://10.0.2.100/keys/secure.key"
expect_log "sha256 verified"
expect_log "LUKS2 UUID"
expect_log "-> /dev/mapper/secure: ext4 for /srv/secure"
expect_log "crypttab: secure UUID="
expect_log "INSTALL COMPLETE"
no_secrets "$SERIAL"
grep -E '^\[ *[0-9.]+\] <== [a-z-]+ done in' "$SERIAL" | sed 's/^/  phase: /'
[ "$(sha256sum < "$T/other.raw")" = "$before" ] || die "the second disk changed during the install"
luks_uuid=$(grep -a 'crypttab: secure UUID=' "$SERIAL" | sed 's/.*UUID=\([0-9a-f-]*\).*/\1/' | head -1)
mv "$SERIAL" "$T/install.log"

log "boot the installed system"
pxeboot --boot-disk --disk "$T/a.raw,serial=LUKS-A" --disk "$T/other.raw,serial=OTHER" --mac "$MAC" --mem 1024 \
	--timeout 900 --expect "LUKSCHECK-END" || die "the installed system did not report (LUKS volume not unlocked?)"
line=$(grep -a 'LUKSCHECK src=' "$SERIAL" | grep -v 'echo' | tail -1)
[ -n "$line" ] || die "no LUKSCHECK line from the installed system"
log "installed system: $line"
want_canary=$(printf '%s\n' PLAINTEXTCANARY-7f3a | sha256sum | cut -c1-16)
for want in "src=/dev/mapper/secure" "type=LUKS2" "unit=active" "key=400" "dir=700" "owner=root" "crypttab=1" \
	"prompts=0" "canary=$want_canary"; do
	echo "$line" | grep -qF -- " $want " || die "installed system: expected $want in: $line"
done
no_secrets "$SERIAL"
[ "$(sha256sum < "$T/other.raw")" = "$before" ] || die "the second disk changed"

# From the host: a LUKS2 header at partition 3's start, with the UUID the
# installer put into crypttab, and the canary nowhere in plain text.
start=$(/sbin/sfdisk --json "$T/a.raw" | python3 -c 'import json,sys; t=json.load(sys.stdin)["partitiontable"]; print([p["start"] for p in t["partitions"] if p["node"].endswith("3")][0] * t.get("sectorsize", 512))')
dd if="$T/a.raw" of="$T/header.img" bs=1M skip=$((start / 1048576)) count=16 status=none
probe=$(/sbin/blkid -p "$T/header.img")
log "partition 3: $probe"
echo "$probe" | grep -q 'TYPE="crypto_LUKS"' || die "no LUKS header on partition 3"
echo "$probe" | grep -q 'VERSION="2"' || die "the LUKS header is not LUKS2"
/sbin/cryptsetup luksDump "$T/header.img" > "$T/luksdump.txt" || die "cryptsetup luksDump cannot read the header"
grep -q "^Version:.*2" "$T/luksdump.txt" || die "luksDump: not version 2"
grep -q "^UUID:.*$luks_uuid" "$T/luksdump.txt" || die "luksDump: UUID differs from crypttab's $luks_uuid"
! grep -aqF PLAINTEXTCANARY-7f3a "$T/a.raw" || die "the canary is readable in plain text on the disk"
log "ok: LUKS2 data volume unlocked at boot by its key file from crypttab, no prompt, encrypted on disk; no secret on the console; the second disk is untouched"
