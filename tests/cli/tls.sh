#!/bin/bash
# https with a pinned site CA (docs/tls.md), against real TLS servers on
# 127.0.0.1 (tests/cli/tls-server.py, Python's ssl) and CAs made here with
# openssl. `installer run --dry-run` on a recorded machine fetches its
# profile, fragment and LUKS key over https; image-fetch streams an image.
#   - the site CA ($INSTALLER_SITE_CA, the test seam for
#     /etc/installer/site-ca.pem): a server it signed works;
#   - a server of another CA, an expired certificate, a certificate for
#     another host name: refused (exit 5) with the reason and the redacted
#     URL, no credentials or query shown, never retried;
#   - an http URL redirected to https meets the same CAs;
#   - the clock: $INSTALLER_TEST_NOW=0 (1970) is refused before any TLS
#     handshake; the same variable on the kernel command line is ignored;
#   - the profile's tls.ca: a CA fetched over the trusted channel and pinned
#     by sha256 makes a third server trusted; a wrong pin is refused with
#     file:line:column (exit 7) and adds nothing;
#   - with a site CA the system bundle is not used (in a mount namespace
#     whose system bundle holds the other CA; skipped without unshare -m).
. "$(dirname "$0")/lib.sh"
SYSROOT=$ROOT/tests/data/sysroot/nvme-sata-usb
TOOL=${IMAGE_FETCH:-$ROOT/build/tests/tools/image-fetch}
[ -x "$TOOL" ] || make -C "$ROOT" -s "build/tests/tools/image-fetch" >/dev/null
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
SHA=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

# --- CAs and certificates ------------------------------------------------------------
cd "$T"
ossl() { timeout 60 openssl "$@" 2>>"$T/openssl.log" || die "openssl $1 failed: $(tail -3 "$T/openssl.log")"; }
mkca() { # NAME
	ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.pem" \
		-days 30 -subj "/CN=Test $1" -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() { # NAME CA SAN DAYS
	ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1"
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" > "$1.ext"
	ossl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -set_serial "$RANDOM$RANDOM" -days "$4" \
		-extfile "$1.ext" -out "$1.pem"
}
mkca siteca
mkca otherca
mkca extraca
leaf good siteca "IP:127.0.0.1,DNS:localhost" 2
leaf foreign otherca "IP:127.0.0.1,DNS:localhost" 2
leaf expired siteca "IP:127.0.0.1,DNS:localhost" -1
leaf wrongname siteca "DNS:other.example" 2
leaf extra extraca "IP:127.0.0.1,DNS:localhost" 2
openssl x509 -in expired.pem -noout -checkend 0 >/dev/null 2>&1 && die "the expired certificate is not expired"
EXTRA_SHA=$(openssl x509 -in extraca.pem -outform DER | sha256sum | cut -d' ' -f1)
cd - >/dev/null

# --- what the servers serve ----------------------------------------------------------
mkdir -p "$T/www/site" "$T/www/ca"
KEY="CorrectHorseBatteryStaple-luks-key"
printf '%s\n' "$KEY" > "$T/www/secure.key"
cp "$T/extraca.pem" "$T/www/ca/extra.pem"
cat > "$T/www/site/base.yaml" <<YAML
version: 1
disk: { select: { transport: nvme }, partitions: [ { size: rest, mount: / } ] }
image: { url: http://h/i.tar.zst, sha256: $SHA }
YAML
# p.yaml: plain (a fragment over https). luks.yaml: its LUKS key from the
# server of the extra CA (KEYURL), the CA pinned or not (TLS block).
printf 'include: [site/base.yaml]\nhostname: tls01\n' > "$T/www/p.yaml"
luks_profile() { # KEYURL [CA-SHA]
	cat <<YAML
version: 1
hostname: tls02
disk:
  select: { transport: nvme }
  partitions:
    - { size: 2GiB, mount: /, fs: ext4 }
    - { size: 1GiB, fs: ext4, mount: /srv, luks: { name: secure, key_url: "$1" } }
image: { url: http://h/i.tar.zst, sha256: $SHA }
YAML
	[ -z "${2:-}" ] || printf 'tls:\n  ca:\n    - url: ca/extra.pem\n      sha256: %s\n' "$2"
}
mkdir -p "$T/src/etc"
head -c 50000 /dev/urandom > "$T/src/etc/blob"
tar -C "$T/src" -cf - . | zstd -q -o "$T/www/img.tar.zst"
IMGSHA=$(sha256sum "$T/www/img.tar.zst" | cut -d' ' -f1)

start_bg tls "$T/ports" "$PY" "$ROOT/tests/cli/tls-server.py" --dir "$T/www" --ports "$T/ports" --log "$T/req.log" \
	good="$T/good.pem:$T/good.key" foreign="$T/foreign.pem:$T/foreign.key" \
	expired="$T/expired.pem:$T/expired.key" wrongname="$T/wrongname.pem:$T/wrongname.key" \
	extra="$T/extra.pem:$T/extra.key" plain=
port() { awk -v n="$1" '$1 == n {print $2}' "$T/ports"; }
GOOD=https://127.0.0.1:$(port good)
FOREIGN=https://127.0.0.1:$(port foreign)
EXPIRED=https://127.0.0.1:$(port expired)
WRONGNAME=https://127.0.0.1:$(port wrongname)
EXTRA=https://127.0.0.1:$(port extra)
PLAIN=http://127.0.0.1:$(port plain)
: > "$T/req.log"

export INSTALLER_SITE_CA=$T/siteca.pem
run() { # URL [more kernel command line]
	INSTALLER_PROC_CMDLINE="inst.profile=$1${2:+ $2}" timeout 120 "$INSTALLER" run --sysroot "$SYSROOT" --dry-run
}
requests() { grep -c "^$1 " "$T/req.log" || true; }
no_secrets() {
	for s in s3cret tok3n "$KEY"; do
		! grep -qF -- "$s" "$T/out" "$T/err" || die "the output shows '$s'"
	done
}

# 1. The site CA's server: the profile and its fragment over https.
expect_rc 0 run "https://op:s3cret@127.0.0.1:$(port good)/p.yaml?t=tok3n"
expect_in "$T/out" "https: verified against the site CA 'CN = Test siteca'"
expect_in "$T/out" "from $T/siteca.pem only, not the public CA bundle"
expect_in "$T/out" "profile fragment $GOOD/site/base.yaml ("
expect_in "$T/out" "profile valid: hostname tls01"
no_secrets
[ "$(requests good)" -eq 2 ] || die "expected 2 requests to the good server: $(cat "$T/req.log")"
echo "ok: right CA"

# 2. Refused: another CA, expired, another host name. Exit 5, the redacted
# URL and the reason, one attempt (a certificate does not get better).
refused() { # NAME BASE REASON
	expect_rc 5 run "https://op:s3cret@${2#https://}/p.yaml?t=tok3n"
	expect_in "$T/out" "Cannot fetch profile $2/p.yaml: TLS certificate refused: $3"
	expect_in "$T/out" "trusted: the site CA 'CN = Test siteca'"
	no_secrets
	! grep -q "attempt 2 of" "$T/out" "$T/err" || die "$1: a refused certificate was tried again"
	[ "$(requests "$1")" -eq 0 ] || die "$1: a request got through: $(cat "$T/req.log")"
	echo "ok: $1 refused: $(grep -o 'TLS certificate refused: [^(]*' "$T/out" | head -1)"
}
refused foreign "$FOREIGN" "the server's certificate is not signed by a trusted CA"
refused expired "$EXPIRED" "a certificate of the server's chain has expired"
refused wrongname "$WRONGNAME" "the server's certificate is for another host name"

# An http URL redirected to https meets the same CAs: the site CA's server
# is reached (the system bundle does not know its CA), another CA's is not.
expect_rc 0 run "$PLAIN/go/good/p.yaml"
expect_in "$T/out" "profile valid: hostname tls01"
expect_rc 5 run "$PLAIN/go/foreign/p.yaml"
expect_in "$T/out" "Cannot fetch profile $PLAIN/go/foreign/p.yaml: TLS certificate refused: the server's certificate is not signed by a trusted CA"
echo "ok: http redirected to https: the site CA's server works, another CA's is refused"

# 3. The image stream (fetch_stream) under the same rules.
rm -rf "$T/root" && mkdir "$T/root"
expect_rc 0 timeout 60 "$TOOL" --sha256 "$IMGSHA" --attempts 3 "$GOOD/img.tar.zst" "$T/root"
cmp -s "$T/root/etc/blob" "$T/src/etc/blob" || die "the image over https was not extracted"
rm -rf "$T/root" && mkdir "$T/root"
expect_rc 1 timeout 60 "$TOOL" --sha256 "$IMGSHA" --attempts 3 "$FOREIGN/img.tar.zst?t=tok3n" "$T/root"
expect_in "$T/out" "result: EPROTO "
grep -qF "$FOREIGN/img.tar.zst: TLS certificate refused: the server's certificate is not signed by a trusted CA" \
	"$T/out" "$T/err" || { cat "$T/out" "$T/err"; die "image: no clear refusal"; }
no_secrets
echo "ok: image stream: right CA works, another CA refused"

# 4. The clock: 1970 is refused before any handshake.
: > "$T/req.log"
INSTALLER_TEST_NOW=0 expect_rc 5 run "$GOOD/p.yaml"
expect_in "$T/out" "Cannot fetch profile $GOOD/p.yaml: this machine's clock says 1970-01-01T00:00:00Z, before this installer was built"
expect_in "$T/out" "set the clock (firmware setup or BMC)"
[ ! -s "$T/req.log" ] || die "a request was made with the clock in 1970: $(cat "$T/req.log")"
# The seams are never taken from the kernel command line (/init gets such
# words as environment variables): with one there, both are ignored (no
# clock error; and no site CA here: the system bundle refuses the server).
INSTALLER_TEST_NOW=0 expect_rc 5 run "$GOOD/p.yaml" "INSTALLER_TEST_NOW=0"
expect_in "$T/err" "the kernel command line names INSTALLER_ variables, and test settings are never taken from there"
expect_in "$T/out" "https: no site CA in this boot image (/etc/installer/site-ca.pem)"
! grep -q "clock says" "$T/out" || die "the clock seam was taken from the kernel command line"
echo "ok: clock in 1970 refused; the seam is ignored when the kernel command line names it"

# 5. The profile's tls.ca. Without it, the extra CA's server is refused.
luks_profile "$EXTRA/secure.key" > "$T/www/luks.yaml"
expect_rc 5 run "$GOOD/luks.yaml"
expect_in "$T/out" "cannot fetch the key file of LUKS volume secure: $EXTRA/secure.key: TLS certificate refused: the server's certificate is not signed by a trusted CA"
# A wrong pin: exit 7 at the tls.ca entry, and the key is never fetched.
: > "$T/req.log"
luks_profile "$EXTRA/secure.key" "${EXTRA_SHA%?}0" > "$T/www/luks.yaml"
[ "${EXTRA_SHA%?}0" != "$EXTRA_SHA" ] || luks_profile "$EXTRA/secure.key" "${EXTRA_SHA%?}1" > "$T/www/luks.yaml"
expect_rc 7 run "$GOOD/luks.yaml"
expect_in "$T/out" "$GOOD/luks.yaml:11:7: error: tls.ca[0]: $GOOD/ca/extra.pem: the certificate 'CN = Test extraca' does not match the pinned sha256: expected"
expect_in "$T/out" "got $EXTRA_SHA"
[ "$(requests extra)" -eq 0 ] || die "the key was fetched although the CA pin failed"
# The right pin: the CA is trusted from then on, the key is fetched.
luks_profile "$EXTRA/secure.key" "$EXTRA_SHA" > "$T/www/luks.yaml"
expect_rc 0 run "$GOOD/luks.yaml"
expect_in "$T/out" "tls: CA 'CN = Test extraca' (sha256 $EXTRA_SHA) trusted for https, as the profile pins it"
expect_in "$T/out" "LUKS key for secure: $EXTRA/secure.key"
grep -q "^good GET /ca/extra.pem" "$T/req.log" || die "the CA was not fetched from the profile's server"
[ "$(requests extra)" -eq 1 ] || die "the key was not fetched from the extra CA's server"
no_secrets
echo "ok: tls.ca pinned by sha256: wrong pin refused (7), right pin trusted"

# 6. A site CA file that is not a certificate: every https request fails
# (never a fallback to the system bundle).
echo "not a certificate" > "$T/broken.pem"
INSTALLER_SITE_CA=$T/broken.pem expect_rc 5 run "$GOOD/p.yaml"
expect_in "$T/out" "site CA $T/broken.pem: no PEM certificate in it"
expect_in "$T/out" "no https request is made without it"
echo "ok: an unusable site CA fails closed"

# 7. With a site CA the system bundle is not used: in a mount namespace whose
# system bundle (and hashed directory) trusts only the other CA, the other
# CA's server is refused with the site CA and accepted without one.
BUNDLE=/etc/ssl/certs/ca-certificates.crt
if timeout 10 unshare -m --propagation private true 2>/dev/null && [ -f "$BUNDLE" ]; then
	mkdir -p "$T/certs"
	cp "$T/otherca.pem" "$T/certs/ca-certificates.crt"
	cp "$T/otherca.pem" "$T/certs/$(openssl x509 -in "$T/otherca.pem" -noout -subject_hash).0"
	ns_run() { # SITE_CA URL
		INSTALLER_SITE_CA=$1 INSTALLER_PROC_CMDLINE="inst.profile=$2" timeout 120 unshare -m --propagation private \
			sh -c 'mount --bind "$1" /etc/ssl/certs && shift && exec "$@"' sh "$T/certs" \
			"$INSTALLER" run --sysroot "$SYSROOT" --dry-run
	}
	expect_rc 0 ns_run "$T/none.pem" "$FOREIGN/p.yaml"
	expect_in "$T/out" "https: no site CA in this boot image ($T/none.pem): verified against the system CA bundle"
	expect_rc 5 ns_run "$T/siteca.pem" "$FOREIGN/p.yaml"
	expect_in "$T/out" "TLS certificate refused: the server's certificate is not signed by a trusted CA"
	echo "ok: the system bundle trusts the other CA, the site CA pin does not"
	# Without a site CA, tls.ca adds to the system bundle (the bundle file
	# alone now: no hashed directory): after the CA is added, a key from the
	# extra CA's server and one from the bundle's server both arrive.
	rm "$T/certs/"*.0
	luks_profile "$EXTRA/secure.key" "$EXTRA_SHA" > "$T/www/luks-extra.yaml"
	luks_profile "$FOREIGN/secure.key" "$EXTRA_SHA" > "$T/www/luks-bundle.yaml"
	expect_rc 0 ns_run "$T/none.pem" "$FOREIGN/luks-extra.yaml"
	expect_in "$T/out" "tls: CA 'CN = Test extraca' (sha256 $EXTRA_SHA) trusted for https"
	expect_in "$T/out" "LUKS key for secure: $EXTRA/secure.key"
	expect_rc 0 ns_run "$T/none.pem" "$FOREIGN/luks-bundle.yaml"
	expect_in "$T/out" "LUKS key for secure: $FOREIGN/secure.key"
	echo "ok: without a site CA, tls.ca is added to the system bundle"
else
	echo "SKIP: the system bundle case needs unshare -m (root)"
fi
echo ok
