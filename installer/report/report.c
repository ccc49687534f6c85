/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report/report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <time.h>

#include "basic/strutil.h"

static uint64_t t0;

uint64_t report_now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

double report_uptime(void) {
        if (!t0)
                t0 = report_now_usec();
        return (double) (report_now_usec() - t0) / 1e6;
}

static void vline(const char *marker, const char *name, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));
static void vline(const char *marker, const char *name, const char *fmt, va_list ap) {
        printf("[%8.2f] %s %s", report_uptime(), marker, name);
        if (fmt && *fmt) {
                if (*name)
                        fputs(": ", stdout);
                vprintf(fmt, ap);
        }
        putchar('\n');
        fflush(stdout);
}

void report_phase_begin(Phase *p, const char *name, const char *fmt, ...) {
        va_list ap;
        p->name = name;
        p->start_usec = report_now_usec();
        va_start(ap, fmt);
        vline("==>", name, fmt, ap);
        va_end(ap);
}

int report_phase_end(Phase *p, int r, const char *fmt, ...) {
        double secs = (double) (report_now_usec() - p->start_usec) / 1e6;
        _cleanup_free_ char *tag = strprintf("%s %s in %.2fs", p->name, r < 0 ? "FAILED" : "done", secs);
        va_list ap;
        va_start(ap, fmt);
        vline(r < 0 ? "<!!" : "<==", tag ? tag : p->name, fmt, ap);
        va_end(ap);
        return r;
}

void report_info(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vline("   ", "", fmt, ap);
        va_end(ap);
}

void report_progress_init(Progress *p, const char *what, uint64_t total) {
        *p = (Progress) { .what = what, .total = total, .start_usec = report_now_usec() };
        p->last_usec = p->start_usec;
        p->tty = isatty(STDOUT_FILENO);
}

void report_progress_update(Progress *p, uint64_t done, bool final) {
        uint64_t now = report_now_usec();
        char a[32], b[32], rate[32];

        p->done = done;
        /* Every 2 s on a terminal, every 10 s on a serial log. */
        if (!final && now - p->last_usec < (p->tty ? 2000000u : 10000000u))
                return;
        p->last_usec = now;

        double secs = (double) (now - p->start_usec) / 1e6;
        double bps = secs > 0 ? (double) done / secs : 0;
        format_bytes(rate, sizeof rate, (uint64_t) bps);
        if (p->total) {
                double eta = bps > 0 ? (double) (p->total - MIN(done, p->total)) / bps : 0;
                printf("[%8.2f]     %s: %s of %s (%.0f%%), %s/s, ETA %.0fs%s\n", report_uptime(), p->what,
                       format_bytes(a, sizeof a, done), format_bytes(b, sizeof b, p->total),
                       100.0 * (double) done / (double) p->total, rate, final ? 0 : eta, final ? ", finished" : "");
        } else
                printf("[%8.2f]     %s: %s, %s/s, %.0fs elapsed%s\n", report_uptime(), p->what,
                       format_bytes(a, sizeof a, done), rate, secs, final ? ", finished" : "");
        fflush(stdout);
}
