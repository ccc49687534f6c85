/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Progress reporting of the phase runner.
 *
 * Human lines: one when a phase starts ("==> name"), one when it ends
 * ("<== name done in 1.23s" / "<!! name FAILED in ..."), progress lines and
 * notes, on stdout (the console).
 *
 * Events: once report_begin() has run (`installer run`), every one of those
 * calls, and every log line, also becomes a structured event: one JSON object
 * per line on the console, queued and POSTed to the report URL (from the
 * kernel command line or the profile) by a background thread, so that a slow
 * or dead report server never holds up or fails the install. The console
 * output is kept (capped) in memory and uploaded when the install fails.
 * docs/events.md describes the format and the protocol.
 *
 * Secrets never pass through here: callers give redacted text. As a second
 * line of defence every secret registered with report_secret_add*() is
 * replaced by "[redacted]" in every event and in everything the installer
 * prints to stdout and stderr while events are on. */

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
/* An "error" event only (no human line): for problems already printed in
 * another form, such as the list of profile errors. */
void report_error_event(const char *fmt, ...) _printf_(1, 2);

/* Progress of a long transfer: bytes done of total (0 = unknown), printed at
 * most once per interval with rate and ETA. Call with final=true at the end. */
typedef struct Progress {
        const char *what;
        uint64_t total, done, start_usec, last_usec;
        uint64_t last_event_usec;  /* progress events: at most every 10 s */
        bool tty;
} Progress;
void report_progress_init(Progress *p, const char *what, uint64_t total);
void report_progress_update(Progress *p, uint64_t done, bool final);

/* ---- events ---------------------------------------------------------------- */

/* Turn events on for `installer COMMAND` (command: "run" or "discover"):
 * identify the machine (SMBIOS UUID from sysroot's
 * /sys/class/dmi/id/product_uuid, else boot_uuid (inst.uuid), else boot_mac),
 * capture stdout and stderr, hook the log, and emit the "install" start
 * event. sysroot NULL = "/". */
int report_begin(const char *command, const char *sysroot, const char *boot_uuid, const char *boot_mac);

/* Where events go: url (http or https) with an optional bearer token. May be
 * called again (the profile's report: replaces the command line's); events
 * not yet delivered go to the latest destination. url NULL means "no
 * destination": if none was ever set, queued events are dropped and no more
 * are queued; if one was set, it stays. Registers the token and the URL's
 * credentials as secrets. */
int report_set_target(const char *url, const char *token);

/* Upload this machine's inventory (json: what `installer inventory --json`
 * prints) to the report URL: POST with X-Installer-Upload: inventory,
 * Content-Type: application/json, X-Installer-Machine-Id and the bearer
 * token, through the sender's queue after the events queued so far (so it
 * waits for the target when that is not known yet, and is dropped when there
 * is none). Secrets are scrubbed from it like from events. Never blocks;
 * -ENOMEM, or 0 when events are off. */
int report_upload_inventory(const char *json, size_t size);

/* The end of the run: the "install" finish event with exit_status, a bounded
 * wait for undelivered events, the log upload when exit_status != 0, a summary
 * line, and events off again. Returns exit_status. */
int report_end(int exit_status);

/* Secrets to scrub (copied). Strings shorter than REPORT_SECRET_MIN are
 * ignored (scrubbing "root" everywhere would wreck the log). */
#define REPORT_SECRET_MIN 6
int report_secret_add(const char *secret);
/* The userinfo ("user:password"), the password and the query of a URL. */
int report_secret_add_url(const char *url);
/* A copy of s with every registered secret replaced by "[redacted]". */
char *report_scrub(const char *s);
void report_secrets_clear(void);

/* One event. Formatting is separate from sending so that it can be tested. */
typedef enum ReportEventType {
        REPORT_EVENT_START,
        REPORT_EVENT_FINISH,
        REPORT_EVENT_PROGRESS,
        REPORT_EVENT_INFO,
        REPORT_EVENT_ERROR,
        _REPORT_EVENT_TYPE_MAX,
} ReportEventType;
const char *report_event_type_to_string(ReportEventType t);

typedef struct ReportEvent {
        uint64_t seq;               /* 1, 2, ... per run */
        uint64_t realtime_usec;     /* CLOCK_REALTIME, microseconds since the epoch */
        uint64_t monotonic_usec;    /* since the installer started */
        const char *machine_id;
        const char *machine_id_source; /* "smbios-uuid", "boot-mac", "none" */
        const char *phase;          /* NULL outside any phase */
        ReportEventType type;
        const char *level;          /* info and error: "info", "warning", "error" */
        int error;                  /* finish: 0 = ok, -errno = failed */
        int exit_status;            /* finish of "install": the exit status; else -1 */
        int64_t duration_usec;      /* finish: the phase's duration; else -1 */
        const char *message;        /* NULL = none */
        /* progress */
        const char *what;
        uint64_t done, total;       /* bytes; total 0 = unknown */
        double rate;                /* bytes per second */
        double eta;                 /* seconds; < 0 = unknown */
        bool final;
} ReportEvent;

#define REPORT_EVENT_INIT (ReportEvent) { .exit_status = -1, .duration_usec = -1, .eta = -1 }

/* One JSON object on one line (no newline), every string scrubbed. NULL when
 * out of memory. */
char *report_event_to_json(const ReportEvent *e);
/* RFC 3339 UTC with microseconds: "2026-11-26T20:13:46.123456Z". */
char *report_format_time(uint64_t realtime_usec, char buf[static 32]);
/* SMBIOS UUID else boot MAC; *ret_source is static. */
int report_machine_id(const char *sysroot, const char *boot_uuid, const char *boot_mac, char **ret_id,
                      const char **ret_source);

/* The captured console log: the first head_max bytes and the last tail_max
 * bytes, with a marker line for what was left out in between. */
typedef struct ReportLog {
        char *head, *tail;
        size_t head_max, tail_max;
        size_t head_len, tail_pos;
        uint64_t total;
} ReportLog;
int report_log_init(ReportLog *l, size_t head_max, size_t tail_max);
void report_log_append(ReportLog *l, const char *data, size_t size);
/* The log as one string (NUL-terminated, *ret_size without the NUL). */
char *report_log_text(const ReportLog *l, size_t *ret_size);
void report_log_done(ReportLog *l);
