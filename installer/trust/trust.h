/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Signed documents (docs/trust.md): a keyring of trusted Ed25519 public
 * keys, detached signature files, and verification before a document is
 * parsed. The crypto is OpenSSL's (EVP_PKEY Ed25519, EVP_DigestSign/Verify
 * with no digest); this module only parses the two text formats and wraps
 * libcrypto at its edge.
 *
 * Every refusal is one of these errnos (trust_is_refusal() says so) with a
 * one-line *ret_error naming the document (a redacted URL or a path):
 *   -ENOMSG        no signature (the .sig is missing: 404, no such file)
 *   -EBADE         malformed signature file (the message names the line)
 *   -ENOKEY        signed by a key that is not in the keyring
 *   -EKEYREVOKED   signed by a key marked "revoked"
 *   -EKEYEXPIRED   signed by a key past its not-after date
 *   -EKEYREJECTED  the Ed25519 signature does not verify
 *   -EUCLEAN       size or sha256 differ from the signed ones (the document
 *                  changed after it was signed: one flipped byte)
 * The installer's exit status for all of them is 9 (EXIT_SIGNATURE,
 * docs/installer.md). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"
#include "fetch/fetch.h"

/* The keyring built into the boot image (make SITE_KEYS=...). Absent or
 * without keys: nothing is verified. */
#define TRUST_KEYRING_PATH "/etc/installer/trusted.keys"
#define TRUST_KEYRING_MAX_SIZE (1024 * 1024)
/* A signature file is about 250 bytes; larger ones are malformed. */
#define TRUST_SIG_MAX_SIZE 4096
#define TRUST_KEY_ID_LEN 16
#define TRUST_NAME_MAX 64

typedef struct TrustKey {
        unsigned char pub[32];            /* raw Ed25519 public key */
        char id[TRUST_KEY_ID_LEN + 1];    /* first 8 bytes of sha256(pub), lower-case hex */
        char *name;                       /* name=, [A-Za-z0-9._-], at most TRUST_NAME_MAX */
        char not_after[11];               /* "YYYY-MM-DD" or "" */
        int64_t end;                      /* not-after: first second (UTC) the key is no
                                           * longer good, the day after not-after; 0: none */
        bool revoked;
        unsigned line;                    /* in the keyring file */
} TrustKey;

typedef struct TrustKeyring {
        TrustKey *keys;
        size_t n;
} TrustKeyring;

/* Parse a keyring: one key a line,
 *   ed25519 <base64 of the 32-byte public key> name=<word> [not-after=YYYY-MM-DD] [revoked]
 * '#' comment lines and blank lines; LF line ends. No keys is a valid
 * keyring (n == 0). Returns 0, -EINVAL with *ret_error "NAME:LINE:COL:
 * message" (the first problem), -ENOMEM. Pure. */
int trust_keyring_parse(const char *name, const char *data, size_t size, TrustKeyring **ret, char **ret_error);
/* trust_keyring_parse() of a file (at most TRUST_KEYRING_MAX_SIZE): also
 * -ENOENT (no such file) and other read errors, with *ret_error. */
int trust_keyring_load(const char *path, TrustKeyring **ret, char **ret_error);
void trust_keyring_free(TrustKeyring *kr);
DEFINE_POINTER_CLEANUP(TrustKeyring, trust_keyring_free);
const TrustKey *trust_keyring_find(const TrustKeyring *kr, const char *id);

/* The key id of a raw public key. */
int trust_key_id(const unsigned char pub[static 32], char ret[static TRUST_KEY_ID_LEN + 1]);

/* Is r one of the refusals listed above? */
bool trust_is_refusal(int r);

/* Verify data (size bytes, named name in messages) against the text of its
 * signature file, with the keys of kr at time now (seconds since 1970, UTC).
 * Returns 0 when the signature is good (*ret_key, if given, is the key that
 * made it; it points into kr), a refusal (above) with *ret_error, -ENOMEM.
 * The data is only hashed, never interpreted. Pure. */
int trust_verify_key(const TrustKeyring *kr, const char *name, const void *data, size_t size, const char *sig,
                     size_t sig_size, uint64_t now, const TrustKey **ret_key, char **ret_error);
int trust_verify(const TrustKeyring *kr, const char *name, const void *data, size_t size, const char *sig,
                 size_t sig_size, uint64_t now, char **ret_error);

/* A signing key: an Ed25519 private key. */
typedef struct TrustSigner TrustSigner;
/* A new key (getrandom through OpenSSL). */
int trust_signer_generate(TrustSigner **ret, char **ret_error);
/* A PEM "PRIVATE KEY" file (openssl genpkey -algorithm ed25519, or
 * installer keygen); not encrypted. -EINVAL when it is not an Ed25519 key. */
int trust_signer_load(const char *path, TrustSigner **ret, char **ret_error);
/* Write the private key as PEM "PRIVATE KEY" to path, mode 0600; never
 * over an existing file (-EEXIST). */
int trust_signer_save(const TrustSigner *s, const char *path, char **ret_error);
const char *trust_signer_key_id(const TrustSigner *s);
/* Its keyring line: "ed25519 BASE64 name=NAME[ not-after=DATE]\n".
 * not_after may be NULL. -EINVAL for a bad name or date. */
int trust_signer_keyring_line(const TrustSigner *s, const char *name, const char *not_after, char **ret);
/* The signature file of data, signed_at in seconds since 1970. */
int trust_sign(const TrustSigner *s, const void *data, size_t size, uint64_t signed_at, char **ret_sig,
               size_t *ret_sig_size, char **ret_error);
void trust_signer_free(TrustSigner *s);
DEFINE_POINTER_CLEANUP(TrustSigner, trust_signer_free);

/* Where the signature of url (or of a file path) is: ".sig" appended to the
 * path, the query and fragment kept ("http://h/p.yaml?t=1" ->
 * "http://h/p.yaml.sig?t=1"). NULL when out of memory. Pure. */
char *trust_sig_url(const char *url);

/* The keyring of this process (trust-fetch.c): set once, before any
 * trust_fetch(); takes ownership (NULL: none). */
void trust_set_keyring(TrustKeyring *kr);
const TrustKeyring *trust_get_keyring(void);
/* Are there trusted keys, i.e. must every document be signed? */
bool trust_required(void);

/* fetch_to_buffer() of url and, when trust_required(), of its signature
 * (trust_sig_url(), at most TRUST_SIG_MAX_SIZE, the same options but the
 * size), verified with the process keyring before *ret is handed back.
 * Without keys, exactly fetch_to_buffer(). Returns 0, fetch_to_buffer()'s
 * errors for the document (-ENOENT: no such document) and the signature
 * (but 404 is -ENOMSG), or a refusal, each with *ret_error. A refused
 * document is wiped and freed. */
int trust_fetch(const char *url, const FetchOptions *o, char **ret, size_t *ret_size, char **ret_error);
/* As trust_fetch() with a given keyring (NULL or empty: no check) and
 * *ret_key, the key that signed (NULL when nothing was checked). */
int trust_fetch_with(const TrustKeyring *kr, const char *url, const FetchOptions *o, char **ret, size_t *ret_size,
                     const TrustKey **ret_key, char **ret_error);

/* Read a file (at most max_size bytes) and verify it against path.sig with
 * kr (NULL or empty: no check). Returns 0, read errors (-ENOENT ...), or a
 * refusal (a missing path.sig is -ENOMSG), each with *ret_error. */
int trust_read_file(const TrustKeyring *kr, const char *path, size_t max_size, char **ret, size_t *ret_size,
                    const TrustKey **ret_key, char **ret_error);
