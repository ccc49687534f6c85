/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The retry policy shared by every fetch, and the pure parts of resuming:
 * backoff, Content-Range, validators. No I/O except getrandom(). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "basic/strutil.h"
#include "fetch/fetch.h"

static pthread_mutex_t policy_lock = PTHREAD_MUTEX_INITIALIZER;
static FetchPolicy policy;

void fetch_set_policy(const FetchPolicy *p) {
        pthread_mutex_lock(&policy_lock);
        policy = p ? *p : (FetchPolicy) {};
        pthread_mutex_unlock(&policy_lock);
}

FetchPolicy fetch_get_policy(void) {
        FetchPolicy p;

        pthread_mutex_lock(&policy_lock);
        p = policy;
        pthread_mutex_unlock(&policy_lock);
        if (p.attempts == 0)
                p.attempts = FETCH_DEFAULT_ATTEMPTS;
        if (p.deadline_sec == 0)
                p.deadline_sec = FETCH_DEFAULT_DEADLINE_SEC;
        if (p.min_rate == 0)
                p.min_rate = FETCH_DEFAULT_MIN_RATE;
        if (p.rate_window_sec == 0)
                p.rate_window_sec = FETCH_DEFAULT_RATE_WINDOW_SEC;
        return p;
}

uint64_t fetch_backoff_usec(unsigned retry, uint64_t rnd) {
        uint64_t d = FETCH_BACKOFF_MAX_USEC;

        if (retry == 0)
                retry = 1;
        /* 1 s << 5 = 32 s is past the cap already. */
        if (retry <= 5)
                d = FETCH_BACKOFF_FIRST_USEC << (retry - 1);
        if (d > FETCH_BACKOFF_MAX_USEC)
                d = FETCH_BACKOFF_MAX_USEC;
        return d / 2 + rnd % (d - d / 2 + 1);
}

uint64_t fetch_backoff_random_usec(unsigned retry) {
        uint64_t rnd = 0;

        /* Jitter is not a secret: a short read or an error leaves the
         * midpoint-ish value 0 (the lower bound), still a valid wait. */
        if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t) sizeof rnd)
                rnd = 0;
        return fetch_backoff_usec(retry, rnd);
}

static bool parse_u64(const char **p, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;

        if (*s < '0' || *s > '9')
                return false;
        for (; *s >= '0' && *s <= '9'; s++) {
                uint64_t digit = (uint64_t) (*s - '0');
                if (v > (UINT64_MAX - digit) / 10)
                        return false;
                v = v * 10 + digit;
        }
        *p = s;
        *ret = v;
        return true;
}

int fetch_parse_content_range(const char *value, uint64_t *ret_first, uint64_t *ret_last, uint64_t *ret_length) {
        uint64_t first, last, length;
        const char *p = value;

        if (!p)
                return -EINVAL;
        p += strspn(p, " \t");
        if (strncasecmp(p, "bytes", 5) != 0)
                return -EINVAL;
        p += 5;
        if (*p != ' ' && *p != '\t')
                return -EINVAL;
        p += strspn(p, " \t");
        if (!parse_u64(&p, &first) || *p++ != '-' || !parse_u64(&p, &last) || *p++ != '/' ||
            !parse_u64(&p, &length))
                return -EINVAL;
        p += strspn(p, " \t\r\n");
        if (*p || first > last || last >= length)
                return -EINVAL;
        *ret_first = first;
        *ret_last = last;
        *ret_length = length;
        return 0;
}

const char *fetch_validator_compare(const FetchValidator *first, const FetchValidator *now) {
        if (first->etag[0] && !streq(first->etag, now->etag))
                return "ETag";
        if (first->last_modified[0] && !streq(first->last_modified, now->last_modified))
                return "Last-Modified";
        if (first->length && first->length != now->length)
                return "length";
        return NULL;
}

int fetch_rate_init(FetchRate *r, uint64_t min_rate, unsigned window_sec, uint64_t now_usec) {
        *r = (FetchRate) { .min_rate = min_rate, .window_sec = window_sec ? window_sec : 1, .start_usec = now_usec };
        r->samples = calloc(r->window_sec + 1, sizeof(uint64_t));
        return r->samples ? 0 : -ENOMEM;
}

bool fetch_rate_too_slow(FetchRate *r, uint64_t now_usec, uint64_t bytes) {
        uint64_t n = r->window_sec + 1, sec = now_usec > r->start_usec ? (now_usec - r->start_usec) / 1000000u : 0;

        if (!r->samples)
                return false;
        /* Seconds without a call keep the count of the last one. */
        if (sec > r->last_sec) {
                uint64_t from = sec - r->last_sec > n ? sec - n + 1 : r->last_sec + 1;
                for (uint64_t s = from; s < sec; s++)
                        r->samples[s % n] = r->last_bytes;
        }
        if (sec >= r->last_sec) {
                r->samples[sec % n] = bytes;
                r->last_sec = sec;
                r->last_bytes = bytes;
        }
        if (sec < r->window_sec)
                return false;
        return bytes - r->samples[(sec - r->window_sec) % n] < r->min_rate * r->window_sec;
}

void fetch_rate_done(FetchRate *r) {
        free(r->samples);
        r->samples = NULL;
}
