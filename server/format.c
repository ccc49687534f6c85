/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "format.h"

#include <stdio.h>

#include "basic/macro.h"

void format_rate_bytes(double b, char *buf, size_t len) {
        static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
        size_t i = 0;

        while (b >= 1000 && i < ELEMENTSOF(units) - 1) {
                b /= 1000;
                i++;
        }
        snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", b, units[i]);
}

void format_seconds(double s, char *buf, size_t len) {
        long v = s > 0 && s < 1e12 ? (long) (s + 0.5) : 0, hh = v / 3600, mm = (v % 3600) / 60, ss = v % 60;

        if (hh > 0)
                snprintf(buf, len, "%ld:%02ld:%02ld", hh, mm, ss);
        else
                snprintf(buf, len, "%ld:%02ld", mm, ss);
}
