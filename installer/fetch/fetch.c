/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fetch/fetch.h"

#include <assert.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>

#include "basic/interrupt.h"
#include "basic/log.h"
#include "basic/strutil.h"
#include "basic/url.h"
#include "fetch/fetch-internal.h"

int fetch_global_init(void) {
        return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void fetch_global_done(void) {
        curl_global_cleanup();
}

char *fetch_url_redact(const char *url) {
        /* One redaction rule for the whole installer (iPXE's: no user,
         * password, query or fragment). */
        return url_redact(url);
}

typedef struct Sink {
        CURL *curl;
        uint64_t *content_length; /* set before the first byte is passed on */
        bool started;
        StrBuf buf;
        size_t max;
        bool too_big;
        fetch_write_cb cb;
        void *userdata;
        int cb_error;
} Sink;

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        Sink *s = userdata;
        size_t n = size * nmemb;

        if (!s->started) {
                curl_off_t cl = -1;
                s->started = true;
                if (s->content_length &&
                    curl_easy_getinfo(s->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl > 0)
                        *s->content_length = (uint64_t) cl;
        }
        if (s->cb) {
                int r = s->cb(ptr, n, s->userdata);
                if (r < 0) {
                        s->cb_error = r;
                        return 0;
                }
                return n;
        }
        if (s->buf.len + n > s->max) {
                s->too_big = true;
                return 0;
        }
        return strbuf_append_n(&s->buf, ptr, n) < 0 ? 0 : n;
}

static int curl_code_to_errno(CURLcode c) {
        switch (c) {
        case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
        case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
        case CURLE_COULDNT_RESOLVE_HOST: return -EHOSTUNREACH;
        case CURLE_FILE_COULDNT_READ_FILE: return -ENOENT;
        case CURLE_OUT_OF_MEMORY: return -ENOMEM;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_UNSUPPORTED_PROTOCOL: /* a redirect to a refused scheme */
        case CURLE_TOO_MANY_REDIRECTS: return -EPROTO;
        default: return -EIO;
        }
}

/* 5xx, and the two 4xx answers that mean "not now": 408 Request Timeout
 * and 429 Too Many Requests (a busy server or cache on install day). Every
 * other 4xx is final. */
static bool http_code_transient(long code) {
        return code >= 500 || code == 408 || code == 429;
}

static bool transient(int r) {
        return r == -ETIMEDOUT || r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -EIO;
}

static bool is_https(const char *url) {
        return strncasecmp(url, "https:", 6) == 0;
}

static bool is_http_or_https(const char *url) {
        return strncasecmp(url, "http:", 5) == 0 || is_https(url);
}

/* The schemes a redirect may go to: never from https to anything else. */
static const char *fetch_redirect_protocols(const char *url) {
        return is_https(url) ? "https" : "http,https";
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* Sleep usec, or less: -ECANCELED when cancel_fd (if >= 0) hangs up or a
 * signal was caught (interrupt_check()). */
static int backoff_wait(uint64_t usec, int cancel_fd) {
        uint64_t until = now_usec() + usec;

        for (;;) {
                uint64_t now = now_usec();
                if (interrupt_check() < 0)
                        return -ECANCELED;
                if (now >= until)
                        return 0;
                uint64_t left = until - now;
                int ms = left > 200000 ? 200 : (int) ((left + 999) / 1000);
                if (cancel_fd >= 0) {
                        struct pollfd p = { .fd = cancel_fd, .events = 0 };
                        int n = poll(&p, 1, ms);
                        if (n > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)))
                                return -ECANCELED;
                        if (n < 0 && errno != EINTR)
                                return -errno;
                } else {
                        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
                        (void) nanosleep(&ts, NULL);
                }
        }
}

static int hexval(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A file: URL must name a regular file of at most max bytes (max 0: any
 * size): libcurl would open a FIFO and wait for a writer forever, and read a
 * device such as /dev/zero until the size limit. Checked before the
 * transfer; 0 for other URLs, -EBADFD (not a regular file), -EISDIR, -EFBIG,
 * -ENOENT..., -EINVAL (not file:///PATH). */
static int check_file_url(const char *url, size_t max) {
        const char *p = startswith(url, "file://");
        _cleanup_free_ char *path = NULL;
        struct stat st;
        size_t o = 0;

        if (!p)
                return 0;
        if (*p != '/')
                return -EINVAL; /* file://host/...: the profile checker allows only file:///PATH */
        path = new0(char, strlen(p) + 1);
        if (!path)
                return -ENOMEM;
        /* libcurl decodes %XX in the path and ignores a query or fragment. */
        for (; *p && *p != '?' && *p != '#'; p++) {
                if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
                        path[o++] = (char) (hexval(p[1]) * 16 + hexval(p[2]));
                        p += 2;
                } else
                        path[o++] = *p;
        }
        if (memchr(path, 0, o))
                return -EINVAL;
        if (stat(path, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (max > 0 && (uint64_t) st.st_size > max)
                return -EFBIG;
        return 0;
}

/* One transfer. Returns 0 or -errno; *http_code set for HTTP. */
static int transfer(const char *url, Sink *s, unsigned timeout_sec, const char *bearer_token, long *http_code,
                    uint64_t *total, char errbuf[static CURL_ERROR_SIZE]) {
        _cleanup_free_ char *auth = NULL;
        struct curl_slist *headers = NULL;
        CURL *c = curl_easy_init();
        CURLcode cc;
        int r = 0;

        errbuf[0] = 0;
        r = check_file_url(url, s->cb ? 0 : s->max);
        if (r < 0) {
                snprintf(errbuf, CURL_ERROR_SIZE, "%s",
                         r == -EBADFD ? "not a regular file (a FIFO, socket or device is never read)"
                         : r == -EISDIR ? "is a directory" : r == -EFBIG ? "file too large" : strerror(-r));
                curl_easy_cleanup(c);
                return r;
        }
        if (!c)
                return -ENOMEM;
        s->curl = c;
        curl_easy_setopt(c, CURLOPT_URL, url);
        /* An error page is not a profile or an image. */
        curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        if (bearer_token) {
                /* The token goes to this URL only: no redirects, no file://. */
                auth = strprintf("Authorization: Bearer %s", bearer_token);
                headers = auth ? curl_slist_append(NULL, auth) : NULL;
                if (!headers) {
                        if (auth)
                                explicit_bzero(auth, strlen(auth));
                        curl_easy_cleanup(c);
                        return -ENOMEM;
                }
                curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
                curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        } else {
                curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
                curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
        }
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "bare-metal-installer/0.1");
        if (timeout_sec)
                curl_easy_setopt(c, CURLOPT_TIMEOUT, (long) timeout_sec);
        else {
                /* Streams: give up only when the transfer stalls. */
                curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
                curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
        }
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, bearer_token ? "http,https" : "http,https,file");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, fetch_redirect_protocols(url));
        /* https: the clock, the site CA (docs/tls.md). */
        r = fetch_tls_setup(c, url, errbuf);
        if (r < 0) {
                *http_code = 0;
                curl_easy_cleanup(c);
                curl_slist_free_all(headers);
                if (auth)
                        explicit_bzero(auth, strlen(auth));
                return r;
        }

        cc = curl_easy_perform(c);
        if (cc != CURLE_OK)
                fetch_tls_explain(c, url, cc, errbuf);
        *http_code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, http_code);
        if (total) {
                curl_off_t dl = 0;
                curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &dl);
                *total = (uint64_t) dl;
        }
        if (s->too_big)
                r = -EFBIG;
        else if (s->cb_error)
                r = s->cb_error;
        else if (*http_code == 404 || *http_code == 410)
                r = -ENOENT;
        else if (*http_code >= 400)
                r = http_code_transient(*http_code) ? -EIO : -EACCES;
        else if (bearer_token && *http_code >= 300) {
                /* Permanent: asking again gets the same redirect. */
                snprintf(errbuf, CURL_ERROR_SIZE, "HTTP %ld: a redirect, not followed with a token", *http_code);
                r = -EPROTO;
        } else if (cc != CURLE_OK)
                r = curl_code_to_errno(cc);
        if (cc != CURLE_OK && !errbuf[0])
                snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(cc));
        curl_easy_cleanup(c);
        curl_slist_free_all(headers);
        if (auth)
                explicit_bzero(auth, strlen(auth));
        return r;
}

static char *describe(const char *url, int r, long http_code, const char *errbuf) {
        _cleanup_free_ char *safe = fetch_url_redact(url);
        if (http_code >= 400)
                return strprintf("%s: HTTP %ld", safe ? safe : "?", http_code);
        if (r == -EFBIG)
                return strprintf("%s: document too large", safe ? safe : "?");
        return strprintf("%s: %s", safe ? safe : "?", errbuf && *errbuf ? errbuf : strerror(-r));
}

/* "gave up after N attempts in S s (last: CAUSE)" with the redacted URL. */
static char *describe_gave_up(const char *url, unsigned tries, uint64_t start, const char *cause) {
        _cleanup_free_ char *safe = fetch_url_redact(url);
        return strprintf("%s: gave up after %u attempt%s in %" PRIu64 " s (last: %s)", safe ? safe : "?", tries,
                         tries == 1 ? "" : "s", (now_usec() - start + 500000) / 1000000, cause);
}

int fetch_to_buffer(const char *url, const FetchOptions *opts, char **ret, size_t *ret_size, char **ret_error) {
        FetchPolicy pol = fetch_get_policy();
        unsigned attempts = opts && opts->attempts ? opts->attempts : pol.attempts;
        unsigned timeout = opts && opts->timeout_sec ? opts->timeout_sec : 30;
        uint64_t deadline_sec = pol.deadline_sec < FETCH_DOCUMENT_DEADLINE_SEC ? pol.deadline_sec
                                                                               : FETCH_DOCUMENT_DEADLINE_SEC;
        uint64_t start = now_usec(), deadline = start + deadline_sec * 1000000u;
        char errbuf[CURL_ERROR_SIZE];
        long http_code = 0;
        unsigned tries = 0;
        int r = -EIO;

        for (;;) {
                Sink s = { .max = opts && opts->max_size ? opts->max_size : 4 * 1024 * 1024 };
                uint64_t now = now_usec();
                unsigned t = timeout;

                /* Each attempt within what is left of the deadline. */
                if (tries > 0 && deadline - now < (uint64_t) t * 1000000u)
                        t = (unsigned) ((deadline - now) / 1000000u) + 1;
                tries++;
                r = transfer(url, &s, t, opts ? opts->bearer_token : NULL, &http_code, NULL, errbuf);
                if (r >= 0) {
                        if (ret_size)
                                *ret_size = s.buf.len;
                        *ret = strbuf_steal(&s.buf);
                        return *ret ? 0 : -ENOMEM;
                }
                strbuf_done(&s.buf);
                if (!transient(r) || tries >= attempts)
                        break;
                uint64_t wait = fetch_backoff_random_usec(tries);
                if (now_usec() + wait >= deadline)
                        break;
                _cleanup_free_ char *safe = fetch_url_redact(url);
                if (http_code >= 400)
                        snprintf(errbuf, sizeof errbuf, "HTTP %ld", http_code);
                log_info("Fetching %s failed (%s); attempt %u of %u in %.1f s", safe ? safe : "?", errbuf, tries + 1,
                         attempts, (double) wait / 1e6);
                if (backoff_wait(wait, -1) < 0) {
                        r = -ECANCELED;
                        break;
                }
        }
        if (ret_error) {
                if (tries > 1 && r != -ECANCELED) {
                        _cleanup_free_ char *cause = http_code >= 400 ? strprintf("HTTP %ld", http_code)
                                                                      : strdup(errbuf[0] ? errbuf : strerror(-r));
                        *ret_error = describe_gave_up(url, tries, start, cause ? cause : "?");
                } else
                        *ret_error = describe(url, r, http_code, errbuf);
        }
        return r;
}

/* ---- the resuming stream ---------------------------------------------------------- */

typedef struct Stream {
        CURL *curl;
        fetch_write_cb cb;
        void *userdata;
        uint64_t *content_length;
        /* This answer (headers are reset at every status line: redirects). */
        FetchValidator hdr;
        char content_range[128];
        bool checked;             /* the answer was checked at its first byte */
        uint64_t got;             /* bytes of this answer passed on */
        /* The whole stream. */
        uint64_t offset;          /* bytes passed on so far */
        bool have_first;          /* first (the first answer's validators) is known */
        FetchValidator first;
        int cb_error;
        char stale[256];          /* why this answer cannot continue the first: -ESTALE */
        FetchRate rate;           /* this attempt's */
        bool too_slow, cancelled;
} Stream;

/* About once a second, and with every chunk: the minimum rate, a signal. */
static int stream_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
        Stream *st = userdata;

        if (interrupt_check() < 0) {
                st->cancelled = true;
                return 1;
        }
        if (fetch_rate_too_slow(&st->rate, now_usec(), st->got)) {
                st->too_slow = true;
                return 1;
        }
        return 0;
}

static void header_value(char *dst, size_t size, const char *v, size_t n) {
        while (n > 0 && (*v == ' ' || *v == '\t'))
                v++, n--;
        while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
        if (n >= size)
                n = size - 1;
        memcpy(dst, v, n);
        dst[n] = 0;
}

static size_t stream_header(char *ptr, size_t size, size_t nmemb, void *userdata) {
        Stream *st = userdata;
        size_t n = size * nmemb;

        if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
                st->hdr = (FetchValidator) {};
                st->content_range[0] = 0;
        } else if (n > 5 && strncasecmp(ptr, "ETag:", 5) == 0)
                header_value(st->hdr.etag, sizeof st->hdr.etag, ptr + 5, n - 5);
        else if (n > 14 && strncasecmp(ptr, "Last-Modified:", 14) == 0)
                header_value(st->hdr.last_modified, sizeof st->hdr.last_modified, ptr + 14, n - 14);
        else if (n > 14 && strncasecmp(ptr, "Content-Range:", 14) == 0)
                header_value(st->content_range, sizeof st->content_range, ptr + 14, n - 14);
        return n;
}

/* At the first byte of an answer: may it be passed on? Sets st->stale if not. */
static void stream_check_answer(Stream *st) {
        long code = 0;
        curl_off_t cl = -1;

        st->checked = true;
        curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(st->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        if (st->offset == 0) {
                /* The first answer (or a fresh start when nothing had arrived):
                 * it defines the file. */
                st->first = st->hdr;
                st->first.length = cl > 0 ? (uint64_t) cl : 0;
                st->have_first = true;
                if (st->content_length && cl > 0)
                        *st->content_length = (uint64_t) cl;
                return;
        }
        /* Nothing to check the rest against: without an ETag or a
         * Last-Modified a resume could splice two files (a length alone
         * does not tell two files of the same size apart). */
        if (!st->first.etag[0] && !st->first.last_modified[0]) {
                snprintf(st->stale, sizeof st->stale,
                         "cannot resume at byte %" PRIu64 ": the first answer had no ETag or Last-Modified to "
                         "check the rest against",
                         st->offset);
                return;
        }
        if (code == 200) {
                snprintf(st->stale, sizeof st->stale,
                         "server ignored the Range request (HTTP 200 instead of 206 for bytes %" PRIu64 "-)",
                         st->offset);
                return;
        }
        uint64_t f, l, len;
        if (code != 206 || fetch_parse_content_range(st->content_range, &f, &l, &len) < 0) {
                snprintf(st->stale, sizeof st->stale,
                         "unusable answer to the Range request (HTTP %ld, Content-Range '%.60s')", code,
                         st->content_range);
                return;
        }
        FetchValidator now = st->hdr;
        now.length = len;
        const char *what = fetch_validator_compare(&st->first, &now);
        if (what) {
                snprintf(st->stale, sizeof st->stale, "the file changed on the server (%s differs from the first answer)",
                         what);
                return;
        }
        /* The rest of the file, from the byte we have. A range that ends
         * early (a consistent part of the same file) is a truncated body:
         * resumed again from where it ends. */
        if (f != st->offset)
                snprintf(st->stale, sizeof st->stale,
                         "the server answered bytes %" PRIu64 "-%" PRIu64 " for a request from byte %" PRIu64, f, l,
                         st->offset);
}

static size_t stream_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        Stream *st = userdata;
        size_t n = size * nmemb;
        int r;

        if (!st->checked)
                stream_check_answer(st);
        if (st->stale[0])
                return 0;
        /* Never more than the first answer said the file holds. */
        if (st->first.length && st->offset + n > st->first.length) {
                snprintf(st->stale, sizeof st->stale, "the server sent more than the %" PRIu64 " bytes it announced",
                         st->first.length);
                return 0;
        }
        r = st->cb(ptr, n, st->userdata);
        if (r < 0) {
                st->cb_error = r;
                return 0;
        }
        st->offset += n;
        st->got += n;
        return n;
}

/* Transport errors that another attempt cannot fix. */
static bool curl_code_fatal(CURLcode cc) {
        switch (cc) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_TOO_MANY_REDIRECTS:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_FILE_COULDNT_READ_FILE:
        case CURLE_OUT_OF_MEMORY:
        case CURLE_LOGIN_DENIED:
        case CURLE_REMOTE_ACCESS_DENIED:
        case CURLE_BAD_CONTENT_ENCODING:
        case CURLE_FUNCTION_NOT_FOUND:
        case CURLE_NOT_BUILT_IN:
                return true;
        default:
                return false;
        }
}

typedef struct Attempt {
        int r;                    /* 0 done; -errno */
        bool transient;           /* another attempt may help */
        bool deadline;            /* the policy's deadline ended it: no more attempts */
        char cause[CURL_ERROR_SIZE + 64];
} Attempt;

static void stream_attempt(const char *url, Stream *st, const FetchPolicy *pol, uint64_t deadline, Attempt *a) {
        char errbuf[CURL_ERROR_SIZE] = "", range[32];
        long code = 0;
        CURLcode cc;
        CURL *c;
        int r;

        *a = (Attempt) {};
        r = check_file_url(url, 0);
        if (r < 0) {
                a->r = r;
                snprintf(a->cause, sizeof a->cause, "%s",
                         r == -EBADFD ? "not a regular file (a FIFO, socket or device is never read)"
                         : r == -EISDIR ? "is a directory" : strerror(-r));
                return;
        }
        c = curl_easy_init();
        if (!c) {
                a->r = -ENOMEM;
                snprintf(a->cause, sizeof a->cause, "out of memory");
                return;
        }
        st->curl = c;
        st->checked = false;
        st->got = 0;
        st->hdr = (FetchValidator) {};
        st->content_range[0] = 0;
        st->too_slow = st->cancelled = false;
        if (fetch_rate_init(&st->rate, pol->min_rate, pol->rate_window_sec, now_usec()) < 0) {
                curl_easy_cleanup(c);
                a->r = -ENOMEM;
                snprintf(a->cause, sizeof a->cause, "out of memory");
                return;
        }

        uint64_t now = now_usec(), left_ms = deadline > now ? (deadline - now) / 1000 + 1 : 1;
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stream_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, st);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, stream_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, st);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long) (left_ms < 15000 ? left_ms : 15000));
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long) left_ms);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "bare-metal-installer/0.1");
        /* Too slow (a stall included): below min_rate over the last window
         * (curl's own LOW_SPEED check averages over ~5 s more, so a stall
         * right after a fast burst would be noticed late). */
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, stream_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, st);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, fetch_redirect_protocols(url));
        if (st->offset > 0) {
                snprintf(range, sizeof range, "%" PRIu64 "-", st->offset);
                curl_easy_setopt(c, CURLOPT_RANGE, range);
        }
        /* https: the clock, the site CA (docs/tls.md). Never retried. */
        r = fetch_tls_setup(c, url, errbuf);
        if (r < 0) {
                curl_easy_cleanup(c);
                fetch_rate_done(&st->rate);
                st->curl = NULL;
                a->r = r;
                snprintf(a->cause, sizeof a->cause, "%s", errbuf);
                return;
        }

        cc = curl_easy_perform(c);
        if (cc != CURLE_OK)
                fetch_tls_explain(c, url, cc, errbuf);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_cleanup(c);
        fetch_rate_done(&st->rate);
        st->curl = NULL;
        if (!errbuf[0] && cc != CURLE_OK)
                snprintf(errbuf, sizeof errbuf, "%s", curl_easy_strerror(cc));

        if (st->cb_error) {
                a->r = st->cb_error;
                return;
        }
        if (st->stale[0]) {
                a->r = -ESTALE;
                snprintf(a->cause, sizeof a->cause, "%s", st->stale);
                return;
        }
        if (code >= 400) {
                snprintf(a->cause, sizeof a->cause, "HTTP %ld", code);
                if (http_code_transient(code)) {
                        a->r = -EIO;
                        a->transient = true;
                } else if (code == 416 && st->offset > 0) {
                        a->r = -ESTALE;
                        snprintf(a->cause, sizeof a->cause,
                                 "the file changed on the server (HTTP 416 for bytes %" PRIu64 "-)", st->offset);
                } else
                        a->r = code == 404 || code == 410 ? -ENOENT : -EACCES;
                return;
        }
        if (cc == CURLE_OK) {
                if (st->have_first && st->first.length && st->offset < st->first.length) {
                        /* A body that ended cleanly but short of its Content-Length. */
                        a->r = -EIO;
                        a->transient = true;
                        snprintf(a->cause, sizeof a->cause, "truncated body: ended at byte %" PRIu64 " of %" PRIu64,
                                 st->offset, st->first.length);
                        return;
                }
                a->r = 0;
                return;
        }
        if (st->cancelled) {
                a->r = -ECANCELED;
                snprintf(a->cause, sizeof a->cause, "cancelled by a signal");
                return;
        }
        if (st->too_slow) {
                a->r = -ETIMEDOUT;
                a->transient = true;
                snprintf(a->cause, sizeof a->cause, "slower than %" PRIu64 " bytes/s over %u s", pol->min_rate,
                         pol->rate_window_sec);
                return;
        }
        a->r = curl_code_to_errno(cc);
        if (cc == CURLE_UNSUPPORTED_PROTOCOL && code >= 300 && code < 400)
                snprintf(a->cause, sizeof a->cause, "HTTP %ld: redirect refused (%s)", code,
                         is_https(url) ? "https never redirects to another scheme" : "only http and https are followed");
        else if (cc == CURLE_OPERATION_TIMEDOUT && now_usec() + 1000 >= deadline) {
                snprintf(a->cause, sizeof a->cause, "the deadline of %" PRIu64 " s was reached", pol->deadline_sec);
                a->deadline = true;
        }
        else if (cc == CURLE_PARTIAL_FILE)
                snprintf(a->cause, sizeof a->cause, "truncated body: ended at byte %" PRIu64 " (%s)", st->offset,
                         errbuf);
        else
                snprintf(a->cause, sizeof a->cause, "%s", errbuf);
        a->transient = !curl_code_fatal(cc) && is_http_or_https(url);
}

int fetch_stream(const char *url, const FetchStreamOptions *opts, fetch_write_cb write_cb, void *userdata,
                 uint64_t *content_length, uint64_t *ret_total_size, char **ret_error) {
        FetchPolicy pol = fetch_get_policy();
        const char *what = opts && opts->what ? opts->what : "Image download";
        int cancel_fd = opts ? opts->cancel_fd : -1;
        uint64_t start = now_usec(), deadline = start + pol.deadline_sec * 1000000u;
        Stream st = { .cb = write_cb, .userdata = userdata, .content_length = content_length };
        unsigned tries = 0, failures = 0;
        Attempt a;
        int r;

        for (;;) {
                tries++;
                stream_attempt(url, &st, &pol, deadline, &a);
                if (ret_total_size)
                        *ret_total_size = st.offset;
                if (a.r >= 0)
                        return 0;
                if (st.cb_error)
                        return a.r;
                if (a.deadline)
                        goto gave_up;
                if (!a.transient)
                        break;
                /* Progress (a rate window's worth) starts the count again. */
                if (st.got >= pol.min_rate * pol.rate_window_sec)
                        failures = 0;
                failures++;
                if (failures >= pol.attempts)
                        goto gave_up;
                uint64_t wait = fetch_backoff_random_usec(failures);
                if (now_usec() + wait >= deadline) {
                        size_t l = strlen(a.cause);
                        snprintf(a.cause + l, sizeof a.cause - l, "; the deadline of %" PRIu64 " s is near",
                                 pol.deadline_sec);
                        goto gave_up;
                }
                char total[32] = "?";
                if (st.first.length)
                        snprintf(total, sizeof total, "%" PRIu64, st.first.length);
                log_info("%s interrupted at %" PRIu64 " of %s (%s); attempt %u of %u in %.1f s", what, st.offset,
                         total, a.cause, failures + 1, pol.attempts, (double) wait / 1e6);
                r = backoff_wait(wait, cancel_fd);
                if (r < 0) {
                        a.r = r;
                        snprintf(a.cause, sizeof a.cause, "cancelled while waiting to retry");
                        break;
                }
                if (st.offset > 0)
                        log_info("Resuming at byte %" PRIu64 " (Range)", st.offset);
                else
                        log_info("Retrying from the start");
        }
        if (ret_error) {
                _cleanup_free_ char *safe = fetch_url_redact(url);
                *ret_error = strprintf("%s: %s", safe ? safe : "?", a.cause);
        }
        return a.r;

gave_up:
        if (ret_error)
                *ret_error = describe_gave_up(url, tries, start, a.cause);
        return a.r;
}

static size_t discard_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        return size * nmemb;
}

int fetch_post(const char *url, const FetchPost *p, char **ret_error) {
        _cleanup_free_ char *auth = NULL, *ctype = NULL;
        struct curl_slist *headers = NULL, *h;
        char errbuf[CURL_ERROR_SIZE] = "";
        long http_code = 0;
        CURLcode cc;
        CURL *c;
        int r = 0;

        assert(url && p && p->content_type);
        ctype = strprintf("Content-Type: %s", p->content_type);
        if (p->bearer_token)
                auth = strprintf("Authorization: Bearer %s", p->bearer_token);
        if (!ctype || (p->bearer_token && !auth))
                return -ENOMEM;
        if (!(h = curl_slist_append(headers, ctype)))
                goto oom;
        headers = h;
        /* No "Expect: 100-continue" round trip for a large log. */
        if (!(h = curl_slist_append(headers, "Expect:")))
                goto oom;
        headers = h;
        if (auth) {
                if (!(h = curl_slist_append(headers, auth)))
                        goto oom;
                headers = h;
        }
        for (size_t i = 0; p->extra_headers && p->extra_headers[i]; i++) {
                if (!(h = curl_slist_append(headers, p->extra_headers[i])))
                        goto oom;
                headers = h;
        }
        c = curl_easy_init();
        if (!c)
                goto oom;
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->body ? p->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) p->size);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_write);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "bare-metal-installer/0.1");
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long) (p->timeout_sec ? p->timeout_sec : 10));
        curl_easy_setopt(c, CURLOPT_TIMEOUT, (long) (p->timeout_sec ? p->timeout_sec : 10));
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        /* https: the clock, the site CA (docs/tls.md). */
        r = fetch_tls_setup(c, url, errbuf);
        if (r < 0) {
                curl_easy_cleanup(c);
                curl_slist_free_all(headers);
                if (auth)
                        explicit_bzero(auth, strlen(auth));
                if (ret_error)
                        *ret_error = describe(url, r, 0, errbuf);
                return r;
        }

        cc = curl_easy_perform(c);
        if (cc != CURLE_OK)
                fetch_tls_explain(c, url, cc, errbuf);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http_code);
        curl_easy_cleanup(c);
        curl_slist_free_all(headers);
        if (auth)
                explicit_bzero(auth, strlen(auth));

        if (cc != CURLE_OK)
                r = curl_code_to_errno(cc);
        else if (http_code == 401 || http_code == 403)
                r = -EACCES;
        else if (http_code == 404 || http_code == 410)
                r = -ENOENT;
        else if (http_code == 413)
                r = -EFBIG;
        else if (http_code == 400 || http_code == 415 || http_code == 422)
                r = -EBADMSG;
        else if (http_code < 200 || http_code >= 300)
                r = -EIO;
        if (r < 0 && ret_error) {
                if (cc != CURLE_OK && !errbuf[0])
                        snprintf(errbuf, sizeof errbuf, "%s", curl_easy_strerror(cc));
                *ret_error = describe(url, r, cc == CURLE_OK ? (http_code >= 400 ? http_code : 0) : 0, errbuf);
                if (*ret_error && cc == CURLE_OK && http_code < 400) {
                        free(*ret_error);
                        _cleanup_free_ char *safe = fetch_url_redact(url);
                        *ret_error = strprintf("%s: unexpected HTTP %ld", safe ? safe : "?", http_code);
                }
        }
        return r;
oom:
        curl_slist_free_all(headers);
        if (auth)
                explicit_bzero(auth, strlen(auth));
        return -ENOMEM;
}
