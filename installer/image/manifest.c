/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The image manifest: parse (pure), check a chunk's digest, and build one
 * from a file. The format is docs/manifest.md; this parser is its strict
 * reading: one way to write each line, nothing else accepted. */
#include "image/manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/checked.h"
#include "basic/sha256.h"
#include "basic/strutil.h"

#define MANIFEST_HEADER "installer-manifest 1"

/* ---- parsing ----------------------------------------------------------------- */

typedef struct Parser {
        const char *name;
        const char *p, *end;      /* the rest of the document */
        unsigned line;            /* of the line last taken */
        char *error;
} Parser;

_printf_(3, 4) static int parse_fail(Parser *ps, unsigned line, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        if (ps->error)
                return -EBADMSG;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg)
                return -ENOMEM;
        ps->error = strprintf("%s:%u: %s", ps->name, line, msg);
        return ps->error ? -EBADMSG : -ENOMEM;
}

/* The next line without its LF: 1 with *ret_line and *ret_len, 0 at the end of
 * the document, -EBADMSG for a last line without LF, a CR or a NUL. */
static int next_line(Parser *ps, const char **ret_line, size_t *ret_len) {
        const char *nl;

        if (ps->p == ps->end)
                return 0;
        ps->line++;
        nl = memchr(ps->p, '\n', (size_t) (ps->end - ps->p));
        if (!nl)
                return parse_fail(ps, ps->line, "the last line does not end with a line feed (LF)");
        if (memchr(ps->p, '\r', (size_t) (nl - ps->p)))
                return parse_fail(ps, ps->line, "carriage return (CR) in the line: lines end with LF only");
        if (memchr(ps->p, '\0', (size_t) (nl - ps->p)))
                return parse_fail(ps, ps->line, "NUL byte in the line");
        *ret_line = ps->p;
        *ret_len = (size_t) (nl - ps->p);
        ps->p = nl + 1;
        return 1;
}

/* The value after "key: " on the line, or NULL. */
static const char *line_value(const char *line, size_t len, const char *key, size_t *ret_len) {
        size_t k = strlen(key);

        if (len < k + 2 || memcmp(line, key, k) != 0 || line[k] != ':' || line[k + 1] != ' ')
                return NULL;
        *ret_len = len - k - 2;
        return line + k + 2;
}

/* A decimal number: digits only, no leading zero (but "0"), checked. */
static int parse_u64(const char *s, size_t len, uint64_t *ret) {
        uint64_t v = 0;

        if (len == 0 || (len > 1 && s[0] == '0'))
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                if (!u64_mul(v, 10, &v) || !u64_add(v, (uint64_t) (s[i] - '0'), &v))
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* 64 lower-case hex digits into 32 bytes. */
static int parse_digest(const char *s, size_t len, uint8_t ret[static MANIFEST_SHA256_LEN]) {
        if (len != 2 * MANIFEST_SHA256_LEN)
                return -EINVAL;
        for (size_t i = 0; i < MANIFEST_SHA256_LEN; i++) {
                int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                ret[i] = (uint8_t) (hi << 4 | lo);
        }
        return 0;
}

/* Take the next line, which must be "key: value"; the value in *ret_value. */
static int expect_key(Parser *ps, const char *key, const char **ret_value, size_t *ret_len) {
        const char *line;
        size_t len;
        int r = next_line(ps, &line, &len);

        if (r < 0)
                return r;
        if (r == 0)
                return parse_fail(ps, ps->line + 1, "the manifest ends before its '%s:' line", key);
        *ret_value = line_value(line, len, key, ret_len);
        if (!*ret_value)
                return parse_fail(ps, ps->line, "expected '%s: ...' here (the lines come in a fixed order, see "
                                  "docs/manifest.md)", key);
        return 0;
}

static void digest_hex(const uint8_t d[static MANIFEST_SHA256_LEN], char ret[static 65]) {
        for (size_t i = 0; i < MANIFEST_SHA256_LEN; i++)
                sprintf(ret + 2 * i, "%02x", d[i]);
}

static int parse(Parser *ps, Manifest *m) {
        const char *line, *v;
        size_t len, vlen, allocated = 0;
        unsigned size_line;
        int r;

        r = next_line(ps, &line, &len);
        if (r < 0)
                return r;
        if (r == 0)
                return parse_fail(ps, 1, "the manifest is empty");
        if (len != strlen(MANIFEST_HEADER) || memcmp(line, MANIFEST_HEADER, len) != 0)
                return parse_fail(ps, ps->line, "the first line must be '" MANIFEST_HEADER "': not an image manifest, "
                                  "or a version this installer does not know");

        r = expect_key(ps, "size", &v, &vlen);
        if (r < 0)
                return r;
        size_line = ps->line;
        r = parse_u64(v, vlen, &m->size);
        if (r == -ERANGE)
                return parse_fail(ps, ps->line, "size does not fit in 64 bits");
        if (r < 0)
                return parse_fail(ps, ps->line, "size must be a decimal number of bytes (digits only, no leading zero)");
        if (m->size == 0)
                return parse_fail(ps, ps->line, "size is 0: an image is never empty");

        r = expect_key(ps, "chunk-size", &v, &vlen);
        if (r < 0)
                return r;
        r = parse_u64(v, vlen, &m->chunk_size);
        if (r == -ERANGE)
                return parse_fail(ps, ps->line, "chunk-size does not fit in 64 bits");
        if (r < 0)
                return parse_fail(ps, ps->line, "chunk-size must be a decimal number of bytes (digits only, no leading zero)");
        if (m->chunk_size < MANIFEST_CHUNK_SIZE_MIN || m->chunk_size > MANIFEST_CHUNK_SIZE_MAX ||
            (m->chunk_size & (m->chunk_size - 1)) != 0)
                return parse_fail(ps, ps->line,
                                  "chunk-size %" PRIu64 " is not a power of two from 65536 (64 KiB) to 67108864 (64 MiB)",
                                  m->chunk_size);
        m->n_chunks = u64_div_round_up(m->size, m->chunk_size);

        r = expect_key(ps, "sha256", &v, &vlen);
        if (r < 0)
                return r;
        if (parse_digest(v, vlen, m->sha256) < 0)
                return parse_fail(ps, ps->line, "sha256 must be 64 lower-case hexadecimal digits");
        digest_hex(m->sha256, m->sha256_hex);

        for (uint64_t i = 0;; i++) {
                r = next_line(ps, &line, &len);
                if (r < 0)
                        return r;
                if (r == 0) {
                        if (i < m->n_chunks)
                                return parse_fail(ps, ps->line + 1,
                                                  "the manifest ends after %" PRIu64 " chunk line%s, but size %" PRIu64
                                                  " (line %u) in chunks of %" PRIu64 " needs %" PRIu64,
                                                  i, i == 1 ? "" : "s", m->size, size_line, m->chunk_size,
                                                  m->n_chunks);
                        return 0;
                }
                v = line_value(line, len, "chunk", &vlen);
                if (!v)
                        return parse_fail(ps, ps->line, "expected 'chunk: <64 hex digits>' here");
                if (i >= m->n_chunks)
                        return parse_fail(ps, ps->line,
                                          "chunk line %" PRIu64 " is one too many: size %" PRIu64 " (line %u) in chunks "
                                          "of %" PRIu64 " gives %" PRIu64 " chunk%s",
                                          i + 1, m->size, size_line, m->chunk_size, m->n_chunks,
                                          m->n_chunks == 1 ? "" : "s");
                /* Grown as lines come: a size that claims more chunks than
                 * the document holds is refused above, not allocated. */
                if (i == allocated) {
                        size_t n = allocated ? allocated * 2 : 64;
                        void *p;
                        if (n > m->n_chunks)
                                n = (size_t) m->n_chunks; /* n_chunks > i = allocated here */
                        p = reallocarray(m->chunks, n, sizeof *m->chunks);
                        if (!p)
                                return -ENOMEM;
                        m->chunks = p;
                        allocated = n;
                }
                if (parse_digest(v, vlen, m->chunks[i]) < 0)
                        return parse_fail(ps, ps->line, "chunk %" PRIu64 ": must be 64 lower-case hexadecimal digits", i);
        }
}

int manifest_parse(const char *name, const void *data, size_t size, Manifest **ret, char **ret_error) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        Parser ps = { .name = name ? name : "manifest", .p = data, .end = (const char *) data + size };
        int r;

        if (size > MANIFEST_DOCUMENT_MAX) {
                if (ret_error)
                        *ret_error = strprintf("%s: larger than %u bytes: not an image manifest", ps.name,
                                               MANIFEST_DOCUMENT_MAX);
                return -EFBIG;
        }
        m = new0(Manifest, 1);
        if (!m)
                return -ENOMEM;
        r = parse(&ps, m);
        if (r < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(ps.error);
                free(ps.error);
                return r;
        }
        r = sha256_hex(data, size, m->document_sha256);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

void manifest_free(Manifest *m) {
        if (!m)
                return;
        free(m->chunks);
        free(m);
}

/* ---- chunks ------------------------------------------------------------------ */

uint64_t manifest_chunk_offset(const Manifest *m, uint64_t index) {
        /* index < n_chunks = ceil(size / chunk_size): the product is < size. */
        return index * m->chunk_size;
}

uint64_t manifest_chunk_length(const Manifest *m, uint64_t index) {
        uint64_t off;

        if (index >= m->n_chunks)
                return 0;
        off = manifest_chunk_offset(m, index);
        return m->size - off < m->chunk_size ? m->size - off : m->chunk_size;
}

int manifest_chunk_check(const Manifest *m, uint64_t index, const uint8_t digest[static MANIFEST_SHA256_LEN]) {
        if (index >= m->n_chunks)
                return -EBADMSG;
        /* Not secret: no need for a constant-time comparison. */
        return memcmp(m->chunks[index], digest, MANIFEST_SHA256_LEN) == 0 ? 0 : -EBADMSG;
}

const char *manifest_format_chunk_size(uint64_t chunk_size, char *buf, size_t n) {
        if (chunk_size >= MiB && chunk_size % MiB == 0)
                snprintf(buf, n, "%" PRIu64 " MiB", chunk_size / MiB);
        else if (chunk_size >= KiB && chunk_size % KiB == 0)
                snprintf(buf, n, "%" PRIu64 " KiB", chunk_size / KiB);
        else
                snprintf(buf, n, "%" PRIu64 " bytes", chunk_size);
        return buf;
}

/* ---- building ---------------------------------------------------------------- */

static int digest_final(EVP_MD_CTX *md, uint8_t ret[static MANIFEST_SHA256_LEN]) {
        unsigned n = 0;
        if (EVP_DigestFinal_ex(md, ret, &n) != 1 || n != MANIFEST_SHA256_LEN)
                return -EIO;
        return 0;
}

int manifest_build_fd(int fd, uint64_t chunk_size, char **ret_text, size_t *ret_size, char **ret_error) {
        EVP_MD_CTX *whole = NULL, *chunk = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        StrBuf lines = {}, doc = {};
        uint64_t total = 0, in_chunk = 0, n_chunks = 0;
        uint8_t d[MANIFEST_SHA256_LEN];
        char hex[65];
        int r = 0;

        if (chunk_size == 0)
                chunk_size = MANIFEST_CHUNK_SIZE_DEFAULT;
        if (chunk_size < MANIFEST_CHUNK_SIZE_MIN || chunk_size > MANIFEST_CHUNK_SIZE_MAX ||
            (chunk_size & (chunk_size - 1)) != 0) {
                if (ret_error)
                        *ret_error = strprintf("chunk size %" PRIu64 " is not a power of two from 65536 (64 KiB) "
                                               "to 67108864 (64 MiB)", chunk_size);
                return -EINVAL;
        }

        buf = malloc(128 * KiB);
        whole = EVP_MD_CTX_new();
        chunk = EVP_MD_CTX_new();
        if (!buf || !whole || !chunk) {
                r = -ENOMEM;
                goto finish;
        }
        if (EVP_DigestInit_ex(whole, EVP_sha256(), NULL) != 1 || EVP_DigestInit_ex(chunk, EVP_sha256(), NULL) != 1) {
                r = -EIO;
                goto finish;
        }

        for (;;) {
                ssize_t n = read(fd, buf, 128 * KiB);
                const uint8_t *p = buf;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        if (ret_error)
                                *ret_error = strprintf("read error: %s", strerror(errno));
                        goto finish;
                }
                if (n == 0)
                        break;
                if (!u64_add_to(&total, (uint64_t) n)) {
                        r = -EOVERFLOW;
                        goto finish;
                }
                if (EVP_DigestUpdate(whole, p, (size_t) n) != 1) {
                        r = -EIO;
                        goto finish;
                }
                while (n > 0) {
                        size_t take = (size_t) n;
                        if (take > chunk_size - in_chunk)
                                take = (size_t) (chunk_size - in_chunk);
                        if (EVP_DigestUpdate(chunk, p, take) != 1) {
                                r = -EIO;
                                goto finish;
                        }
                        in_chunk += take;
                        p += take;
                        n -= (ssize_t) take;
                        if (in_chunk == chunk_size) {
                                if (digest_final(chunk, d) < 0 || EVP_DigestInit_ex(chunk, EVP_sha256(), NULL) != 1) {
                                        r = -EIO;
                                        goto finish;
                                }
                                digest_hex(d, hex);
                                r = strbuf_appendf(&lines, "chunk: %s\n", hex);
                                if (r < 0)
                                        goto finish;
                                in_chunk = 0;
                                n_chunks++;
                        }
                }
        }
        if (total == 0) {
                if (ret_error)
                        *ret_error = strdup("the input is empty: an image is never empty");
                r = -ENODATA;
                goto finish;
        }
        if (in_chunk > 0) {
                if (digest_final(chunk, d) < 0) {
                        r = -EIO;
                        goto finish;
                }
                digest_hex(d, hex);
                r = strbuf_appendf(&lines, "chunk: %s\n", hex);
                if (r < 0)
                        goto finish;
                n_chunks++;
        }
        if (digest_final(whole, d) < 0) {
                r = -EIO;
                goto finish;
        }
        digest_hex(d, hex);
        r = strbuf_appendf(&doc, MANIFEST_HEADER "\nsize: %" PRIu64 "\nchunk-size: %" PRIu64 "\nsha256: %s\n", total,
                           chunk_size, hex);
        if (r >= 0)
                r = strbuf_append(&doc, lines.data ? lines.data : "");
        if (r < 0)
                goto finish;
        *ret_size = doc.len;
        *ret_text = strbuf_steal(&doc);
        r = *ret_text ? 0 : -ENOMEM;

finish:
        EVP_MD_CTX_free(whole);
        EVP_MD_CTX_free(chunk);
        strbuf_done(&lines);
        strbuf_done(&doc);
        return r;
}

/* ---- where ------------------------------------------------------------------- */

int manifest_url_for_image(const char *image_url, char **ret) {
        /* The suffix goes at the end of the path: before a query or a
         * fragment of a URL (a path has neither). */
        size_t path_end = strstr(image_url, "://") ? strcspn(image_url, "?#") : strlen(image_url);
        char *s = strprintf("%.*s.manifest%s", (int) path_end, image_url, image_url + path_end);

        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
