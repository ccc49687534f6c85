/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report/report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "report/report-internal.h"

static uint64_t t0;

/* Events: on between report_begin() and report_end(). */
static struct {
        bool on;
        char *machine_id;
        const char *machine_id_source;
        const char *phase;      /* the phase running now, or NULL */
        const char *command;    /* "run", "discover" */
        uint64_t seq;
} E;

/* Per thread: the sender thread logs too. */
static __thread bool in_hook;

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

static uint64_t realtime_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* Number, print and queue one event (e is filled but for seq, times, machine). */
static void emit(ReportEvent *e) {
        bool important = e->type != REPORT_EVENT_PROGRESS && e->type != REPORT_EVENT_INFO;
        char *line;

        if (!E.on)
                return;
        (void) report_uptime(); /* sets t0 if nobody did yet */
        report_send_lock();
        e->seq = ++E.seq;
        e->realtime_usec = realtime_usec();
        e->monotonic_usec = report_now_usec() - t0;
        e->machine_id = E.machine_id;
        e->machine_id_source = E.machine_id_source;
        line = report_event_to_json(e);
        if (line) {
                printf("%s\n", line);
                fflush(stdout);
                report_send_queue(line, important);
        }
        report_send_unlock();
}

static void vline(const char *marker, const char *name, const char *text) {
        printf("[%8.2f] %s %s", report_uptime(), marker, name);
        if (text && *text) {
                if (*name)
                        fputs(": ", stdout);
                fputs(text, stdout);
        }
        putchar('\n');
        fflush(stdout);
}

static char *vformat(const char *fmt, va_list ap) _printf_(1, 0);
static char *vformat(const char *fmt, va_list ap) {
        char *s = NULL;
        if (!fmt || !*fmt)
                return NULL;
        if (vasprintf(&s, fmt, ap) < 0)
                return NULL;
        return s;
}

void report_phase_begin(Phase *p, const char *name, const char *fmt, ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;

        p->name = name;
        p->start_usec = report_now_usec();
        va_start(ap, fmt);
        text = vformat(fmt, ap);
        va_end(ap);
        vline("==>", name, text);
        E.phase = name;
        ReportEvent e = REPORT_EVENT_INIT;
        e.type = REPORT_EVENT_START;
        e.phase = name;
        e.message = text;
        emit(&e);
}

int report_phase_end(Phase *p, int r, const char *fmt, ...) {
        uint64_t usec = report_now_usec() - p->start_usec;
        double secs = (double) usec / 1e6;
        _cleanup_free_ char *tag = strprintf("%s %s in %.2fs", p->name, r < 0 ? "FAILED" : "done", secs), *text = NULL;
        va_list ap;

        va_start(ap, fmt);
        text = vformat(fmt, ap);
        va_end(ap);
        vline(r < 0 ? "<!!" : "<==", tag ? tag : p->name, text);
        ReportEvent e = REPORT_EVENT_INIT;
        e.type = REPORT_EVENT_FINISH;
        e.phase = p->name;
        e.error = r < 0 ? r : 0;
        e.duration_usec = (int64_t) usec;
        e.message = text;
        emit(&e);
        E.phase = NULL;
        return r;
}

void report_info(const char *fmt, ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;

        va_start(ap, fmt);
        text = vformat(fmt, ap);
        va_end(ap);
        vline("   ", "", text);
        ReportEvent e = REPORT_EVENT_INIT;
        e.type = REPORT_EVENT_INFO;
        e.level = "info";
        e.phase = E.phase;
        e.message = text;
        emit(&e);
}

void report_error_event(const char *fmt, ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;

        va_start(ap, fmt);
        text = vformat(fmt, ap);
        va_end(ap);
        ReportEvent e = REPORT_EVENT_INIT;
        e.type = REPORT_EVENT_ERROR;
        e.level = "error";
        e.phase = E.phase;
        e.message = text;
        emit(&e);
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
        double eta = -1;
        format_bytes(rate, sizeof rate, (uint64_t) bps);
        if (p->total) {
                eta = final ? 0 : bps > 0 ? (double) (p->total - MIN(done, p->total)) / bps : -1;
                printf("[%8.2f]     %s: %s of %s (%.0f%%), %s/s, ETA %.0fs%s\n", report_uptime(), p->what,
                       format_bytes(a, sizeof a, done), format_bytes(b, sizeof b, p->total),
                       100.0 * (double) done / (double) p->total, rate, eta < 0 ? 0 : eta, final ? ", finished" : "");
        } else
                printf("[%8.2f]     %s: %s, %s/s, %.0fs elapsed%s\n", report_uptime(), p->what,
                       format_bytes(a, sizeof a, done), rate, secs, final ? ", finished" : "");
        fflush(stdout);
        if (!final && p->last_event_usec && now - p->last_event_usec < 10000000u)
                return;
        p->last_event_usec = now;
        ReportEvent e = REPORT_EVENT_INIT;
        e.type = REPORT_EVENT_PROGRESS;
        e.phase = E.phase;
        e.what = p->what;
        e.done = done;
        e.total = p->total;
        e.rate = bps;
        e.eta = final ? 0 : eta;
        e.final = final;
        emit(&e);
}

/* Log lines become events: errors as "error", the rest as "info" with their
 * level. A log line written while an event is emitted is not turned into
 * another event. */
static void log_hook(LogLevel level, const char *message) {
        if (in_hook || level >= LOG_DEBUG)
                return;
        in_hook = true;
        ReportEvent e = REPORT_EVENT_INIT;
        e.type = level <= LOG_ERR ? REPORT_EVENT_ERROR : REPORT_EVENT_INFO;
        e.level = level <= LOG_ERR ? "error" : level == LOG_WARNING ? "warning" : "info";
        e.phase = E.phase;
        e.message = message;
        emit(&e);
        in_hook = false;
}

int report_begin(const char *command, const char *sysroot, const char *boot_uuid, const char *boot_mac) {
        _cleanup_free_ char *start = NULL;
        int r;

        if (E.on)
                return 0;
        (void) report_uptime();
        r = report_machine_id(sysroot, boot_uuid, boot_mac, &E.machine_id, &E.machine_id_source);
        if (r < 0)
                return r;
        r = report_capture_start();
        if (r < 0) {
                free(E.machine_id);
                E.machine_id = NULL;
                return r;
        }
        E.on = true;
        E.seq = 0;
        E.command = streq(command, "discover") ? "discover" : "run";
        log_set_hook(log_hook);
        start = strprintf("installer %s", E.command);
        ReportEvent e = REPORT_EVENT_INIT;
        e.type = REPORT_EVENT_START;
        e.phase = "install";
        e.message = start;
        emit(&e);
        return 0;
}

int report_upload_inventory(const char *json, size_t size) {
        _cleanup_free_ char *copy = NULL, *clean = NULL;

        if (!E.on)
                return 0;
        copy = strndup(json, size);
        if (copy)
                clean = report_scrub(copy);
        if (!clean) /* better nothing than an unscrubbed upload */
                return -ENOMEM;
        return report_send_queue_upload("inventory", "application/json", clean, strlen(clean), E.machine_id);
}

int report_set_target(const char *url, const char *token) {
        int r;

        if ((r = report_secret_add(token)) < 0 || (r = report_secret_add_url(url)) < 0)
                return r;
        return report_send_set_target(url, token);
}

int report_end(int exit_status) {
        _cleanup_free_ char *log = NULL;
        size_t size = 0;

        if (!E.on)
                return exit_status;
        ReportEvent e = REPORT_EVENT_INIT;
        e.type = REPORT_EVENT_FINISH;
        e.phase = "install";
        e.exit_status = exit_status;
        e.duration_usec = (int64_t) (report_now_usec() - t0);
        if (streq_ptr(E.command, "discover"))
                e.message = exit_status == 0 ? "the site server released this machine" : "discover failed";
        else
                e.message = exit_status == 0 ? "the installation succeeded" : "the installation failed";
        emit(&e);
        E.phase = NULL;

        /* No more events: the summary and the upload warnings are console lines only. */
        log_set_hook(NULL);
        E.on = false;
        report_send_stop();
        if (exit_status != 0 && report_send_has_target()) {
                log = report_capture_text(&size);
                if (log)
                        report_send_upload_log(log, size, E.machine_id);
        }
        report_send_reset();
        report_capture_stop();
        report_secrets_clear();
        free(E.machine_id);
        E.machine_id = NULL;
        return exit_status;
}
