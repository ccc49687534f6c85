/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Progress reporting of the phase runner: one line when a phase starts, one
 * when it ends (with its duration and result), on stdout (the console).
 * Secrets never pass through here: callers give redacted text. */

#include <stdint.h>

#include "basic/macro.h"

typedef struct Phase {
        const char *name;
        uint64_t start_usec;
} Phase;

uint64_t report_now_usec(void);
/* Seconds since the installer started, for the line prefix. */
double report_uptime(void);

void report_phase_begin(Phase *p, const char *name, const char *fmt, ...) _printf_(3, 4);
/* r >= 0: "done", r < 0: "FAILED". Returns r. */
int report_phase_end(Phase *p, int r, const char *fmt, ...) _printf_(3, 4);
void report_info(const char *fmt, ...) _printf_(1, 2);

/* Progress of a long transfer: bytes done of total (0 = unknown), printed at
 * most once per interval with rate and ETA. Call with final=true at the end. */
typedef struct Progress {
        const char *what;
        uint64_t total, done, start_usec, last_usec;
        bool tty;
} Progress;
void report_progress_init(Progress *p, const char *what, uint64_t total);
void report_progress_update(Progress *p, uint64_t done, bool final);
