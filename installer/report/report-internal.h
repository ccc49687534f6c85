/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Internal to installer/report. */

#include "report/report.h"

/* The captured console: first 256 KiB and last 768 KiB. */
#define REPORT_LOG_HEAD_MAX (256u * 1024)
#define REPORT_LOG_TAIL_MAX (768u * 1024)

int report_capture_start(void);
void report_capture_stop(void);
char *report_capture_text(size_t *ret_size);

/* The sender: a queue of JSON lines and a thread that POSTs them. */
/* Queue one event line (takes ownership). important: never dropped when the
 * queue is full (start, finish and error events). */
void report_send_queue(char *line, bool important);
/* Queue an upload (copied): one POST of its own with X-Installer-Upload:
 * upload and X-Installer-Machine-Id, in order with the events, retried like
 * them; dropped when the server refuses it as too large or malformed. */
int report_send_queue_upload(const char *upload, const char *content_type, const char *body, size_t size,
                             const char *machine_id);
int report_send_set_target(const char *url, const char *token);
/* Wait (bounded) for the queue to drain, stop the thread, print a summary. */
void report_send_stop(void);
bool report_send_has_target(void);
/* POST the log (text/plain) to the target, bounded retries. */
void report_send_upload_log(const char *log, size_t log_size, const char *machine_id);
/* Forget everything (after stop). */
void report_send_reset(void);
/* Lock held while an event gets its sequence number, is printed and queued,
 * so that the console and the queue show the same order. */
void report_send_lock(void);
void report_send_unlock(void);
