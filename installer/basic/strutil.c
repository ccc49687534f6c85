/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/strutil.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>

const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

char *strstrip(char *s) {
        char *e;
        while (isspace((unsigned char) *s))
                memmove(s, s + 1, strlen(s));
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = 0;
        return s;
}

int free_and_strdup(char **p, const char *s) {
        char *c = NULL;
        if (s) {
                c = strdup(s);
                if (!c)
                        return -ENOMEM;
        }
        free(*p);
        *p = c;
        return 0;
}

char *strvprintf(const char *fmt, va_list ap) {
        char *s;
        return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

char *strprintf(const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        s = strvprintf(fmt, ap);
        va_end(ap);
        return s;
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

int strv_push(char ***l, char *value) {
        size_t n = strv_length(*l);
        char **c = realloc(*l, (n + 2) * sizeof(char *));
        if (!c)
                return -ENOMEM;
        c[n] = value;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *value) {
        char *v = strdup(value);
        if (!v)
                return -ENOMEM;
        int r = strv_push(l, v);
        if (r < 0)
                free(v);
        return r;
}

bool strv_contains(char *const *l, const char *s) {
        for (size_t i = 0; l && l[i]; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

void strv_free(char **l) {
        for (size_t i = 0; l && l[i]; i++)
                free(l[i]);
        free(l);
}

static int strbuf_reserve(StrBuf *b, size_t extra) {
        if (b->len + extra + 1 <= b->alloc)
                return 0;
        size_t a = MAX(b->alloc * 2, b->len + extra + 64);
        char *d = realloc(b->data, a);
        if (!d)
                return -ENOMEM;
        b->data = d;
        b->alloc = a;
        return 0;
}

int strbuf_append_n(StrBuf *b, const char *s, size_t n) {
        if (strbuf_reserve(b, n) < 0)
                return -ENOMEM;
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = 0;
        return 0;
}

int strbuf_append(StrBuf *b, const char *s) {
        return strbuf_append_n(b, s, strlen(s));
}

int strbuf_appendf(StrBuf *b, const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        if (strbuf_reserve(b, (size_t) n) < 0)
                return -ENOMEM;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t) n;
        return 0;
}

char *strbuf_steal(StrBuf *b) {
        char *d = b->data;
        if (!d)
                d = strdup("");
        *b = (StrBuf) {};
        return d;
}

void strbuf_done(StrBuf *b) {
        free(b->data);
        *b = (StrBuf) {};
}

char *format_bytes(char *buf, size_t len, uint64_t bytes) {
        static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
        double v = (double) bytes;
        size_t u = 0;

        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, len, "%" PRIu64 " B", bytes);
        else
                snprintf(buf, len, "%.1f %s", v, units[u]);
        return buf;
}

int parse_size(const char *s, uint64_t *ret) {
        static const struct {
                const char *suffix;
                uint64_t factor;
        } units[] = {
                { "B", 1 },
                { "K", KiB },  { "KiB", KiB }, { "KB", 1000ULL },
                { "M", MiB },  { "MiB", MiB }, { "MB", 1000ULL * 1000 },
                { "G", GiB },  { "GiB", GiB }, { "GB", 1000ULL * 1000 * 1000 },
                { "T", TiB },  { "TiB", TiB }, { "TB", 1000ULL * 1000 * 1000 * 1000 },
        };
        char *end;
        unsigned long long v;

        if (!s || !isdigit((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        while (*end == ' ')
                end++;
        if (*end == 0) {
                *ret = v;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (streq(end, units[i].suffix)) {
                        if (v > UINT64_MAX / units[i].factor)
                                return -ERANGE;
                        *ret = v * units[i].factor;
                        return 0;
                }
        return -EINVAL;
}

unsigned string_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        unsigned row[64 + 1];

        if (lb > 64 || la > 64)
                return 1000;
        for (size_t j = 0; j <= lb; j++)
                row[j] = (unsigned) j;
        for (size_t i = 1; i <= la; i++) {
                unsigned prev = row[0];
                row[0] = (unsigned) i;
                for (size_t j = 1; j <= lb; j++) {
                        unsigned cur = row[j];
                        unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
                        row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), prev + cost);
                        prev = cur;
                }
        }
        return row[lb];
}

int mac_normalize(const char *s, char ret[static 18]) {
        if (!s || strlen(s) != 17)
                return -EINVAL;
        for (size_t i = 0; i < 17; i++) {
                char c = s[i];
                if (i % 3 == 2) {
                        if (c != ':' && c != '-')
                                return -EINVAL;
                        ret[i] = ':';
                } else {
                        if (!isxdigit((unsigned char) c))
                                return -EINVAL;
                        ret[i] = (char) tolower((unsigned char) c);
                }
        }
        ret[17] = 0;
        return 0;
}
