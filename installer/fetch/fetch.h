/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* HTTP(S) and file:// transfers through libcurl. URLs are redacted (no
 * user, password, query or fragment) in every message. */

#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"

/* The retry policy of every fetch in the process (docs/installer.md,
 * "Retries and resume"): the profile's fetch: section, set once the profile
 * is loaded; the defaults before. */
typedef struct FetchPolicy {
        unsigned attempts;         /* tries per URL for transient failures; 0 = default 10 */
        uint64_t deadline_sec;     /* whole transfer incl. retries and waits; 0 = default 6 h
                                    * for streams; small documents: min(this, 10 min) */
        uint64_t min_rate;         /* bytes/s; 0 = default 1024 */
        unsigned rate_window_sec;  /* min_rate is judged over this window; 0 = default 60 */
} FetchPolicy;

#define FETCH_DEFAULT_ATTEMPTS 10u
#define FETCH_DEFAULT_DEADLINE_SEC (6u * 3600u)
#define FETCH_DOCUMENT_DEADLINE_SEC (10u * 60u)
#define FETCH_DEFAULT_MIN_RATE 1024u
#define FETCH_DEFAULT_RATE_WINDOW_SEC 60u
#define FETCH_BACKOFF_FIRST_USEC 1000000ull
#define FETCH_BACKOFF_MAX_USEC 30000000ull

/* Set the process-wide policy (copied; zero fields mean the default). Call
 * before any transfer runs in another thread. */
void fetch_set_policy(const FetchPolicy *p);
/* The policy in force with every default filled in. */
FetchPolicy fetch_get_policy(void);

/* The wait before retry number 'retry' (1 = the first retry): d = 1 s
 * doubling per retry, at most 30 s; the wait is uniform in [d/2, d], drawn
 * from rnd (any 64-bit random value). In microseconds. Pure. */
uint64_t fetch_backoff_usec(unsigned retry, uint64_t rnd);
/* fetch_backoff_usec() with a random value from getrandom(). */
uint64_t fetch_backoff_random_usec(unsigned retry);

/* The value of a Content-Range header of a 206 answer, "bytes F-L/LEN"
 * (whitespace around it ignored; LEN may not be "*"). Returns 0, or -EINVAL
 * when malformed or inconsistent (F > L, L >= LEN). Pure. */
int fetch_parse_content_range(const char *value, uint64_t *ret_first, uint64_t *ret_last, uint64_t *ret_length);

/* What identifies one version of a file on an HTTP server: the first
 * answer's, compared with every resumed answer's. Empty strings / length 0
 * when the server did not say. */
typedef struct FetchValidator {
        char etag[256];
        char last_modified[64];
        uint64_t length;          /* the whole file's length, 0 if unknown */
} FetchValidator;
/* NULL when 'now' (a resumed answer) may continue 'first', else what
 * differs ("ETag", "Last-Modified", "length"). An ETag or Last-Modified that
 * the first answer had must be present and equal; a known length must be
 * equal. Pure. */
const char *fetch_validator_compare(const FetchValidator *first, const FetchValidator *now);

/* The minimum rate, judged over a sliding window of whole seconds: too
 * slow when fewer than min_rate x window_sec bytes arrived in the last
 * window_sec seconds (a stall included), never before window_sec seconds of
 * the attempt have passed. Pure: the caller passes the time. */
typedef struct FetchRate {
        uint64_t min_rate;
        unsigned window_sec;
        uint64_t *samples;        /* bytes seen at second s, at samples[s % (window_sec + 1)] */
        uint64_t start_usec;
        uint64_t last_sec;
        uint64_t last_bytes;
} FetchRate;
int fetch_rate_init(FetchRate *r, uint64_t min_rate, unsigned window_sec, uint64_t now_usec);
/* bytes: received in this attempt so far. True when too slow. */
bool fetch_rate_too_slow(FetchRate *r, uint64_t now_usec, uint64_t bytes);
void fetch_rate_done(FetchRate *r);

typedef struct FetchOptions {
        unsigned attempts;        /* tries for transient errors; 0 = the policy's */
        unsigned timeout_sec;     /* per attempt, for small documents; 0 = 30 */
        size_t max_size;          /* refuse larger bodies; 0 = 4 MiB */
        const char *bearer_token; /* SECRET; "Authorization: Bearer TOKEN" (http/https),
                                   * and then redirects are not followed */
} FetchOptions;

/* Fetch a small document into memory. Returns 0, -ENOENT when the server says
 * 404/410 (or the file does not exist), -EFBIG when larger than max_size,
 * -EACCES for other 4xx answers, -EIO/-ETIMEDOUT/-ECONNREFUSED... for 5xx
 * and transport errors (and for a redirect when a bearer token is given),
 * -EPROTO for TLS errors and refused redirects (https to http). Transient
 * failures (5xx, transport) are tried again after fetch_backoff_random_usec()
 * up to the policy's attempts (opts->attempts when set) within min(the
 * policy's deadline, 10 min). *ret_error (if given) describes the failure
 * with the redacted URL, and after retries the attempts and the last cause. */
int fetch_to_buffer(const char *url, const FetchOptions *opts, char **ret, size_t *ret_size,
                    char **ret_error);

/* Streaming download: data is handed to write_cb as it arrives; write_cb
 * returns 0 to continue or -errno to abort. Used for OS images. If
 * content_length is not NULL, it is set to the announced size (when the
 * server announces one) before write_cb first runs.
 *
 * Resuming (http/https): after a dropped connection, a 5xx answer, a
 * transfer slower than the policy's min_rate over its rate_window (a stall
 * included) or a body shorter than its Content-Length, the stream waits
 * (fetch_backoff_random_usec()) and asks for the rest with "Range: bytes=N-".
 * write_cb sees every byte of the file exactly once and in order. The
 * resumed answer must be a 206 for exactly the rest of the same file (the
 * first answer's length, ETag and Last-Modified); otherwise the stream stops
 * with -ESTALE and passes on nothing of that answer. The policy's attempts
 * count failed tries in a row (an attempt that delivered at least
 * min_rate x rate_window bytes starts the count again); its deadline bounds
 * the whole stream. Each retry logs two info lines (opts->what: "Image
 * download" by default):
 *   WHAT interrupted at BYTES of TOTAL (CAUSE); attempt K of N in D s
 *   Resuming at byte BYTES (Range)
 * Returns 0 or: write_cb's error (no *ret_error then); -ENOENT (404/410),
 * -EACCES (other 4xx), -ESTALE (Range ignored, the file changed), -EPROTO
 * (TLS, a refused redirect, e.g. https to http), -ECANCELED (opts->cancel_fd
 * hung up, or interrupt_check() reported a signal, during a wait), and when
 * attempts or the deadline run out -EIO (5xx, connection lost, truncated),
 * -ETIMEDOUT (too slow, deadline), -ECONNREFUSED, -EHOSTUNREACH.
 * *ret_error then names the redacted URL, the attempts, the time and the last
 * cause: "URL: gave up after 10 attempts in 312 s (last: HTTP 503)". */
typedef int (*fetch_write_cb)(const void *data, size_t size, void *userdata);
typedef struct FetchStreamOptions {
        int cancel_fd;            /* >= 0: a socket whose POLLHUP/POLLERR ends a backoff wait */
        const char *what;         /* for the retry log lines; NULL: "Image download" */
} FetchStreamOptions;
int fetch_stream(const char *url, const FetchStreamOptions *opts, fetch_write_cb write_cb, void *userdata,
                 uint64_t *content_length, uint64_t *ret_total_size, char **ret_error);

/* POST body to url (http/https only; redirects are not followed, so a token
 * never travels to another host). content_type is required; bearer_token (if
 * not NULL) goes into "Authorization: Bearer TOKEN"; extra_headers is a
 * NULL-terminated list of "Name: value" lines (may be NULL). One attempt of at
 * most timeout_sec seconds (connecting included). Returns 0 for a 2xx answer,
 * -EACCES (401/403), -ENOENT (404/410), -EFBIG (413: sending it again is
 * pointless), -EBADMSG (400, 415, 422: refused as malformed, ditto), -EIO
 * (other HTTP errors and transport errors), -ETIMEDOUT, -ECONNREFUSED...
 * *ret_error (if given) says what went
 * wrong with the redacted URL. Never logs. */
typedef struct FetchPost {
        const char *content_type;
        const char *bearer_token;     /* SECRET */
        const char *const *extra_headers;
        const void *body;
        size_t size;
        unsigned timeout_sec;         /* 0 = 10 */
} FetchPost;
int fetch_post(const char *url, const FetchPost *p, char **ret_error);

/* Copy of url without userinfo, query and fragment: safe to print. The same
 * as url_redact() (basic/url.h), which modules that do no I/O call. */
char *fetch_url_redact(const char *url);

/* ---- TLS (fetch-tls.c, docs/tls.md) -------------------------------------------------
 * Every https request of the process (fetch_to_buffer, fetch_stream,
 * fetch_post; an http URL redirected to https too) is verified against one
 * set of trusted CAs:
 *   - with a site CA in the boot image (FETCH_SITE_CA_PATH, one or more PEM
 *     certificates; `make SITE_CA=ca.pem`): that file and the CAs added with
 *     fetch_tls_add_ca() only, never the public bundle;
 *   - without: the system bundle (/etc/ssl/certs/ca-certificates.crt) and
 *     the CAs added with fetch_tls_add_ca().
 * The file is read at the first https request (or fetch_tls_describe());
 * when it exists but cannot be used, every https request fails (-EPROTO):
 * never a fallback to the public bundle. Before every https request the
 * clock is checked (clock_check(clock_now()), basic/clock.h): a clock
 * earlier than the installer's build fails the request with -EPROTO and a
 * message saying so. Certificate and host name errors are -EPROTO too, and
 * never retried; *ret_error names the redacted URL and the reason ("TLS
 * certificate refused: it has expired (...)").
 * Test seam: $INSTALLER_SITE_CA names another file (test_seam_getenv()). */
#define FETCH_SITE_CA_PATH "/etc/installer/site-ca.pem"
#define FETCH_TLS_MAX_EXTRA_CAS 16

/* One line saying what https is verified against, e.g. "https: the site CA
 * 'Example Site CA' (sha256 ab12...) from /etc/installer/site-ca.pem only".
 * Returns 0 and *ret, or -EPROTO (the site CA file is unusable; *ret_error
 * says why) or -ENOMEM. Loads the site CA if it was not loaded yet. */
int fetch_tls_describe(char **ret, char **ret_error);

/* A CA certificate as given (PEM holding exactly one certificate, or DER):
 * its DER bytes, the lower-case hex sha256 of the DER (what a profile pins)
 * and its subject (one line, for messages). Refuses (-EINVAL, *ret_error)
 * anything else, and certificates that are not CA certificates. Pure. */
typedef struct FetchCa {
        unsigned char *der;
        size_t der_size;
        char sha256[65];
        char *subject;
} FetchCa;
int fetch_tls_parse_ca(const void *data, size_t size, FetchCa *ret, char **ret_error);
void fetch_ca_done(FetchCa *ca);

/* Trust ca (parsed by fetch_tls_parse_ca() and checked against its pin by
 * the caller) for every later https request of the process, besides the
 * site CA (or the system bundle). Returns 0, -E2BIG (more than
 * FETCH_TLS_MAX_EXTRA_CAS), -EPROTO (the site CA file is unusable), -ENOMEM.
 * Thread-safe. */
int fetch_tls_add_ca(const FetchCa *ca);

/* Forget the loaded site CA and the added CAs (tests). */
void fetch_tls_reset(void);

/* Global libcurl init/cleanup, once per process. */
int fetch_global_init(void);
void fetch_global_done(void);
