/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strutil.h"

/* Set by the Makefile for this file alone (-DINSTALLER_BUILD_EPOCH=N from
 * SOURCE_DATE_EPOCH or `date +%s`); the fallback is the day this check was
 * written, still a true lower bound. */
#ifndef INSTALLER_BUILD_EPOCH
#define INSTALLER_BUILD_EPOCH 1765152000ull /* 2025-12-08T00:00:00Z */
#endif

uint64_t clock_build_time(void) {
        return (uint64_t) INSTALLER_BUILD_EPOCH;
}

/* Does the line hold a word that starts with "INSTALLER_"? */
static bool names_installer_variable(const char *line) {
        for (const char *p = line; p && (p = strstr(p, "INSTALLER_")); p++)
                if (p == line || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '"')
                        return true;
        return false;
}

const char *test_seam_getenv(const char *name) {
        static bool warned;
        _cleanup_free_ char *line = NULL;
        const char *v = getenv(name), *env;

        if (!v)
                return NULL;
        env = getenv("INSTALLER_PROC_CMDLINE");
        if ((env && names_installer_variable(env)) ||
            (read_one_line_file("/proc/cmdline", &line) >= 0 && names_installer_variable(line))) {
                if (!warned)
                        log_warning("Ignoring the test setting %s: the kernel command line names INSTALLER_ "
                                    "variables, and test settings are never taken from there", name);
                warned = true;
                return NULL;
        }
        return v;
}

uint64_t clock_now(void) {
        const char *e = test_seam_getenv("INSTALLER_TEST_NOW");
        struct timespec ts;

        if (e) {
                char *end = NULL;
                errno = 0;
                unsigned long long u = strtoull(e, &end, 10);
                if (errno == 0 && end && end != e && !*end)
                        return u;
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        return ts.tv_sec > 0 ? (uint64_t) ts.tv_sec : 0;
}

char *clock_format(uint64_t t, char *buf, size_t size) {
        time_t tt = (time_t) t;
        struct tm tm;

        if ((uint64_t) tt != t || !gmtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, size, "%llu s", (unsigned long long) t);
        return buf;
}

int clock_check(uint64_t now, char **ret_error) {
        char a[32], b[32];

        if (now >= clock_build_time())
                return 0;
        if (ret_error)
                *ret_error = strprintf("this machine's clock says %s, before this installer was built (%s): "
                                       "certificates cannot be checked against it; set the clock (firmware "
                                       "setup or BMC) to the right time (UTC) and boot again",
                                       clock_format(now, a, sizeof a), clock_format(clock_build_time(), b, sizeof b));
        return -ETIME;
}
