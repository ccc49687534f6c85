/* SPDX-License-Identifier: GPL-2.0-or-later */
/* While events are on, stdout and stderr are replaced by streams that pass
 * each complete line through the secret scrubber to the console and into
 * the capped in-memory log (uploaded when the install fails). Child
 * processes write to the file descriptors directly and are not captured;
 * the installer collects their output (process_run) and prints what matters. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strutil.h"
#include "report/report-internal.h"

#define LINE_MAX_BYTES (64 * 1024)

typedef struct Tee {
        int fd;
        StrBuf line;
} Tee;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static ReportLog console_log;
static FILE *saved_stdout, *saved_stderr;


static void tee_emit(Tee *t, const char *data, size_t size) {
        _cleanup_free_ char *copy = strndup(data, size), *clean = NULL;

        if (copy)
                clean = report_scrub(copy);
        if (!clean) /* out of memory: better nothing than an unscrubbed line */
                return;
        (void) write_all(t->fd, clean, strlen(clean));
        pthread_mutex_lock(&log_lock);
        report_log_append(&console_log, clean, strlen(clean));
        pthread_mutex_unlock(&log_lock);
}

static ssize_t tee_write(void *cookie, const char *buf, size_t size) {
        Tee *t = cookie;

        if (strbuf_append_n(&t->line, buf, size) < 0)
                return -1;
        for (;;) {
                char *nl = memchr(t->line.data, '\n', t->line.len);
                size_t n = nl ? (size_t) (nl - t->line.data) + 1 : t->line.len >= LINE_MAX_BYTES ? t->line.len : 0;
                if (n == 0)
                        break;
                tee_emit(t, t->line.data, n);
                memmove(t->line.data, t->line.data + n, t->line.len - n);
                t->line.len -= n;
                t->line.data[t->line.len] = 0;
        }
        return (ssize_t) size;
}

static int tee_close(void *cookie) {
        Tee *t = cookie;

        if (t->line.len > 0)
                tee_emit(t, t->line.data, t->line.len);
        strbuf_done(&t->line);
        free(t);
        return 0;
}

static FILE *tee_open(int fd) {
        static const cookie_io_functions_t io = { .write = tee_write, .close = tee_close };
        Tee *t = calloc(1, sizeof(Tee));
        FILE *f;

        if (!t)
                return NULL;
        t->fd = fd;
        f = fopencookie(t, "w", io);
        if (!f) {
                free(t);
                return NULL;
        }
        setvbuf(f, NULL, _IOLBF, 0);
        return f;
}

int report_capture_start(void) {
        FILE *out, *err;
        int r;

        if (saved_stdout)
                return 0;
        r = report_log_init(&console_log, REPORT_LOG_HEAD_MAX, REPORT_LOG_TAIL_MAX);
        if (r < 0)
                return r;
        out = tee_open(STDOUT_FILENO);
        err = out ? tee_open(STDERR_FILENO) : NULL;
        if (!err) {
                if (out)
                        fclose(out);
                report_log_done(&console_log);
                return -ENOMEM;
        }
        fflush(stdout);
        fflush(stderr);
        saved_stdout = stdout;
        saved_stderr = stderr;
        stdout = out;
        stderr = err;
        return 0;
}

void report_capture_stop(void) {
        if (!saved_stdout)
                return;
        fclose(stdout);
        fclose(stderr);
        stdout = saved_stdout;
        stderr = saved_stderr;
        saved_stdout = saved_stderr = NULL;
        pthread_mutex_lock(&log_lock);
        report_log_done(&console_log);
        pthread_mutex_unlock(&log_lock);
}

char *report_capture_text(size_t *ret_size) {
        char *s;

        fflush(stdout);
        fflush(stderr);
        pthread_mutex_lock(&log_lock);
        s = report_log_text(&console_log, ret_size);
        pthread_mutex_unlock(&log_lock);
        return s;
}
