/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The wall clock, as far as trust decisions go: TLS certificate dates and
 * key expiry are judged against it, so a clock in 1970 (a dead RTC battery)
 * must be noticed, not trusted. libc only. See docs/tls.md, "The clock". */

#include <stdint.h>

#include "basic/macro.h"

/* A lower bound of the true time: when this installer was built (seconds
 * since the epoch; SOURCE_DATE_EPOCH or the build date, set by the Makefile).
 * A clock earlier than this is certainly wrong. */
uint64_t clock_build_time(void);

/* Now, in seconds since the epoch (CLOCK_REALTIME). Test seam:
 * $INSTALLER_TEST_NOW (decimal seconds) replaces it, unless the kernel
 * command line names any INSTALLER_ variable (see test_seam_getenv()). */
uint64_t clock_now(void);

/* Is now a time the installer can judge certificates with? Returns 0, or
 * -ETIME when now is before clock_build_time() (with *ret_error, if given,
 * saying both dates and what to do). Pure. */
int clock_check(uint64_t now, char **ret_error);

/* "YYYY-MM-DDTHH:MM:SSZ" of t into buf (at least 21 bytes). */
char *clock_format(uint64_t t, char *buf, size_t size);

/* The value of a test-only environment variable, or NULL. NULL too (with a
 * warning once) when the kernel command line ($INSTALLER_PROC_CMDLINE or
 * /proc/cmdline) holds a word starting with "INSTALLER_": the kernel hands
 * such words to /init as environment variables, and no test seam may be
 * settable from there (rootfs/init removes them as well). */
const char *test_seam_getenv(const char *name);
