/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A small streaming JSON writer with pretty printing. libc only.
 *
 *   JsonWriter j = JSON_WRITER_INIT(stdout);
 *   jsonw_object_begin(&j, NULL);
 *   jsonw_string(&j, "hostname", "web01");
 *   jsonw_object_end(&j);
 *   jsonw_finish(&j);
 *
 * Keys are ignored (and must be NULL) inside arrays and at the top level. */

#include <stdint.h>
#include <stdio.h>

#include "basic/macro.h"

#define JSON_MAX_DEPTH 32

typedef struct JsonWriter {
        FILE *f;
        unsigned depth;
        bool compact;
        bool has_items[JSON_MAX_DEPTH];
} JsonWriter;

#define JSON_WRITER_INIT(file) ((JsonWriter) { .f = (file) })

void jsonw_object_begin(JsonWriter *j, const char *key);
void jsonw_object_end(JsonWriter *j);
void jsonw_array_begin(JsonWriter *j, const char *key);
void jsonw_array_end(JsonWriter *j);
void jsonw_string(JsonWriter *j, const char *key, const char *value); /* NULL -> null */
void jsonw_u64(JsonWriter *j, const char *key, uint64_t value);
void jsonw_i64(JsonWriter *j, const char *key, int64_t value);
/* A number with a fixed count of decimals ("12.345678"); NaN and infinities
 * become null. */
void jsonw_fixed(JsonWriter *j, const char *key, double value, unsigned decimals);
void jsonw_bool(JsonWriter *j, const char *key, bool value);
void jsonw_null(JsonWriter *j, const char *key);
/* Ends the document with a newline. */
void jsonw_finish(JsonWriter *j);

/* Write s as a JSON string literal (with quotes) to f. Bytes that are not
 * valid UTF-8 become U+FFFD, so the output is always valid JSON text. */
void jsonw_write_escaped(FILE *f, const char *s);
