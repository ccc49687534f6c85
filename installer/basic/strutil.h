/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* String helpers. libc only. */

#include <stdarg.h>
#include <stdint.h>

#include "basic/macro.h"

/* Returns the rest of s after prefix, or NULL if s does not start with it. */
const char *startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);

/* Strip leading and trailing white space in place; returns s. */
char *strstrip(char *s);

/* NULL-safe strdup; returns NULL for NULL. Sets *ret to a copy, freeing the
 * old value. Returns 0 or -ENOMEM. */
int free_and_strdup(char **p, const char *s);

/* asprintf that returns NULL on failure. */
char *strprintf(const char *fmt, ...) _printf_(1, 2);
char *strvprintf(const char *fmt, va_list ap) _printf_(1, 0);

/* Growable NULL-terminated string vectors. */
typedef char **strv;
size_t strv_length(char *const *l);
int strv_push(char ***l, char *value);          /* takes ownership */
int strv_extend(char ***l, const char *value);  /* copies */
bool strv_contains(char *const *l, const char *s);
void strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* Growable byte buffer for building strings. */
typedef struct StrBuf {
        char *data;
        size_t len, alloc;
} StrBuf;
int strbuf_append(StrBuf *b, const char *s);
int strbuf_appendf(StrBuf *b, const char *fmt, ...) _printf_(2, 3);
int strbuf_append_n(StrBuf *b, const char *s, size_t n);
char *strbuf_steal(StrBuf *b);
void strbuf_done(StrBuf *b);

/* Human-readable size, e.g. "8.0 GiB", into buf. Returns buf. */
char *format_bytes(char *buf, size_t len, uint64_t bytes);

/* Parse a size with an optional unit: "512", "512B", "512KiB", "100MiB",
 * "8GiB", "1TiB", "2G", "100M" (binary units; decimal KB/MB/GB/TB also
 * accepted). Returns 0, -EINVAL or -ERANGE. */
int parse_size(const char *s, uint64_t *ret);

/* Levenshtein distance, for "did you mean" suggestions. */
unsigned string_distance(const char *a, const char *b);

/* MAC address "aa:bb:cc:dd:ee:ff" (also accepts '-' separators and upper
 * case) normalised to lower case with ':'. Returns 0 or -EINVAL. */
int mac_normalize(const char *s, char ret[static 18]);
