#!/bin/bash
# Signed profiles end to end (docs/trust.md): installer keygen -> sign ->
# verify, the signature checked independently with openssl; validate and plan
# --keys on a profile file with an include (good; one flipped byte, a changed
# fragment, a missing signature, a foreign key, an expired and a revoked key,
# a malformed keyring: refused with exit 9 and a clear message); key rotation;
# ipxe/mkwww.sh and rootfs/mkusb.sh --sign-key sign what they publish;
# `installer run --keys` against a loopback HTTP server (qemu/serve.sh) on a
# recorded machine whose disk is an image file: the signed profile plans
# (--dry-run), an unsigned, tampered or foreign-signed one is refused before
# it is parsed, exit 9, and the disk image is byte for byte unchanged; a
# LUKS key file is verified before any write.
. "$(dirname "$0")/lib.sh"
SHA=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
K=$T/keys
mkdir -p "$K" "$T/p/site"

# --- keys ---------------------------------------------------------------------
expect_rc 0 "$INSTALLER" keygen --name site-2026 "$K/site-2026.key"
cp "$T/out" "$K/trusted.keys"
expect_in "$T/err" "wrote the private key $K/site-2026.key (mode 0600)"
[ "$(stat -c %a "$K/site-2026.key")" = 600 ] || die "the private key is not mode 0600"
grep -q '^-----BEGIN PRIVATE KEY-----$' "$K/site-2026.key" || die "the key is not a PEM PRIVATE KEY"
expect_rc 1 "$INSTALLER" keygen --name again "$K/site-2026.key"  # never over an existing key
# The keyring line holds the raw public key, as openssl sees it.
pub=$(openssl pkey -in "$K/site-2026.key" -pubout -outform DER | tail -c 32 | base64)
grep -qxF "ed25519 $pub name=site-2026" "$K/trusted.keys" || die "keyring line: $(cat "$K/trusted.keys")"
# A key made by openssl, for the rotation and the foreign-key cases.
openssl genpkey -algorithm ed25519 -out "$K/other.pem" 2>/dev/null
expect_rc 0 "$INSTALLER" keygen --public --name other "$K/other.pem"
cp "$T/out" "$K/other.keys"
expect_rc 0 "$INSTALLER" verify --keys "$K/trusted.keys"
expect_in "$T/out" "name=site-2026"

# --- a profile with an include, signed -------------------------------------------
cat > "$T/p/site/base.yaml" <<YAML
disk: { wipe: true, partitions: [ { size: rest, mount: / } ] }
image: { url: http://h/i.tar.zst, sha256: $SHA }
YAML
printf 'version: 1\ninclude: [site/base.yaml]\nhostname: web01\n' > "$T/p/web.yaml"
expect_rc 0 "$INSTALLER" sign --key "$K/site-2026.key" "$T/p/web.yaml" "$T/p/site/base.yaml"
[ "$(head -1 "$T/p/web.yaml.sig")" = "installer-signature 1" ] || die "signature file header"
[ "$(wc -l < "$T/p/web.yaml.sig")" = 6 ] || die "a signature file has 6 lines"
# openssl agrees: the signature is Ed25519 over the five lines before it.
head -n 5 "$T/p/web.yaml.sig" > "$T/signed-part"
sed -n 's/^signature: //p' "$T/p/web.yaml.sig" | base64 -d > "$T/sig.bin"
openssl pkey -in "$K/site-2026.key" -pubout -out "$K/site-2026.pub"
openssl pkeyutl -verify -pubin -inkey "$K/site-2026.pub" -rawin -in "$T/signed-part" -sigfile "$T/sig.bin" \
	>/dev/null || die "openssl does not verify the signature"
grep -qx "sha256: $(sha256sum < "$T/p/web.yaml" | cut -d' ' -f1)" "$T/p/web.yaml.sig" || die "sha256 line"
grep -qx "size: $(stat -c %s "$T/p/web.yaml")" "$T/p/web.yaml.sig" || die "size line"

expect_rc 0 "$INSTALLER" verify --keys "$K/trusted.keys" "$T/p/web.yaml"
expect_in "$T/out" "$T/p/web.yaml: good signature by key "
expect_rc 0 "$INSTALLER" validate --keys "$K/trusted.keys" "$T/p/web.yaml"
expect_in "$T/out" "$T/p/web.yaml: valid, signatures good (2 documents)"
expect_rc 0 "$INSTALLER" plan --keys "$K/trusted.keys" --profile "$T/p/web.yaml" --sysroot "$ROOT/tests/data/sysroot/virtio-host"
expect_in "$T/err" "signatures good (2 documents)"
expect_in "$T/out" "Target:     /dev/vda"
# Without --keys nothing is checked (as before).
expect_rc 0 "$INSTALLER" validate "$T/p/web.yaml"

# --- refusals -----------------------------------------------------------------------
keep() { cp "$T/p/$1" "$T/p/$1.good"; cp "$T/p/$1.sig" "$T/p/$1.sig.good"; }
restore() { cp "$T/p/$1.good" "$T/p/$1"; cp "$T/p/$1.sig.good" "$T/p/$1.sig"; }
keep web.yaml
keep site/base.yaml
# One flipped byte (web01 -> veb01): refused, not parsed.
python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); i = b.index(b"web01"); b[i] ^= 1; open(p, "wb").write(b)' "$T/p/web.yaml"
expect_rc 9 "$INSTALLER" validate --keys "$K/trusted.keys" "$T/p/web.yaml"
expect_in "$T/err" "$T/p/web.yaml: signature refused: the document's sha256 differs from the one key "
expect_rc 9 "$INSTALLER" plan --keys "$K/trusted.keys" --profile "$T/p/web.yaml" --sysroot "$ROOT/tests/data/sysroot/virtio-host"
expect_in "$T/err" "signature refused"
! grep -q "Target:" "$T/out" || die "a plan from a tampered profile"
restore web.yaml
# A fragment changed after signing: refused at its include.
sed -i 's/rest/10G/' "$T/p/site/base.yaml"
expect_rc 9 "$INSTALLER" validate --keys "$K/trusted.keys" "$T/p/web.yaml"
expect_in "$T/err" "$T/p/site/base.yaml: signature refused: the document is "
expect_in "$T/err" "include[0]: cannot include 'site/base.yaml': its signature was refused"
restore site/base.yaml
# No signature.
rm "$T/p/web.yaml.sig"
expect_rc 9 "$INSTALLER" validate --keys "$K/trusted.keys" "$T/p/web.yaml"
expect_in "$T/err" "$T/p/web.yaml: signature refused: no signature ($T/p/web.yaml.sig does not exist)"
restore web.yaml
# Signed with a key the keyring does not hold.
"$INSTALLER" sign --key "$K/other.pem" "$T/p/web.yaml" >/dev/null
expect_rc 9 "$INSTALLER" validate --keys "$K/trusted.keys" "$T/p/web.yaml"
expect_in "$T/err" "which is not a trusted key"
restore web.yaml
# The key past its not-after date, or revoked.
sed 's/$/ not-after=2020-01-01/' "$K/trusted.keys" > "$K/expired.keys"
expect_rc 9 "$INSTALLER" validate --keys "$K/expired.keys" "$T/p/web.yaml"
expect_in "$T/err" "(site-2026), which was good until 2020-01-01 (today is "
sed 's/$/ revoked/' "$K/trusted.keys" > "$K/revoked.keys"
expect_rc 9 "$INSTALLER" validate --keys "$K/revoked.keys" "$T/p/web.yaml"
expect_in "$T/err" "(site-2026), which is revoked"
# A malformed keyring, and one without keys: an error, never "no check".
printf '# keys\ned25519 AAAA name=x\n' > "$K/bad.keys"
expect_rc 9 "$INSTALLER" validate --keys "$K/bad.keys" "$T/p/web.yaml"
expect_in "$T/err" "$K/bad.keys:2:9: not the base64 of a 32-byte Ed25519 public key"
printf '# none yet\n' > "$K/empty.keys"
expect_rc 9 "$INSTALLER" validate --keys "$K/empty.keys" "$T/p/web.yaml"
expect_in "$T/err" "no keys: nothing could be verified"

# --- rotation: old and new key side by side, then the old one removed ----------
cat "$K/trusted.keys" "$K/other.keys" > "$K/rotating.keys"
"$INSTALLER" sign --key "$K/other.pem" "$T/p/site/base.yaml" >/dev/null   # new key
expect_rc 0 "$INSTALLER" validate --keys "$K/rotating.keys" "$T/p/web.yaml"
expect_rc 9 "$INSTALLER" validate --keys "$K/other.keys" "$T/p/web.yaml"   # web.yaml: old key only
expect_in "$T/err" "$T/p/web.yaml: signature refused: signed by key "
"$INSTALLER" sign --key "$K/other.pem" "$T/p/web.yaml" >/dev/null
expect_rc 0 "$INSTALLER" validate --keys "$K/other.keys" "$T/p/web.yaml"
restore web.yaml
restore site/base.yaml

# --- what the build publishes: make www / make usb with SIGN_KEY ------------------
head -c 1000 /dev/urandom > "$T/vmlinuz"
head -c 1000 /dev/urandom > "$T/initrd.img"
mkdir -p "$T/os/etc" && echo stand-in > "$T/os/etc/hostname"
tar -C "$T/os" -cf - . | zstd -q > "$T/os.tar.zst"
mkdir -p "$T/src/serial"
printf 'version: 1\nhostname: a\ndisk: { partitions: [ { size: rest, mount: / } ] }\nimage: { url: ../images/os.tar.zst, sha256: "@IMAGE_SHA256@" }\n' > "$T/src/default.yaml"
printf 'version: 1\nhostname: b\ndisk: { partitions: [ { size: rest, mount: / } ] }\nimage: { url: ../../images/os.tar.zst, sha256: "@IMAGE_SHA256@" }\n' > "$T/src/serial/S1.yaml"
echo stale > "$T/src/default.yaml.sig"
# A manifest beside the image (docs/manifest.md; made by mkwww itself once
# it publishes manifests) is signed too.
mkdir -p "$T/pub/images" && printf 'installer-manifest 1\n' > "$T/pub/images/os.tar.zst.manifest"
expect_rc 0 "$ROOT/ipxe/mkwww.sh" --boot-url http://127.0.0.1/ --kernel "$T/vmlinuz" --initrd "$T/initrd.img" \
	--profiles "$T/src" --out "$T/pub" --image "$T/os.tar.zst" --sign-key "$K/site-2026.key" --installer "$INSTALLER"
expect_in "$T/out" "mkwww: signed 2 profiles and 1 image manifests with $K/site-2026.key"
expect_rc 0 "$INSTALLER" verify --keys "$K/trusted.keys" "$T/pub/images/os.tar.zst.manifest"
expect_rc 0 "$INSTALLER" verify --keys "$K/trusted.keys" "$T/pub/profiles/default.yaml" "$T/pub/profiles/serial/S1.yaml"
grep -q "sha256: \"$(sha256sum < "$T/os.tar.zst" | cut -d' ' -f1)\"" "$T/pub/profiles/default.yaml" ||
	die "mkwww signed the profile before filling in @IMAGE_SHA256@"
if command -v xorriso >/dev/null && command -v mcopy >/dev/null; then
	expect_rc 0 "$ROOT/rootfs/mkusb.sh" --kernel "$T/vmlinuz" --initrd "$T/initrd.img" --image "$T/os.tar.zst" \
		--installer "$INSTALLER" --profile "$T/src" --out "$T/usb/m.iso" --sign-key "$K/site-2026.key"
	mkdir -p "$T/medium"
	for f in default.yaml default.yaml.sig; do
		xorriso -osirrox on -indev "$T/usb/m.iso" -extract "/profiles/$f" "$T/medium/$f" >/dev/null 2>&1 ||
			die "/profiles/$f is not on the medium"
	done
	expect_rc 0 "$INSTALLER" verify --keys "$K/trusted.keys" "$T/medium/default.yaml"
	# The image's manifest is on the medium beside it, signed.
	for f in os.tar.zst.manifest os.tar.zst.manifest.sig; do
		xorriso -osirrox on -indev "$T/usb/m.iso" -extract "/images/$f" "$T/medium/$f" >/dev/null 2>&1 ||
			die "/images/$f is not on the medium"
	done
	expect_rc 0 "$INSTALLER" verify --keys "$K/trusted.keys" "$T/medium/os.tar.zst.manifest"
	expect_rc 0 "$INSTALLER" manifest --check "$T/medium/os.tar.zst.manifest" "$T/os.tar.zst"
fi

# --- installer run over HTTP, a disk image that must stay untouched ------------
S=$T/sysroot
cp -a "$ROOT/tests/data/sysroot/virtio-host" "$S"
mkdir -p "$S/dev"
truncate -s 64M "$S/dev/vda"
printf 'label: gpt\nstart=2048, size=20480, type=L\n' | /sbin/sfdisk -q "$S/dev/vda"
DISK_SHA=$(sha256sum < "$S/dev/vda")
mkdir -p "$T/www"
PORT=$("$ROOT/qemu/serve.sh" start --dir "$T/www" --pidfile "$T/pid" 2>/dev/null)
trap '"$ROOT/qemu/serve.sh" stop --pidfile "$T/pid"; cli_cleanup' EXIT
cp -R "$T/p/." "$T/www/"
# With trusted keys the image's manifest is mandatory (image.url +
# ".manifest", signed): an image on this server, its manifest, and base.yaml
# pointing at it, signed again.
head -c 300000 /dev/urandom > "$T/www/i.tar.zst"
ISHA=$(sha256sum < "$T/www/i.tar.zst" | cut -d' ' -f1)
expect_rc 0 "$INSTALLER" manifest --chunk-size 64K "$T/www/i.tar.zst" -o "$T/www/i.tar.zst.manifest"
cat > "$T/www/site/base.yaml" <<YAML
disk: { wipe: true, partitions: [ { size: rest, mount: / } ] }
image: { url: http://127.0.0.1:$PORT/i.tar.zst, sha256: $ISHA }
YAML
"$INSTALLER" sign --key "$K/site-2026.key" "$T/www/site/base.yaml" >/dev/null
# Every profile run without --dry-run below is also for another machine
# (match:): should its signature ever pass by mistake, the run stops at
# exit 8 before any write instead of going on to a disk.
printf 'version: 1\ninclude: [site/base.yaml]\nhostname: trap\nmatch: { serial: NOT-THIS-MACHINE }\n' > "$T/www/trap.yaml"
"$INSTALLER" sign --key "$K/site-2026.key" "$T/www/trap.yaml" >/dev/null
run() { # PROFILE [ARGS...]
	local p=$1
	shift
	INSTALLER_PROC_CMDLINE="inst.profile=http://127.0.0.1:$PORT/$p?token=t0k3n" \
		"$INSTALLER" run --sysroot "$S" --keys "$K/trusted.keys" "$@"
}
disk_unchanged() { [ "$(sha256sum < "$S/dev/vda")" = "$DISK_SHA" ] || die "the disk image changed"; }

# The image's manifest unsigned: refused before any write (exit 9).
expect_rc 9 run web.yaml --dry-run
expect_in "$T/out" "i.tar.zst.manifest: signature refused: no signature"
expect_in "$T/out" "no manifest; nothing was written to any disk"
disk_unchanged
# Signed by a key that is not trusted: refused too.
"$INSTALLER" sign --key "$K/other.pem" "$T/www/i.tar.zst.manifest" >/dev/null
expect_rc 9 run web.yaml --dry-run
expect_in "$T/out" "which is not a trusted key"
"$INSTALLER" sign --key "$K/site-2026.key" "$T/www/i.tar.zst.manifest" >/dev/null
# The signed profile (and fragment) plans; the .sig URL keeps the query.
expect_rc 0 run web.yaml --dry-run
expect_in "$T/out" "image: 300000 bytes, 5 chunks of 64 KiB, manifest sha256 "
expect_in "$T/out" "signatures: required on the profile"
expect_in "$T/out" "hostname web01"
grep -q "fetch-profile done .*/web.yaml (53 bytes, sha256 [0-9a-f]\{64\}, signed by key [0-9a-f]\{16\} site-2026)" "$T/out" ||
	die "the fetch-profile line does not name the key"
grep -q "profile fragment .*/site/base.yaml (.*, signed by key [0-9a-f]\{16\} site-2026)" "$T/out" ||
	die "the fragment line does not name the key"
disk_unchanged
# The trap profile is signed: it gets as far as its match: check (exit 8).
expect_rc 8 run trap.yaml
disk_unchanged
# Unsigned: refused before it is parsed, nothing written.
rm "$T/www/trap.yaml.sig"
expect_rc 9 run trap.yaml
expect_in "$T/out" "http://127.0.0.1:$PORT/trap.yaml: signature refused: no signature (http://127.0.0.1:$PORT/trap.yaml.sig: not found)"
expect_in "$T/out" "nothing was written to any disk"
! grep -q "t0k3n" "$T/out" "$T/err" || die "the URL's query was printed"
! grep -q "==> match" "$T/out" || die "the unsigned profile was parsed"
disk_unchanged
# Tampered (one byte) after signing.
"$INSTALLER" sign --key "$K/site-2026.key" "$T/www/trap.yaml" >/dev/null
sed -i 's/hostname: trap/hostname: tram/' "$T/www/trap.yaml"
expect_rc 9 run trap.yaml
expect_in "$T/out" "trap.yaml: signature refused: the document's sha256 differs"
disk_unchanged
# Signed by a key not in the boot image's keyring.
"$INSTALLER" sign --key "$K/other.pem" "$T/www/trap.yaml" >/dev/null
expect_rc 9 run trap.yaml
expect_in "$T/out" "which is not a trusted key"
disk_unchanged
# A good profile whose fragment is unsigned: refused at the include.
"$INSTALLER" sign --key "$K/site-2026.key" "$T/www/trap.yaml" >/dev/null
rm "$T/www/site/base.yaml.sig"
expect_rc 9 run trap.yaml
expect_in "$T/out" "site/base.yaml: signature refused: no signature"
expect_in "$T/out" "cannot include 'site/base.yaml': its signature was refused"
disk_unchanged
# A LUKS key file (recorded machine with an NVMe disk, dry run): fetched
# and verified before anything is written; unsigned -> exit 9, the key's
# text never shown.
KEY=CorrectHorseBatteryStaple-signed-key
printf '%s\n' "$KEY" > "$T/www/secure.key"
KEYSHA=$(sha256sum < "$T/www/secure.key" | cut -d' ' -f1)
cat > "$T/www/luks.yaml" <<YAML
version: 1
hostname: crypt01
disk:
  select: { transport: nvme }
  partitions:
    - { size: 2GiB, mount: /, fs: ext4 }
    - { size: 1GiB, fs: ext4, mount: /srv/secure, luks: { name: secure, key_url: "http://127.0.0.1:$PORT/secure.key?token=t0k3n", key_sha256: $KEYSHA } }
image: { url: http://127.0.0.1:$PORT/i.tar.zst, sha256: $ISHA }
YAML
"$INSTALLER" sign --key "$K/site-2026.key" "$T/www/luks.yaml" >/dev/null
luks_run() {
	INSTALLER_PROC_CMDLINE="inst.profile=http://127.0.0.1:$PORT/luks.yaml" \
		"$INSTALLER" run --sysroot "$ROOT/tests/data/sysroot/nvme-sata-usb" --keys "$K/trusted.keys" --dry-run
}
expect_rc 9 luks_run
expect_in "$T/out" "error: disk.partitions[1].luks.key_url: the key file of LUKS volume secure: http://127.0.0.1:$PORT/secure.key: signature refused: no signature"
expect_in "$T/out" "no key; nothing was written to any disk"
! grep -qF -e "$KEY" -e t0k3n "$T/out" "$T/err" || die "the output shows the key or the URL's query"
"$INSTALLER" sign --key "$K/site-2026.key" "$T/www/secure.key" >/dev/null
expect_rc 0 luks_run
expect_in "$T/out" "LUKS key for secure: http://127.0.0.1:$PORT/secure.key, $(stat -c %s "$T/www/secure.key") bytes"
! grep -qF -e "$KEY" -e t0k3n "$T/out" "$T/err" || die "the output shows the key or the URL's query"
# Changed after signing: refused for its signature (before key_sha256 is compared).
printf 'another-key-entirely\n' > "$T/www/secure.key"
expect_rc 9 luks_run
expect_in "$T/out" "secure.key: signature refused: the document is "

# Without trusted keys (no --keys: this host has no /etc/installer/trusted.keys)
# nothing is checked, and the console says so.
[ ! -e /etc/installer/trusted.keys ] || die "this host has /etc/installer/trusted.keys: cannot test the no-keys case"
rm -f "$T/www/web.yaml.sig"
INSTALLER_PROC_CMDLINE="inst.profile=http://127.0.0.1:$PORT/web.yaml" expect_rc 0 "$INSTALLER" run --sysroot "$S" --dry-run
expect_in "$T/out" "signatures: not checked (no trusted keys in this boot image)"
disk_unchanged
echo ok
