/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Numbers as the operator reads them, the same in the status pages
 * (page.c) and the operator commands (cli.c). */

#include <stddef.h>

/* 12.1 MB, 950 kB, 12 B: decimal units, like site.js's fmtBytes(). */
void format_rate_bytes(double bytes, char *buf, size_t len);
/* 0:31, 1:02:03 (rounded to the second; negative or absurd values: 0:00). */
void format_seconds(double s, char *buf, size_t len);
