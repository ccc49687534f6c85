/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the pure parts of resuming (installer/fetch/fetch-policy.c):
 * the backoff's bounds, Content-Range parsing, the comparison of a resumed
 * answer with the first, the policy's defaults. The transfers themselves are
 * tested through a fault proxy in tests/cli/fetch-faults.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <string.h>

#include "basic/macro.h"
#include "fetch/fetch.h"

static void test_backoff_bounds(void **state) {
        /* d = 1 s doubling, cap 30 s; the wait is in [d/2, d]. */
        static const uint64_t d[] = { 0, 1000000, 2000000, 4000000, 8000000, 16000000, 30000000, 30000000, 30000000 };
        static const uint64_t rnds[] = { 0, 1, 499999, 500000, 500001, 12345678901ull, UINT64_MAX - 1, UINT64_MAX };

        for (unsigned retry = 1; retry < ELEMENTSOF(d); retry++)
                for (size_t i = 0; i < ELEMENTSOF(rnds); i++) {
                        uint64_t w = fetch_backoff_usec(retry, rnds[i]);
                        if (w < d[retry] / 2 || w > d[retry])
                                fail_msg("retry %u rnd %" PRIu64 ": %" PRIu64 " not in [%" PRIu64 ", %" PRIu64 "]", retry,
                                         rnds[i], w, d[retry] / 2, d[retry]);
                }
        /* Both ends are reachable. */
        assert_int_equal(fetch_backoff_usec(1, 0), 500000);
        assert_int_equal(fetch_backoff_usec(1, 500000), 1000000);
        assert_int_equal(fetch_backoff_usec(3, 2000000), 4000000);
        /* Large retry numbers do not overflow the shift. */
        assert_int_equal(fetch_backoff_usec(64, 0), 15000000);
        assert_int_equal(fetch_backoff_usec(1000, 15000000), 30000000);
        assert_int_equal(fetch_backoff_usec(0, 0), 500000);
        /* The random version stays within the bounds too. */
        for (unsigned i = 0; i < 100; i++) {
                uint64_t w = fetch_backoff_random_usec(2);
                assert_true(w >= 1000000 && w <= 2000000);
        }
}

static void test_content_range(void **state) {
        static const struct {
                const char *v;
                int r;
                uint64_t f, l, len;
        } cases[] = {
                { "bytes 100-199/200", 0, 100, 199, 200 },
                { "  bytes 0-0/1\r\n", 0, 0, 0, 1 },
                { "BYTES 5-9/10", 0, 5, 9, 10 },
                { "bytes 18446744073709551613-18446744073709551613/18446744073709551614", 0, 18446744073709551613ull,
                  18446744073709551613ull, 18446744073709551614ull },
                { "bytes 100-199/*", -EINVAL, 0, 0, 0 },
                { "bytes */200", -EINVAL, 0, 0, 0 },
                { "bytes 200-199/300", -EINVAL, 0, 0, 0 },   /* first > last */
                { "bytes 100-200/200", -EINVAL, 0, 0, 0 },   /* last beyond the length */
                { "bytes=100-199/200", -EINVAL, 0, 0, 0 },
                { "bytes100-199/200", -EINVAL, 0, 0, 0 },
                { "items 1-2/3", -EINVAL, 0, 0, 0 },
                { "bytes 1-2/3 junk", -EINVAL, 0, 0, 0 },
                { "bytes -1-2/3", -EINVAL, 0, 0, 0 },
                { "bytes 1-2/99999999999999999999999", -EINVAL, 0, 0, 0 }, /* overflow */
                { "", -EINVAL, 0, 0, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t f = 7, l = 7, len = 7;
                int r = fetch_parse_content_range(cases[i].v, &f, &l, &len);
                if (r != cases[i].r)
                        fail_msg("'%s': %d, expected %d", cases[i].v, r, cases[i].r);
                if (r == 0 && (f != cases[i].f || l != cases[i].l || len != cases[i].len))
                        fail_msg("'%s': %" PRIu64 "-%" PRIu64 "/%" PRIu64, cases[i].v, f, l, len);
                if (r < 0)
                        assert_true(f == 7 && l == 7 && len == 7);
        }
        uint64_t f, l, len;
        assert_int_equal(fetch_parse_content_range(NULL, &f, &l, &len), -EINVAL);
}

static void test_validator(void **state) {
        FetchValidator first = { .etag = "\"abc\"", .last_modified = "Mon, 07 Dec 2026 10:00:00 GMT", .length = 1000 };
        FetchValidator now = first;

        assert_null(fetch_validator_compare(&first, &now));
        strcpy(now.etag, "\"abd\"");
        assert_string_equal(fetch_validator_compare(&first, &now), "ETag");
        now.etag[0] = 0; /* dropped on the second answer: not the same file as far as we know */
        assert_string_equal(fetch_validator_compare(&first, &now), "ETag");
        now = first;
        strcpy(now.last_modified, "Mon, 07 Dec 2026 10:00:01 GMT");
        assert_string_equal(fetch_validator_compare(&first, &now), "Last-Modified");
        now = first;
        now.length = 1001;
        assert_string_equal(fetch_validator_compare(&first, &now), "length");

        /* What the first answer did not say is not compared (but a length
         * it did say is). */
        FetchValidator bare = { .length = 1000 };
        now = first;
        assert_null(fetch_validator_compare(&bare, &now));
        now.length = 999;
        assert_string_equal(fetch_validator_compare(&bare, &now), "length");
        FetchValidator none = {};
        assert_null(fetch_validator_compare(&none, &now));
}

#define SEC 1000000ull

static void test_rate_window(void **state) {
        FetchRate r;

        /* A trickle of 200 bytes/s against 1024 over 5 s: too slow at 5 s,
         * not before. */
        assert_int_equal(fetch_rate_init(&r, 1024, 5, 100 * SEC), 0);
        for (uint64_t t = 0; t < 5 * SEC; t += SEC / 4)
                assert_false(fetch_rate_too_slow(&r, 100 * SEC + t, t * 200 / SEC));
        assert_true(fetch_rate_too_slow(&r, 105 * SEC, 1000));
        fetch_rate_done(&r);

        /* Fast, then a stall: noticed one window (+ at most a second) after
         * the last byte, not later (curl's own check waits ~5 s more). */
        assert_int_equal(fetch_rate_init(&r, 1024, 5, 0), 0);
        uint64_t t = 0;
        for (; t <= 3 * SEC; t += SEC / 2)
                assert_false(fetch_rate_too_slow(&r, t, t / SEC * 1000000));
        uint64_t last = 3 * 1000000, stalled = t;
        for (; !fetch_rate_too_slow(&r, t, last); t += SEC / 2)
                assert_true(t < stalled + 7 * SEC);
        assert_true(t >= stalled + 4 * SEC);
        fetch_rate_done(&r);

        /* Exactly the rate is enough; no calls for a long time (a blocked
         * callback) and then the same count: too slow. */
        assert_int_equal(fetch_rate_init(&r, 100, 5, 0), 0);
        for (uint64_t s = 0; s <= 20; s++)
                assert_false(fetch_rate_too_slow(&r, s * SEC, s * 100));
        assert_true(fetch_rate_too_slow(&r, 100 * SEC, 2000));
        fetch_rate_done(&r);
}

static void test_policy_defaults(void **state) {
        FetchPolicy p = fetch_get_policy();
        assert_int_equal(p.attempts, 10);
        assert_int_equal(p.deadline_sec, 6 * 3600);
        assert_int_equal(p.min_rate, 1024);
        assert_int_equal(p.rate_window_sec, 60);

        fetch_set_policy(&(FetchPolicy) { .attempts = 3, .rate_window_sec = 5 });
        p = fetch_get_policy();
        assert_int_equal(p.attempts, 3);
        assert_int_equal(p.deadline_sec, 6 * 3600);
        assert_int_equal(p.min_rate, 1024);
        assert_int_equal(p.rate_window_sec, 5);

        fetch_set_policy(NULL);
        p = fetch_get_policy();
        assert_int_equal(p.attempts, 10);
        assert_int_equal(p.rate_window_sec, 60);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_backoff_bounds),
                cmocka_unit_test(test_content_range),
                cmocka_unit_test(test_validator),
                cmocka_unit_test(test_rate_window),
                cmocka_unit_test(test_policy_defaults),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
