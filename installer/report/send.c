/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Delivering events: a queue in memory and one background thread that POSTs
 * what is queued, as NDJSON batches, to the report URL. Uploads (the
 * inventory) go through the same queue, in order, each as a POST of its own.
 * Reporting never blocks or fails the install: each POST has a timeout,
 * failures are retried with the backoff of every fetch (fetch_backoff_random_usec():
 * 1, 2, 4 ... 30 s, jittered) for as long as the
 * install runs, a dead server is a warning, and the end of the run waits at
 * most REPORT_DRAIN_SEC for what is still queued. docs/events.md. */
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "fetch/fetch.h"
#include "report/report-internal.h"

#define REPORT_QUEUE_MAX 20000       /* undelivered events kept at most */
#define REPORT_BATCH_MAX 200         /* events per POST */
#define REPORT_BATCH_BYTES (256 * 1024)
#define REPORT_POST_TIMEOUT_SEC 10
#define REPORT_DRAIN_SEC 20          /* at the end: wait at most this long */
#define REPORT_LOG_TIMEOUT_SEC 30
#define REPORT_LOG_ATTEMPTS 3

/* One queued POST: an event line, or an upload. */
typedef struct Item {
        char *data;           /* an event line (without newline), or an upload's body */
        size_t size;
        char *upload;         /* NULL for an event; else X-Installer-Upload's value ("inventory") */
        char *content_type;   /* uploads */
        char *machine_id;     /* uploads: X-Installer-Machine-Id */
} Item;

static void item_done(Item *i) {
        free(i->data);
        free(i->upload);
        free(i->content_type);
        free(i->machine_id);
        *i = (Item) {};
}

typedef enum TargetState {
        TARGET_UNKNOWN, /* not known yet: queue */
        TARGET_SET,     /* send */
        TARGET_NONE,    /* there is none: drop */
} TargetState;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static pthread_once_t cond_once = PTHREAD_ONCE_INIT;
static struct {
        TargetState state;
        char *url, *token, *safe_url;
        unsigned generation;      /* bumped when the target changes */
        Item *q;                  /* undelivered events and uploads, oldest first */
        size_t n, alloc;
        uint64_t sent, dropped, uploaded;
        unsigned failures;
        bool thread_running, stopping;
        pthread_t thread;
        struct timespec deadline; /* when stopping */
} S;

/* The waits use CLOCK_MONOTONIC deadlines: the wall clock may jump (NTP,
 * a wrong RTC) while the installer runs. */
static void cond_init(void) {
        pthread_condattr_t a;
        pthread_condattr_init(&a);
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
        pthread_cond_init(&cond, &a);
        pthread_condattr_destroy(&a);
}

void report_send_lock(void) {
        pthread_once(&cond_once, cond_init);
        pthread_mutex_lock(&lock);
}

void report_send_unlock(void) {
        pthread_mutex_unlock(&lock);
}

/* Called with the lock held; takes the item's contents. */
static int queue_item(Item *it, bool important) {
        if (S.state == TARGET_NONE || (!important && S.n >= REPORT_QUEUE_MAX)) {
                S.dropped += S.state != TARGET_NONE && !it->upload;
                item_done(it);
                return 0;
        }
        if (S.n == S.alloc) {
                size_t a = S.alloc ? S.alloc * 2 : 64;
                Item *v = realloc(S.q, a * sizeof(Item));
                if (!v) {
                        S.dropped += !it->upload;
                        item_done(it);
                        return -ENOMEM;
                }
                S.q = v;
                S.alloc = a;
        }
        S.q[S.n++] = *it;
        *it = (Item) {};
        pthread_cond_signal(&cond);
        return 0;
}

/* Called with the lock held. */
void report_send_queue(char *line, bool important) {
        Item it = { .data = line, .size = strlen(line) };
        (void) queue_item(&it, important);
}

int report_send_queue_upload(const char *upload, const char *content_type, const char *body, size_t size,
                             const char *machine_id) {
        Item it = { .data = malloc(size + 1), .size = size, .upload = strdup(upload),
                    .content_type = strdup(content_type), .machine_id = strdup(machine_id ? machine_id : "unknown") };
        int r;

        if (!it.data || !it.upload || !it.content_type || !it.machine_id) {
                item_done(&it);
                return -ENOMEM;
        }
        memcpy(it.data, body, size);
        it.data[size] = 0;
        report_send_lock();
        r = queue_item(&it, true);
        report_send_unlock();
        return r;
}

/* The first queued item as one POST, with the lock released. */
static int post_upload(const Item *it, const char *url, const char *token, char **ret_err) {
        _cleanup_free_ char *up = strprintf("X-Installer-Upload: %s", it->upload),
                            *id = strprintf("X-Installer-Machine-Id: %s", it->machine_id);
        const char *headers[] = { up, id, NULL };

        if (!up || !id)
                return -ENOMEM;
        FetchPost p = { .content_type = it->content_type, .bearer_token = token, .extra_headers = headers,
                        .body = it->data, .size = it->size, .timeout_sec = REPORT_POST_TIMEOUT_SEC };
        return fetch_post(url, &p, ret_err);
}

static void timespec_after(struct timespec *ts, unsigned secs) {
        clock_gettime(CLOCK_MONOTONIC, ts);
        ts->tv_sec += secs;
}

static void timespec_after_usec(struct timespec *ts, uint64_t usec) {
        clock_gettime(CLOCK_MONOTONIC, ts);
        ts->tv_sec += (time_t) (usec / 1000000u);
        ts->tv_nsec += (long) (usec % 1000000u) * 1000L;
        if (ts->tv_nsec >= 1000000000L) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000L;
        }
}

static bool timespec_passed(const struct timespec *ts) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return now.tv_sec > ts->tv_sec || (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

static void *sender_main(void *arg) {
        pthread_mutex_lock(&lock);
        for (;;) {
                while (!S.stopping && S.n == 0)
                        pthread_cond_wait(&cond, &lock);
                if (S.n == 0 || (S.stopping && timespec_passed(&S.deadline)))
                        break;

                /* An upload on its own, or a batch of whole event lines, NDJSON,
                 * up to the next upload. The queue only grows at its end
                 * while the lock is released, so the first k stay put. */
                StrBuf body = {};
                size_t k = 0;
                Item upload = {};
                if (S.q[0].upload) {
                        /* A copy: the sender owns nothing of the queue while unlocked. */
                        upload = (Item) { .data = strdup(S.q[0].data), .size = S.q[0].size,
                                          .upload = strdup(S.q[0].upload), .content_type = strdup(S.q[0].content_type),
                                          .machine_id = strdup(S.q[0].machine_id) };
                        k = 1;
                } else
                        for (; k < S.n && !S.q[k].upload && k < REPORT_BATCH_MAX && body.len < REPORT_BATCH_BYTES; k++)
                                if (strbuf_append(&body, S.q[k].data) < 0 || strbuf_append(&body, "\n") < 0)
                                        break;
                _cleanup_free_ char *url = strdup(S.url), *token = S.token ? strdup(S.token) : NULL,
                                    *safe = strdup(S.safe_url);
                unsigned gen = S.generation;
                bool want_token = S.token;
                pthread_mutex_unlock(&lock);

                _cleanup_free_ char *err = NULL;
                int r = -ENOMEM;
                if (k > 0 && url && safe && (!want_token || token)) {
                        if (upload.upload) {
                                if (upload.data && upload.content_type && upload.machine_id)
                                        r = post_upload(&upload, url, token, &err);
                        } else {
                                FetchPost p = { .content_type = "application/x-ndjson", .bearer_token = token,
                                                .body = body.data, .size = body.len,
                                                .timeout_sec = REPORT_POST_TIMEOUT_SEC };
                                r = fetch_post(url, &p, &err);
                        }
                }
                strbuf_done(&body);
                if (token)
                        explicit_bzero(token, strlen(token));
                if (upload.upload && (r >= 0 || r == -EFBIG || r == -EBADMSG)) {
                        /* Delivered, or refused for good (too large, malformed): never sent again. */
                        if (r >= 0)
                                printf("report: the %s (%zu bytes) was uploaded to %s\n", upload.upload, upload.size,
                                       safe ? safe : "?");
                        else
                                log_warning("report: the server refused the %s (%s); not sending it again",
                                            upload.upload, err ? err : strerror(-r));
                        fflush(stdout);
                }

                pthread_mutex_lock(&lock);
                if (upload.upload && r < 0 && (r == -EFBIG || r == -EBADMSG)) {
                        item_done(&S.q[0]);
                        memmove(S.q, S.q + 1, (S.n - 1) * sizeof(Item));
                        S.n--;
                        item_done(&upload);
                        continue;
                }
                if (r >= 0) {
                        for (size_t i = 0; i < k; i++)
                                item_done(&S.q[i]);
                        memmove(S.q, S.q + k, (S.n - k) * sizeof(Item));
                        S.n -= k;
                        if (upload.upload)
                                S.uploaded++;
                        else
                                S.sent += k;
                        item_done(&upload);
                        if (S.failures > 0) {
                                S.failures = 0;
                                pthread_mutex_unlock(&lock);
                                log_info("report: delivering events to %s again", safe ? safe : "?");
                                pthread_mutex_lock(&lock);
                        }
                        continue;
                }
                item_done(&upload);
                unsigned f = ++S.failures;
                /* The backoff every fetch uses (fetch.h): 1 s doubling to 30 s, jittered. */
                uint64_t backoff = fetch_backoff_random_usec(f);
                struct timespec until;
                timespec_after_usec(&until, backoff);
                /* Warn on the first failure and then every 10th, never more. */
                if (f == 1 || f % 10 == 0) {
                        pthread_mutex_unlock(&lock);
                        log_warning("report: cannot deliver events (%s); retrying in the background, the install goes on",
                                    err ? err : strerror(-r));
                        pthread_mutex_lock(&lock);
                }
                /* Wait for the backoff, a new target, or the end (whose deadline bounds the wait). */
                while (!timespec_passed(&until) && S.generation == gen) {
                        const struct timespec *t = &until;
                        if (S.stopping && timespec_passed(&S.deadline))
                                break;
                        if (S.stopping && (S.deadline.tv_sec < until.tv_sec ||
                                           (S.deadline.tv_sec == until.tv_sec && S.deadline.tv_nsec < until.tv_nsec)))
                                t = &S.deadline;
                        pthread_cond_timedwait(&cond, &lock, t);
                }
        }
        pthread_mutex_unlock(&lock);
        return NULL;
}

int report_send_set_target(const char *url, const char *token) {
        int r = 0;

        pthread_once(&cond_once, cond_init);
        pthread_mutex_lock(&lock);
        if (!url) {
                if (S.state == TARGET_UNKNOWN) {
                        S.state = TARGET_NONE;
                        for (size_t i = 0; i < S.n; i++)
                                item_done(&S.q[i]);
                        S.n = 0;
                }
                goto out;
        }
        char *u = strdup(url), *t = token ? strdup(token) : NULL, *s = fetch_url_redact(url);
        if (!u || (token && !t) || !s) {
                free(u);
                free(t);
                free(s);
                r = -ENOMEM;
                goto out;
        }
        free(S.url);
        if (S.token) {
                explicit_bzero(S.token, strlen(S.token));
                free(S.token);
        }
        free(S.safe_url);
        S.url = u;
        S.token = t;
        S.safe_url = s;
        S.state = TARGET_SET;
        S.generation++;
        S.failures = 0;
        if (!S.thread_running) {
                pthread_attr_t attr;
                pthread_attr_init(&attr);
                pthread_attr_setstacksize(&attr, 256 * 1024);
                r = -pthread_create(&S.thread, &attr, sender_main, NULL);
                pthread_attr_destroy(&attr);
                S.thread_running = r == 0;
        }
        pthread_cond_broadcast(&cond);
out:
        pthread_mutex_unlock(&lock);
        return r;
}

static int upload_log(const char *url, const char *token, const char *safe, const char *log, size_t log_size,
                      const char *machine_id) {
        _cleanup_free_ char *hdr = strprintf("X-Installer-Machine-Id: %s", machine_id ? machine_id : "unknown");
        const char *headers[] = { "X-Installer-Upload: log", hdr, NULL };
        int r = -ENOMEM;

        if (!hdr)
                return r;
        for (unsigned i = 0; i < REPORT_LOG_ATTEMPTS; i++) {
                _cleanup_free_ char *err = NULL;
                FetchPost p = { .content_type = "text/plain; charset=utf-8", .bearer_token = token,
                                .extra_headers = headers, .body = log, .size = log_size,
                                .timeout_sec = REPORT_LOG_TIMEOUT_SEC };
                r = fetch_post(url, &p, &err);
                if (r >= 0) {
                        printf("report: the installer log (%zu bytes) was uploaded to %s\n", log_size, safe);
                        return 0;
                }
                if (i + 1 == REPORT_LOG_ATTEMPTS || r == -EACCES || r == -ENOENT || r == -EFBIG || r == -EBADMSG) {
                        log_warning("report: cannot upload the installer log (%s)", err ? err : strerror(-r));
                        break;
                }
                uint64_t w = fetch_backoff_random_usec(i + 1);
                (void) nanosleep(&(struct timespec) { .tv_sec = (time_t) (w / 1000000u),
                                                      .tv_nsec = (long) (w % 1000000u) * 1000L }, NULL);
        }
        return r;
}

void report_send_stop(void) {
        uint64_t sent, dropped;
        size_t left = 0, left_uploads = 0;

        pthread_once(&cond_once, cond_init);
        pthread_mutex_lock(&lock);
        S.stopping = true;
        timespec_after(&S.deadline, REPORT_DRAIN_SEC);
        pthread_cond_broadcast(&cond);
        bool running = S.thread_running;
        pthread_mutex_unlock(&lock);
        if (running)
                pthread_join(S.thread, NULL);

        pthread_mutex_lock(&lock);
        S.thread_running = false;
        for (size_t i = 0; i < S.n; i++)
                left_uploads += !!S.q[i].upload;
        left = S.n - left_uploads;
        sent = S.sent;
        dropped = S.dropped;
        bool set = S.state == TARGET_SET;
        _cleanup_free_ char *safe = set ? strdup(S.safe_url) : NULL;
        pthread_mutex_unlock(&lock);

        if (!set)
                return;
        if (left_uploads > 0)
                log_warning("report: %zu upload%s (the inventory) not delivered to %s", left_uploads,
                            left_uploads == 1 ? "" : "s", safe ? safe : "?");
        if (left > 0 || dropped > 0)
                log_warning("report: %" PRIu64 " events delivered to %s, %zu not delivered, %" PRIu64 " dropped (queue full)",
                            sent, safe ? safe : "?", left, dropped);
        else
                printf("report: %" PRIu64 " events delivered to %s\n", sent, safe ? safe : "?");
}

void report_send_upload_log(const char *log, size_t log_size, const char *machine_id) {
        _cleanup_free_ char *url = NULL, *token = NULL, *safe = NULL;

        pthread_mutex_lock(&lock);
        if (S.state == TARGET_SET) {
                url = strdup(S.url);
                token = S.token ? strdup(S.token) : NULL;
                safe = strdup(S.safe_url);
        }
        pthread_mutex_unlock(&lock);
        if (url && safe)
                (void) upload_log(url, token, safe, log, log_size, machine_id);
        if (token)
                explicit_bzero(token, strlen(token));
}

bool report_send_has_target(void) {
        pthread_mutex_lock(&lock);
        bool set = S.state == TARGET_SET;
        pthread_mutex_unlock(&lock);
        return set;
}

void report_send_reset(void) {
        pthread_mutex_lock(&lock);
        for (size_t i = 0; i < S.n; i++)
                item_done(&S.q[i]);
        free(S.q);
        free(S.url);
        if (S.token)
                explicit_bzero(S.token, strlen(S.token));
        free(S.token);
        free(S.safe_url);
        S = (typeof(S)) {};
        pthread_mutex_unlock(&lock);
}
