/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/json.h"

#include <inttypes.h>

void json_write_escaped(FILE *f, const char *s) {
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
                        else
                                fputc(*p, f);
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
                json_write_escaped(j->f, key);
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

void json_object_begin(JsonWriter *j, const char *key) {
        json_open(j, key, '{');
}

void json_object_end(JsonWriter *j) {
        json_close(j, '}');
}

void json_array_begin(JsonWriter *j, const char *key) {
        json_open(j, key, '[');
}

void json_array_end(JsonWriter *j) {
        json_close(j, ']');
}

void json_string(JsonWriter *j, const char *key, const char *value) {
        json_prefix(j, key);
        if (value)
                json_write_escaped(j->f, value);
        else
                fputs("null", j->f);
}

void json_u64(JsonWriter *j, const char *key, uint64_t value) {
        json_prefix(j, key);
        fprintf(j->f, "%" PRIu64, value);
}

void json_i64(JsonWriter *j, const char *key, int64_t value) {
        json_prefix(j, key);
        fprintf(j->f, "%" PRId64, value);
}

void json_bool(JsonWriter *j, const char *key, bool value) {
        json_prefix(j, key);
        fputs(value ? "true" : "false", j->f);
}

void json_null(JsonWriter *j, const char *key) {
        json_prefix(j, key);
        fputs("null", j->f);
}

void json_finish(JsonWriter *j) {
        fputc('\n', j->f);
        fflush(j->f);
}
