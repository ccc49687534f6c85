/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the profile's fetch: section (installer/profile/profile-fetch.c):
 * values and units, bounds, errors at FILE:LINE:COL. The error file
 * tests/data/profiles/fetch-errors.yaml is checked by test_profile too. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "basic/strutil.h"
#include "profile/profile.h"

#define HEAD                                                                                     \
        "version: 1\nhostname: f01\ndisk:\n  partitions:\n    - { size: rest, mount: / }\n"       \
        "image:\n  url: http://10.0.2.100/x.tgz\n  insecure_no_checksum: true\n"

/* The fetch: lines start at line 10 (HEAD has 8, "fetch:" is 9). */
static int load(const char *fetch, Profile **ret, char **ret_errors) {
        _cleanup_free_ char *yaml = strprintf(HEAD "fetch:\n%s", fetch);
        ProfileErrors e = {};
        char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        assert_non_null(yaml);
        r = profile_load_string("p.yaml", yaml, strlen(yaml), ret, &e);
        f = open_memstream(&buf, &size);
        profile_errors_print(f, &e);
        fclose(f);
        profile_errors_done(&e);
        *ret_errors = buf;
        return r;
}

static void test_values(void **state) {
        static const struct {
                const char *yaml;
                unsigned attempts;
                uint64_t deadline, min_rate;
                unsigned window;
        } cases[] = {
                { "  attempts: 3\n  deadline: 6h\n  min_rate: 64KiB\n  rate_window: 5s\n", 3, 21600, 65536, 5 },
                { "  attempts: 100\n  deadline: 7d\n  min_rate: 1000000000\n  rate_window: 1h\n", 100, 604800,
                  1000000000, 3600 },
                { "  attempts: 1\n  deadline: 10\n  min_rate: 1\n  rate_window: 60m\n", 1, 10, 1, 3600 },
                { "  deadline: 90s\n", 0, 90, 0, 0 },
                { "  rate_window: 15m\n", 0, 0, 0, 900 },
                { "  min_rate: 1MB\n", 0, 0, 1000000, 0 },
                { "  attempts: ~\n", 0, 0, 0, 0 }, /* null: absent, the default */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *errors = NULL;
                Profile *p = NULL;
                if (load(cases[i].yaml, &p, &errors) < 0)
                        fail_msg("case %zu: %s", i, errors);
                assert_int_equal(p->fetch.attempts, cases[i].attempts);
                assert_int_equal(p->fetch.deadline_s, cases[i].deadline);
                assert_int_equal(p->fetch.min_rate, cases[i].min_rate);
                assert_int_equal(p->fetch.rate_window_s, cases[i].window);
                profile_free(p);
        }
}

static void test_errors(void **state) {
        static const struct {
                const char *yaml;
                const char *error;
        } cases[] = {
                { "  attempts: 101\n", "p.yaml:10:13: error: fetch.attempts: expected an integer from 1 to 100, got '101'\n" },
                { "  attempts: three\n", "p.yaml:10:13: error: fetch.attempts: expected an integer from 1 to 100, got 'three'\n" },
                { "  deadline: 8d\n", "p.yaml:10:13: error: fetch.deadline: duration '8d' is out of range (10s to 7d)\n" },
                { "  deadline: 6 h\n", "p.yaml:10:13: error: fetch.deadline: invalid duration '6 h' (expected seconds, or a "
                                       "number with s, m, h or d, for example 90s, 15m, 6h)\n" },
                { "  deadline: 99999999999999999h\n", "p.yaml:10:13: error: fetch.deadline: duration "
                                                     "'99999999999999999h' is out of range (10s to 7d)\n" },
                { "  rate_window: 4s\n", "p.yaml:10:16: error: fetch.rate_window: duration '4s' is out of range (5s to 1h)\n" },
                { "  rate_window: 61m\n", "p.yaml:10:16: error: fetch.rate_window: duration '61m' is out of range (5s to 1h)\n" },
                { "  min_rate: 0\n", "p.yaml:10:13: error: fetch.min_rate: rate '0' is out of range (1 to 1000000000 bytes per second)\n" },
                { "  min_rate: fast\n", "p.yaml:10:13: error: fetch.min_rate: invalid size 'fast' (expected for example "
                                        "4GiB, 512MiB or a number of bytes)\n" },
                { "  deadline: [1]\n", "p.yaml:10:13: error: fetch.deadline: expected a string, got a list\n" },
                { "  retry: 1\n", "p.yaml:10:3: error: fetch.retry: unknown key 'retry'; allowed here: attempts, deadline, "
                                  "min_rate, rate_window\n" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *errors = NULL;
                Profile *p = NULL;
                int r = load(cases[i].yaml, &p, &errors);
                if (r != -EINVAL || !streq(errors, cases[i].error))
                        fail_msg("case %zu: %d\n%s--- expected:\n%s", i, r, errors, cases[i].error);
                assert_null(p);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_values),
                cmocka_unit_test(test_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
