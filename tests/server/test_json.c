/* SPDX-License-Identifier: GPL-2.0-or-later */
/* server/json.c: RFC 3339 times both ways, the MACHINE and ATTEMPT shapes of
 * docs/site.md, the phases built from start/finish events. Also that the
 * server's jansson calls reach jansson (installer/basic/json.c's writer once
 * had a json_string() and json_null() of its own, which took them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "json.h"

static void assert_json(json_t *j, const char *want) {
        char *got = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        assert_non_null(got);
        if (!streq(got, want))
                fail_msg("got  %s\nwant %s", got, want);
        free(got);
}

static void test_jansson_symbols(void **state) {
        json_t *s = json_string("x"), *n = json_null();

        assert_true(json_is_string(s));
        assert_string_equal(json_string_value(s), "x");
        assert_true(json_is_null(n));
        json_decref(s);
}

static void test_time(void **state) {
        char buf[64];
        int64_t t;

        assert_string_equal(json_format_time(1796666400000001, buf), "2026-12-07T18:00:00.000001Z");
        assert_string_equal(json_format_time(0, buf), "1970-01-01T00:00:00.000000Z");
        assert_int_equal(json_parse_time("2026-12-07T18:00:00.000001Z", &t), 0);
        assert_int_equal(t, 1796666400000001);
        assert_int_equal(json_parse_time("2026-12-07T18:00:00Z", &t), 0);
        assert_int_equal(t, 1796666400000000);
        assert_int_equal(json_parse_time("2026-12-07T19:00:00.5+01:00", &t), 0);
        assert_int_equal(t, 1796666400500000);
        assert_int_equal(json_parse_time("2026-12-07T18:00:00.1234567Z", &t), 0);
        assert_int_equal(t, 1796666400123456);
        assert_int_equal(json_parse_time("2026-12-07 18:40:00Z", &t), -EINVAL);
        assert_int_equal(json_parse_time("2026-12-07T18:00:00", &t), -EINVAL);
        assert_int_equal(json_parse_time("2026-12-07T18:00:00.Z", &t), -EINVAL);
        assert_int_equal(json_parse_time("2026-12-07T18:00:00Zjunk", &t), -EINVAL);
        assert_int_equal(json_parse_time(NULL, &t), -EINVAL);
        json_t *j = json_time(0);
        assert_true(json_is_null(j));
}

static void test_machine(void **state) {
        Machine m = {
                .id = 3, .mac = (char *) "52:54:00:12:34:56", .platform = (char *) "pcbios",
                .state = MACHINE_INSTALLING, .created = 1796666400000000, .state_since = 1796666401000000,
                .last_seen = 1796666402000000, .phase = (char *) "image", .progress_done = 10,
                .progress_total = 100, .progress_rate = 2.5, .progress_eta = -1, .progress_time = 1796666403000000,
                .current_install = 7, .has_inventory = true,
        };
        Attempt a = { .id = 7, .machine_id = 3, .number = 2, .kind = ATTEMPT_INSTALL, .profile = (char *) "lookup",
                      .started = 1796666401000000, .exit_status = -1, .events = 12 };
        json_t *j = json_machine(&m, &a);

        assert_json(j, "{\"attempt\":{\"events\":12,\"exit_status\":null,\"finished\":null,\"has_log\":false,\"id\":7,"
                       "\"kind\":\"install\",\"number\":2,\"profile\":\"lookup\",\"started\":\"2026-12-07T18:00:01.000000Z\"},"
                       "\"created\":\"2026-12-07T18:00:00.000000Z\",\"has_inventory\":true,\"hostname\":null,\"id\":3,"
                       "\"last_error\":null,\"last_seen\":\"2026-12-07T18:00:02.000000Z\",\"mac\":\"52:54:00:12:34:56\","
                       "\"message\":null,\"phase\":\"image\",\"platform\":\"pcbios\",\"profile\":null,"
                       "\"progress\":{\"done\":10,\"eta\":null,\"rate\":2.5,\"time\":\"2026-12-07T18:00:03.000000Z\",\"total\":100},"
                       "\"serial\":null,\"state\":\"installing\",\"state_since\":\"2026-12-07T18:00:01.000000Z\",\"uuid\":null}");
        json_decref(j);

        m.progress_done = m.progress_total = 0;
        j = json_machine(&m, NULL);
        assert_true(json_is_null(json_object_get(j, "progress")));
        assert_true(json_is_null(json_object_get(j, "attempt")));
        json_decref(j);
}

static void test_phases(void **state) {
        StoredEvent ev[] = {
                { .seq = 1, .time = 1796666400000000, .phase = (char *) "install", .type = (char *) "start", .json = (char *) "{}" },
                { .seq = 2, .time = 1796666401000000, .phase = (char *) "image", .type = (char *) "start", .json = (char *) "{}" },
                { .seq = 3, .time = 1796666402000000, .phase = (char *) "image", .type = (char *) "progress", .json = (char *) "{}" },
                { .seq = 4, .time = 1796666403500000, .phase = (char *) "image", .type = (char *) "finish",
                  .json = (char *) "{\"result\":\"failed\"}" },
                { .seq = 5, .time = 1796666404000000, .phase = (char *) "install", .type = (char *) "finish",
                  .json = (char *) "{\"result\":\"failed\",\"duration\":4.0,\"exit_status\":7}" },
                { .seq = 6, .time = 1796666405000000, .phase = NULL, .type = (char *) "info", .json = (char *) "{}" },
        };
        Attempt a = { .id = 1, .number = 1, .kind = ATTEMPT_INSTALL, .started = 1796666400000000, .finished = 1796666404000000,
                      .exit_status = 7, .events = 6, .has_log = true };
        json_t *j = json_attempt(&a, ev, ELEMENTSOF(ev));

        assert_json(json_object_get(j, "phases"),
                    "[{\"duration\":4.0,\"finish\":\"2026-12-07T18:00:04.000000Z\",\"phase\":\"install\",\"result\":\"failed\","
                    "\"start\":\"2026-12-07T18:00:00.000000Z\"},"
                    "{\"duration\":2.5,\"finish\":\"2026-12-07T18:00:03.500000Z\",\"phase\":\"image\",\"result\":\"failed\","
                    "\"start\":\"2026-12-07T18:00:01.000000Z\"}]");
        assert_int_equal(json_integer_value(json_object_get(j, "exit_status")), 7);
        assert_true(json_is_true(json_object_get(j, "has_log")));
        json_decref(j);

        /* A phase still running: finish, duration and result null. */
        j = json_attempt(&a, ev, 2);
        assert_json(json_array_get(json_object_get(j, "phases"), 1),
                    "{\"duration\":null,\"finish\":null,\"phase\":\"image\",\"result\":null,"
                    "\"start\":\"2026-12-07T18:00:01.000000Z\"}");
        json_decref(j);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_jansson_symbols),
                cmocka_unit_test(test_time),
                cmocka_unit_test(test_machine),
                cmocka_unit_test(test_phases),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
