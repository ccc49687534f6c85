/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The status pages (server/page.c): server-rendered HTML that works without
 * JavaScript, and the embedded /site.js and /site.css. Self-contained: no
 * external anything (the server sends Content-Security-Policy: default-src
 * 'self'). Every function returns a malloc'd NUL-terminated string or NULL
 * when out of memory. Pure: no I/O, the time is passed in. */

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* GET /: the machine table. */
char *page_index_html(const Machine *list, size_t n, int64_t now_usec);

/* GET /machines/ID: one machine, its attempts (oldest first), its inventory
 * (the stored JSON text, or NULL when none). */
char *page_machine_html(const Machine *m, const Attempt *attempts, size_t n_attempts,
                        const char *inventory_json /* or NULL */, int64_t now_usec);

/* GET /site.js, GET /site.css */
extern const char page_site_js[];
extern const char page_site_css[];
