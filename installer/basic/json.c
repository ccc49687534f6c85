/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/json.h"

#include <inttypes.h>
#include <math.h>

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if it is not one
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t utf8_valid_len(const unsigned char *p) {
        unsigned c = p[0];
        size_t n;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                n = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
                n = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
                n = 4, cp = c & 0x07;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

void jsonw_write_escaped(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"':  fputs("\\\"", f); break;
                case '\\': fputs("\\\\", f); break;
                case '\n': fputs("\\n", f); break;
                case '\r': fputs("\\r", f); break;
                case '\t': fputs("\\t", f); break;
                case '\b': fputs("\\b", f); break;
                case '\f': fputs("\\f", f); break;
                default:
                        if (*p < 0x20)
                                fprintf(f, "\\u%04x", *p);
                        else if (*p < 0x80)
                                fputc(*p, f);
                        else {
                                size_t n = utf8_valid_len(p);
                                if (n == 0)
                                        fputs("\\ufffd", f);
                                else {
                                        fwrite(p, 1, n, f);
                                        p += n - 1;
                                }
                        }
                }
        }
        fputc('"', f);
}

static void json_indent(JsonWriter *j) {
        if (j->compact)
                return;
        fputc('\n', j->f);
        for (unsigned i = 0; i < j->depth; i++)
                fputs("  ", j->f);
}

/* Separator, indentation and key before a value. */
static void json_prefix(JsonWriter *j, const char *key) {
        if (j->depth > 0) {
                if (j->has_items[j->depth])
                        fputc(',', j->f);
                j->has_items[j->depth] = true;
                json_indent(j);
        }
        if (key) {
                jsonw_write_escaped(j->f, key);
                fputs(j->compact ? ":" : ": ", j->f);
        }
}

static void json_open(JsonWriter *j, const char *key, char c) {
        json_prefix(j, key);
        fputc(c, j->f);
        if (j->depth + 1 < JSON_MAX_DEPTH)
                j->depth++;
        j->has_items[j->depth] = false;
}

static void json_close(JsonWriter *j, char c) {
        bool had = j->has_items[j->depth];
        if (j->depth > 0)
                j->depth--;
        if (had)
                json_indent(j);
        fputc(c, j->f);
}

void jsonw_object_begin(JsonWriter *j, const char *key) {
        json_open(j, key, '{');
}

void jsonw_object_end(JsonWriter *j) {
        json_close(j, '}');
}

void jsonw_array_begin(JsonWriter *j, const char *key) {
        json_open(j, key, '[');
}

void jsonw_array_end(JsonWriter *j) {
        json_close(j, ']');
}

void jsonw_string(JsonWriter *j, const char *key, const char *value) {
        json_prefix(j, key);
        if (value)
                jsonw_write_escaped(j->f, value);
        else
                fputs("null", j->f);
}

void jsonw_u64(JsonWriter *j, const char *key, uint64_t value) {
        json_prefix(j, key);
        fprintf(j->f, "%" PRIu64, value);
}

void jsonw_i64(JsonWriter *j, const char *key, int64_t value) {
        json_prefix(j, key);
        fprintf(j->f, "%" PRId64, value);
}

void jsonw_fixed(JsonWriter *j, const char *key, double value, unsigned decimals) {
        json_prefix(j, key);
        if (isfinite(value))
                fprintf(j->f, "%.*f", (int) decimals, value);
        else
                fputs("null", j->f);
}

void jsonw_bool(JsonWriter *j, const char *key, bool value) {
        json_prefix(j, key);
        fputs(value ? "true" : "false", j->f);
}

void jsonw_null(JsonWriter *j, const char *key) {
        json_prefix(j, key);
        fputs("null", j->f);
}

void jsonw_finish(JsonWriter *j) {
        fputc('\n', j->f);
        fflush(j->f);
}
