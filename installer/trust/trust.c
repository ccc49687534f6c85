/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Keyrings, signature files, signing and verifying (trust.h). libcrypto is
 * wrapped here and only here: its errors become -errno and a message. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "basic/fileio.h"
#include "basic/sha256.h"
#include "basic/strutil.h"
#include "trust/trust.h"

#define SIG_MAGIC "installer-signature 1"
#define ED25519_SIG_LEN 64

struct TrustSigner {
        EVP_PKEY *pkey;
        unsigned char pub[32];
        char id[TRUST_KEY_ID_LEN + 1];
};

static int set_error(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
static int set_error(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;

        if (ret_error) {
                free(*ret_error);
                va_start(ap, fmt);
                *ret_error = strvprintf(fmt, ap);
                va_end(ap);
                if (!*ret_error)
                        return -ENOMEM;
        }
        return r;
}

/* OpenSSL's error queue: emptied, its last entry as text. */
static const char *ssl_error(char buf[static 256]) {
        unsigned long e = ERR_peek_last_error();

        if (e == 0)
                snprintf(buf, 256, "unknown OpenSSL error");
        else
                ERR_error_string_n(e, buf, 256);
        ERR_clear_error();
        return buf;
}

bool trust_is_refusal(int r) {
        return r == -ENOMSG || r == -EBADE || r == -ENOKEY || r == -EKEYREVOKED || r == -EKEYEXPIRED ||
               r == -EKEYREJECTED || r == -EUCLEAN;
}

/* ---- base64, strict: canonical padding, no whitespace ---- */

static char *base64_encode(const unsigned char *data, size_t size) {
        char *s = malloc(4 * ((size + 2) / 3) + 1);

        if (!s)
                return NULL;
        EVP_EncodeBlock((unsigned char *) s, data, (int) size);
        return s;
}

/* Decode exactly want bytes from the n characters at s; false unless s is
 * the canonical encoding of want bytes. */
static bool base64_decode_exact(const char *s, size_t n, unsigned char *ret, size_t want) {
        unsigned char buf[128];
        _cleanup_free_ char *again = NULL;

        if (want > sizeof buf - 2 || n != 4 * ((want + 2) / 3))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", s[i]) && s[i]))
                        return false;
        if (EVP_DecodeBlock(buf, (const unsigned char *) s, (int) n) < (int) want)
                return false;
        again = base64_encode(buf, want);
        if (!again || strlen(again) != n || memcmp(again, s, n) != 0)
                return false;
        memcpy(ret, buf, want);
        return true;
}

/* ---- small parsers ---- */

static bool is_lower_hex(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

static bool digits(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

static int num(const char *s, size_t n) {
        int v = 0;
        for (size_t i = 0; i < n; i++)
                v = v * 10 + (s[i] - '0');
        return v;
}

/* "YYYY-MM-DD" (n == 10) to the first second of that day, UTC; false if
 * malformed or not a real date. */
static bool parse_date(const char *s, size_t n, int64_t *ret) {
        struct tm tm = {};
        time_t t;

        if (n != 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
                return false;
        tm.tm_year = num(s, 4) - 1900;
        tm.tm_mon = num(s + 5, 2) - 1;
        tm.tm_mday = num(s + 8, 2);
        if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1)
                return false;
        t = timegm(&tm);
        if (t == (time_t) -1 || tm.tm_mday != num(s + 8, 2) || tm.tm_mon != num(s + 5, 2) - 1)
                return false; /* timegm normalised it: 2026-02-30 */
        *ret = (int64_t) t;
        return true;
}

/* "YYYY-MM-DDTHH:MM:SSZ" */
static bool parse_timestamp(const char *s, size_t n, int64_t *ret) {
        int64_t day;

        if (n != 20 || !parse_date(s, 10, &day) || s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' ||
            !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2) || s[19] != 'Z')
                return false;
        int h = num(s + 11, 2), m = num(s + 14, 2), sec = num(s + 17, 2);
        if (h > 23 || m > 59 || sec > 59)
                return false;
        *ret = day + h * 3600 + m * 60 + sec;
        return true;
}

static void format_time(uint64_t t, bool with_time, char buf[static 32]) {
        time_t tt = (time_t) t;
        struct tm tm;

        if (!gmtime_r(&tt, &tm))
                snprintf(buf, 32, "?");
        else
                strftime(buf, 32, with_time ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d", &tm);
}

static bool valid_name(const char *s, size_t n) {
        if (n == 0 || n > TRUST_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]) || !s[i])
                        return false;
        return true;
}

int trust_key_id(const unsigned char pub[static 32], char ret[static TRUST_KEY_ID_LEN + 1]) {
        char hex[65];
        int r = sha256_hex(pub, 32, hex);

        if (r < 0)
                return r;
        memcpy(ret, hex, TRUST_KEY_ID_LEN);
        ret[TRUST_KEY_ID_LEN] = 0;
        return 0;
}

/* ---- keyring ---- */

void trust_keyring_free(TrustKeyring *kr) {
        if (!kr)
                return;
        for (size_t i = 0; i < kr->n; i++)
                free(kr->keys[i].name);
        free(kr->keys);
        free(kr);
}

const TrustKey *trust_keyring_find(const TrustKeyring *kr, const char *id) {
        for (size_t i = 0; kr && i < kr->n; i++)
                if (streq(kr->keys[i].id, id))
                        return &kr->keys[i];
        return NULL;
}

/* One non-comment line (no LF) of the keyring into *k. Columns are 1-based. */
static int parse_key_line(const char *name, unsigned line, const char *s, size_t n, TrustKey *k, char **ret_error) {
        size_t pos = 0, field = 0;
        bool have_name = false;

        while (pos < n) {
                while (pos < n && (s[pos] == ' ' || s[pos] == '\t'))
                        pos++;
                if (pos >= n)
                        break;
                size_t start = pos, len;
                while (pos < n && s[pos] != ' ' && s[pos] != '\t')
                        pos++;
                len = pos - start;
                const char *w = s + start;
                unsigned col = (unsigned) start + 1;

                if (field == 0) {
                        if (len != 7 || memcmp(w, "ed25519", 7) != 0)
                                return set_error(ret_error, -EINVAL,
                                                 "%s:%u:%u: unknown key type '%.*s' (only ed25519 keys are supported)",
                                                 name, line, col, (int) MIN(len, (size_t) 32), w);
                } else if (field == 1) {
                        if (!base64_decode_exact(w, len, k->pub, 32))
                                return set_error(ret_error, -EINVAL,
                                                 "%s:%u:%u: not the base64 of a 32-byte Ed25519 public key", name, line,
                                                 col);
                } else if (len > 5 && memcmp(w, "name=", 5) == 0) {
                        if (have_name)
                                return set_error(ret_error, -EINVAL, "%s:%u:%u: name= given twice", name, line, col);
                        if (!valid_name(w + 5, len - 5))
                                return set_error(ret_error, -EINVAL,
                                                 "%s:%u:%u: name= must be 1 to %d of A-Z a-z 0-9 . _ -", name, line,
                                                 col, TRUST_NAME_MAX);
                        k->name = strndup(w + 5, len - 5);
                        if (!k->name)
                                return -ENOMEM;
                        have_name = true;
                } else if (len > 10 && memcmp(w, "not-after=", 10) == 0) {
                        int64_t day;
                        if (k->end)
                                return set_error(ret_error, -EINVAL, "%s:%u:%u: not-after= given twice", name, line, col);
                        if (!parse_date(w + 10, len - 10, &day))
                                return set_error(ret_error, -EINVAL, "%s:%u:%u: not-after= must be a date YYYY-MM-DD",
                                                 name, line, col);
                        memcpy(k->not_after, w + 10, 10);
                        k->not_after[10] = 0;
                        k->end = day + 86400; /* good through the whole day (UTC) */
                } else if (len == 7 && memcmp(w, "revoked", 7) == 0) {
                        if (k->revoked)
                                return set_error(ret_error, -EINVAL, "%s:%u:%u: revoked given twice", name, line, col);
                        k->revoked = true;
                } else
                        return set_error(ret_error, -EINVAL,
                                         "%s:%u:%u: unknown option '%.*s' (name=, not-after=YYYY-MM-DD, revoked)", name,
                                         line, col, (int) MIN(len, (size_t) 40), w);
                field++;
        }
        if (field < 2)
                return set_error(ret_error, -EINVAL,
                                 "%s:%u:%u: a key line is 'ed25519 <base64 public key> name=<word> "
                                 "[not-after=YYYY-MM-DD] [revoked]'",
                                 name, line, (unsigned) n + 1);
        if (!have_name)
                return set_error(ret_error, -EINVAL, "%s:%u:%u: the key has no name= (every key needs one)", name, line,
                                 (unsigned) n + 1);
        k->line = line;
        return trust_key_id(k->pub, k->id);
}

int trust_keyring_parse(const char *name, const char *data, size_t size, TrustKeyring **ret, char **ret_error) {
        _cleanup_(trust_keyring_freep) TrustKeyring *kr = NULL;
        const char *p = data, *end = data + size;
        unsigned line = 0;
        int r;

        if (!ret || (!data && size))
                return -EINVAL;
        kr = new0(TrustKeyring, 1);
        if (!kr)
                return -ENOMEM;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
                const char *nul = memchr(p, 0, n), *cr = memchr(p, '\r', n);
                size_t i = 0;

                line++;
                if (nul || cr)
                        return set_error(ret_error, -EINVAL, "%s:%u:%zu: %s", name, line,
                                         (size_t) ((nul && (!cr || nul < cr) ? nul : cr) - p) + 1,
                                         nul ? "a NUL byte (a keyring is text)" : "a CR (lines end with LF only)");
                while (i < n && (p[i] == ' ' || p[i] == '\t'))
                        i++;
                if (i < n && p[i] != '#') {
                        TrustKey k = {};
                        r = parse_key_line(name, line, p, n, &k, ret_error);
                        if (r >= 0 && trust_keyring_find(kr, k.id))
                                r = set_error(ret_error, -EINVAL, "%s:%u:1: key %s is already on line %u", name, line,
                                              k.id, trust_keyring_find(kr, k.id)->line);
                        for (size_t j = 0; r >= 0 && j < kr->n; j++)
                                if (streq(kr->keys[j].name, k.name))
                                        r = set_error(ret_error, -EINVAL, "%s:%u:1: name=%s is already on line %u",
                                                      name, line, k.name, kr->keys[j].line);
                        if (r >= 0) {
                                TrustKey *v = reallocarray(kr->keys, kr->n + 1, sizeof(TrustKey));
                                if (!v)
                                        r = -ENOMEM;
                                else {
                                        kr->keys = v;
                                        kr->keys[kr->n++] = k;
                                }
                        }
                        if (r < 0) {
                                free(k.name);
                                return r;
                        }
                }
                p += n + (nl ? 1 : 0);
        }
        *ret = TAKE_PTR(kr);
        return 0;
}

int trust_keyring_load(const char *path, TrustKeyring **ret, char **ret_error) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        int r;

        r = read_regular_file(path, TRUST_KEYRING_MAX_SIZE, &data, &size);
        if (r < 0)
                return set_error(ret_error, r, "%s: cannot read the keyring: %s", path,
                                 r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
        return trust_keyring_parse(path, data, size, ret, ret_error);
}

/* ---- signature files ---- */

typedef struct SigFile {
        char key_id[TRUST_KEY_ID_LEN + 1];
        int64_t signed_at;
        uint64_t size;
        char sha256[65];
        unsigned char sig[ED25519_SIG_LEN];
        size_t signed_len;      /* bytes of the file before "signature: " */
} SigFile;

static int sig_malformed(char **ret_error, const char *name, unsigned line, const char *what) {
        return set_error(ret_error, -EBADE, "%s: signature refused: malformed signature file, line %u: %s", name,
                         line, what);
}

static int sig_parse(const char *name, const char *s, size_t n, SigFile *ret, char **ret_error) {
        static const char *const expect[] = {
                "expected '" SIG_MAGIC "'",
                "expected 'key-id: <16 lower-case hex digits>'",
                "expected 'signed-at: YYYY-MM-DDTHH:MM:SSZ'",
                "expected 'size: <decimal bytes>'",
                "expected 'sha256: <64 lower-case hex digits>'",
                "expected 'signature: <base64 of 64 bytes>'",
        };
        static const char *const prefix[] = { SIG_MAGIC, "key-id: ", "signed-at: ", "size: ", "sha256: ",
                                              "signature: " };
        const char *p = s, *end = s + n;

        *ret = (SigFile) {};
        for (unsigned i = 0; i < ELEMENTSOF(prefix); i++) {
                unsigned line = i + 1;
                const char *nl = p < end ? memchr(p, '\n', (size_t) (end - p)) : NULL;
                size_t plen = strlen(prefix[i]);

                if (!nl)
                        return sig_malformed(ret_error, name, line,
                                             p >= end ? "missing (the file ends early)" : "no LF at the end of the line");
                size_t len = (size_t) (nl - p);
                if (len < plen || memcmp(p, prefix[i], plen) != 0)
                        return sig_malformed(ret_error, name, line, expect[i]);
                const char *v = p + plen;
                size_t vn = len - plen;
                switch (i) {
                case 0:
                        if (vn != 0)
                                return sig_malformed(ret_error, name, line, expect[i]);
                        break;
                case 1:
                        if (vn != TRUST_KEY_ID_LEN || !is_lower_hex(v, vn))
                                return sig_malformed(ret_error, name, line, expect[i]);
                        memcpy(ret->key_id, v, vn);
                        break;
                case 2:
                        if (!parse_timestamp(v, vn, &ret->signed_at))
                                return sig_malformed(ret_error, name, line, expect[i]);
                        break;
                case 3:
                        if (vn == 0 || vn > 20 || !digits(v, vn) || (vn > 1 && v[0] == '0'))
                                return sig_malformed(ret_error, name, line, expect[i]);
                        for (size_t k = 0; k < vn; k++) {
                                uint64_t d = (uint64_t) (v[k] - '0');
                                if (ret->size > (UINT64_MAX - d) / 10)
                                        return sig_malformed(ret_error, name, line, "size out of range");
                                ret->size = ret->size * 10 + d;
                        }
                        break;
                case 4:
                        if (vn != 64 || !is_lower_hex(v, vn))
                                return sig_malformed(ret_error, name, line, expect[i]);
                        memcpy(ret->sha256, v, 64);
                        break;
                case 5:
                        ret->signed_len = (size_t) (p - s);
                        if (!base64_decode_exact(v, vn, ret->sig, ED25519_SIG_LEN))
                                return sig_malformed(ret_error, name, line, expect[i]);
                        break;
                }
                p = nl + 1;
        }
        if (p != end)
                return sig_malformed(ret_error, name, (unsigned) ELEMENTSOF(prefix) + 1,
                                     "unexpected text after the signature line");
        return 0;
}

static int ed25519_verify(const unsigned char pub[static 32], const void *msg, size_t n,
                          const unsigned char sig[static ED25519_SIG_LEN]) {
        EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        int r = -ENOMEM;

        if (pkey && ctx) {
                if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1)
                        r = -EIO;
                else
                        r = EVP_DigestVerify(ctx, sig, ED25519_SIG_LEN, msg, n) == 1 ? 0 : -EKEYREJECTED;
        }
        ERR_clear_error();
        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(pkey);
        return r;
}

int trust_verify_key(const TrustKeyring *kr, const char *name, const void *data, size_t size, const char *sig,
                     size_t sig_size, uint64_t now, const TrustKey **ret_key, char **ret_error) {
        const TrustKey *k;
        SigFile f;
        char hex[65], t[32];
        int r;

        if (!name || (!data && size) || (!sig && sig_size))
                return -EINVAL;
        if (ret_key)
                *ret_key = NULL;
        if (!kr || kr->n == 0)
                return set_error(ret_error, -ENOKEY, "%s: signature refused: there are no trusted keys", name);
        if (sig_size > TRUST_SIG_MAX_SIZE)
                return set_error(ret_error, -EBADE,
                                 "%s: signature refused: malformed signature file: larger than %d bytes", name,
                                 TRUST_SIG_MAX_SIZE);
        if (sig_size > 0 && memchr(sig, 0, sig_size))
                return set_error(ret_error, -EBADE, "%s: signature refused: malformed signature file: a NUL byte",
                                 name);
        r = sig_parse(name, sig ?: "", sig_size, &f, ret_error);
        if (r < 0)
                return r;
        k = trust_keyring_find(kr, f.key_id);
        if (!k)
                return set_error(ret_error, -ENOKEY, "%s: signature refused: signed by key %s, which is not a trusted key",
                                 name, f.key_id);
        if (k->revoked)
                return set_error(ret_error, -EKEYREVOKED, "%s: signature refused: signed by key %s (%s), which is revoked",
                                 name, k->id, k->name);
        if (k->end && now >= (uint64_t) k->end) {
                format_time(now, false, t);
                return set_error(ret_error, -EKEYEXPIRED,
                                 "%s: signature refused: signed by key %s (%s), which was good until %s (today is %s)",
                                 name, k->id, k->name, k->not_after, t);
        }
        r = ed25519_verify(k->pub, sig, f.signed_len, f.sig);
        if (r == -EKEYREJECTED)
                return set_error(ret_error, r,
                                 "%s: signature refused: the signature by key %s (%s) is not valid (the signature file "
                                 "was altered, or made with another key)",
                                 name, k->id, k->name);
        if (r < 0)
                return set_error(ret_error, r, "%s: cannot check the signature: %s", name, strerror(-r));
        /* The signature is good: does the document match what was signed? */
        if (f.size != size)
                return set_error(ret_error, -EUCLEAN,
                                 "%s: signature refused: the document is %zu bytes, key %s (%s) signed %" PRIu64
                                 " bytes (it changed after it was signed)",
                                 name, size, k->id, k->name, f.size);
        r = sha256_hex(data, size, hex);
        if (r < 0)
                return set_error(ret_error, r, "%s: cannot hash the document", name);
        if (!streq(hex, f.sha256))
                return set_error(ret_error, -EUCLEAN,
                                 "%s: signature refused: the document's sha256 differs from the one key %s (%s) signed "
                                 "(it changed after it was signed)",
                                 name, k->id, k->name);
        if (ret_key)
                *ret_key = k;
        return 0;
}

int trust_verify(const TrustKeyring *kr, const char *name, const void *data, size_t size, const char *sig,
                 size_t sig_size, uint64_t now, char **ret_error) {
        return trust_verify_key(kr, name, data, size, sig, sig_size, now, NULL, ret_error);
}

/* ---- signing ---- */

void trust_signer_free(TrustSigner *s) {
        if (!s)
                return;
        EVP_PKEY_free(s->pkey);
        free(s);
}

static int signer_from_pkey(EVP_PKEY *pkey, TrustSigner **ret, char **ret_error) {
        _cleanup_(trust_signer_freep) TrustSigner *s = new0(TrustSigner, 1);
        size_t len = 32;
        char buf[256];

        if (!s) {
                EVP_PKEY_free(pkey);
                return -ENOMEM;
        }
        s->pkey = pkey;
        if (EVP_PKEY_get_raw_public_key(pkey, s->pub, &len) != 1 || len != 32)
                return set_error(ret_error, -EIO, "cannot read the public key: %s", ssl_error(buf));
        int r = trust_key_id(s->pub, s->id);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int trust_signer_generate(TrustSigner **ret, char **ret_error) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
        EVP_PKEY *pkey = NULL;
        char buf[256];

        if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &pkey) != 1) {
                EVP_PKEY_CTX_free(ctx);
                return set_error(ret_error, -EIO, "cannot generate an Ed25519 key: %s", ssl_error(buf));
        }
        EVP_PKEY_CTX_free(ctx);
        return signer_from_pkey(pkey, ret, ret_error);
}

int trust_signer_load(const char *path, TrustSigner **ret, char **ret_error) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        EVP_PKEY *pkey;
        char buf[256];

        if (!f)
                return set_error(ret_error, -errno, "%s: cannot open the signing key: %s", path, strerror(errno));
        /* No passphrase callback: an encrypted key fails instead of prompting. */
        pkey = PEM_read_PrivateKey(f, NULL, NULL, (void *) "");
        if (!pkey)
                return set_error(ret_error, -EINVAL, "%s: not a PEM private key (%s)", path, ssl_error(buf));
        if (EVP_PKEY_id(pkey) != EVP_PKEY_ED25519) {
                EVP_PKEY_free(pkey);
                return set_error(ret_error, -EINVAL, "%s: not an Ed25519 key (make one with 'installer keygen')", path);
        }
        return signer_from_pkey(pkey, ret, ret_error);
}

int trust_signer_save(const TrustSigner *s, const char *path, char **ret_error) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        char buf[256];
        FILE *f;
        int r = 0;

        if (fd < 0)
                return set_error(ret_error, -errno, "%s: cannot create the key file: %s", path, strerror(errno));
        if (fchmod(fd, 0600) < 0)
                return set_error(ret_error, -errno, "%s: %s", path, strerror(errno));
        f = fdopen(fd, "w");
        if (!f)
                return set_error(ret_error, -errno, "%s: %s", path, strerror(errno));
        fd = -1; /* the FILE owns it now */
        if (PEM_write_PrivateKey(f, s->pkey, NULL, NULL, 0, NULL, NULL) != 1)
                r = set_error(ret_error, -EIO, "%s: cannot write the key: %s", path, ssl_error(buf));
        if (fflush(f) != 0 || fsync(fileno(f)) < 0)
                r = r < 0 ? r : set_error(ret_error, -errno, "%s: %s", path, strerror(errno));
        if (fclose(f) != 0 && r >= 0)
                r = set_error(ret_error, -errno, "%s: %s", path, strerror(errno));
        if (r < 0)
                (void) unlink(path);
        return r;
}

const char *trust_signer_key_id(const TrustSigner *s) {
        return s->id;
}

int trust_signer_keyring_line(const TrustSigner *s, const char *name, const char *not_after, char **ret) {
        _cleanup_free_ char *b64 = NULL;
        int64_t day;

        if (!name || !valid_name(name, strlen(name)))
                return -EINVAL;
        if (not_after && !parse_date(not_after, strlen(not_after), &day))
                return -EINVAL;
        b64 = base64_encode(s->pub, 32);
        if (!b64)
                return -ENOMEM;
        *ret = strprintf("ed25519 %s name=%s%s%s\n", b64, name, not_after ? " not-after=" : "", not_after ?: "");
        return *ret ? 0 : -ENOMEM;
}

int trust_sign(const TrustSigner *s, const void *data, size_t size, uint64_t signed_at, char **ret_sig,
               size_t *ret_sig_size, char **ret_error) {
        _cleanup_free_ char *head = NULL, *b64 = NULL;
        unsigned char sig[ED25519_SIG_LEN];
        size_t siglen = sizeof sig;
        char hex[65], t[32], buf[256];
        EVP_MD_CTX *ctx;
        int r;

        r = sha256_hex(data, size, hex);
        if (r < 0)
                return set_error(ret_error, r, "cannot hash the document");
        format_time(signed_at, true, t);
        head = strprintf(SIG_MAGIC "\nkey-id: %s\nsigned-at: %s\nsize: %zu\nsha256: %s\n", s->id, t, size, hex);
        if (!head)
                return -ENOMEM;
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->pkey) != 1 ||
            EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *) head, strlen(head)) != 1 ||
            siglen != ED25519_SIG_LEN) {
                EVP_MD_CTX_free(ctx);
                return set_error(ret_error, -EIO, "cannot sign: %s", ssl_error(buf));
        }
        EVP_MD_CTX_free(ctx);
        b64 = base64_encode(sig, siglen);
        if (!b64)
                return -ENOMEM;
        *ret_sig = strprintf("%ssignature: %s\n", head, b64);
        if (!*ret_sig)
                return -ENOMEM;
        *ret_sig_size = strlen(*ret_sig);
        return 0;
}

/* ---- where signatures are ---- */

char *trust_sig_url(const char *url) {
        size_t n = strcspn(url, "?#");
        return strprintf("%.*s.sig%s", (int) n, url, url + n);
}

int trust_read_file(const TrustKeyring *kr, const char *path, size_t max_size, char **ret, size_t *ret_size,
                    const TrustKey **ret_key, char **ret_error) {
        _cleanup_free_ char *data = NULL, *sig = NULL, *sig_path = NULL;
        size_t size = 0, sig_size = 0;
        int r;

        if (ret_key)
                *ret_key = NULL;
        r = read_regular_file(path, max_size, &data, &size);
        if (r < 0)
                return set_error(ret_error, r, "%s: %s", path, r == -EFBIG ? "too large" : strerror(-r));
        if (kr && kr->n > 0) {
                sig_path = trust_sig_url(path);
                if (!sig_path)
                        return -ENOMEM;
                r = read_regular_file(sig_path, TRUST_SIG_MAX_SIZE, &sig, &sig_size);
                if (r == -ENOENT)
                        r = set_error(ret_error, -ENOMSG, "%s: signature refused: no signature (%s does not exist)",
                                      path, sig_path);
                else if (r == -EFBIG)
                        r = set_error(ret_error, -EBADE,
                                      "%s: signature refused: malformed signature file: larger than %d bytes", path,
                                      TRUST_SIG_MAX_SIZE);
                else if (r < 0)
                        r = set_error(ret_error, r, "%s: %s", sig_path, strerror(-r));
                else
                        r = trust_verify_key(kr, path, data, size, sig, sig_size, (uint64_t) time(NULL), ret_key,
                                             ret_error);
                if (r < 0) {
                        explicit_bzero(data, size);
                        return r;
                }
        }
        *ret = TAKE_PTR(data);
        *ret_size = size;
        return 0;
}
