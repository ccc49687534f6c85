/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Events: JSON formatting and escaping, time format, machine identity, the
 * secret scrubber, the capped log, and the report: / inst.report.token
 * options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strutil.h"
#include "cmdline/cmdline.h"
#include "profile/profile.h"
#include "report/report.h"

static int teardown(void **state) {
        report_secrets_clear();
        return 0;
}

static void test_time_format(void **state) {
        char buf[32];
        /* 2026-11-26 20:13:46.000123 UTC */
        assert_string_equal(report_format_time(1795724026000123ull, buf), "2026-11-26T20:13:46.000123Z");
        assert_string_equal(report_format_time(0, buf), "1970-01-01T00:00:00.000000Z");
}

static void test_start_event(void **state) {
        ReportEvent e = REPORT_EVENT_INIT;
        _cleanup_free_ char *j = NULL;

        e.seq = 2;
        e.realtime_usec = 1795724026500000ull;
        e.monotonic_usec = 1234567;
        e.machine_id = "52:54:00:12:34:56";
        e.machine_id_source = "boot-mac";
        e.phase = "detect";
        e.type = REPORT_EVENT_START;
        e.message = "hardware inventory";
        j = report_event_to_json(&e);
        assert_non_null(j);
        assert_string_equal(j, "{\"seq\":2,\"time\":\"2026-11-26T20:13:46.500000Z\",\"monotonic\":1.234567,"
                               "\"machine_id\":\"52:54:00:12:34:56\",\"machine_id_source\":\"boot-mac\","
                               "\"phase\":\"detect\",\"type\":\"start\",\"message\":\"hardware inventory\"}");
}

static void test_finish_events(void **state) {
        ReportEvent e = REPORT_EVENT_INIT;
        _cleanup_free_ char *ok = NULL, *bad = NULL, *final = NULL;

        e.seq = 9;
        e.machine_id = "m";
        e.machine_id_source = "none";
        e.phase = "image";
        e.type = REPORT_EVENT_FINISH;
        e.duration_usec = 61250000;
        ok = report_event_to_json(&e);
        assert_non_null(strstr(ok, "\"type\":\"finish\",\"result\":\"ok\",\"duration\":61.250}"));
        assert_null(strstr(ok, "errno"));
        assert_null(strstr(ok, "exit_status"));

        e.error = -EBADMSG;
        e.message = "sha256 mismatch";
        bad = report_event_to_json(&e);
        assert_non_null(strstr(bad, "\"result\":\"failed\",\"errno\":\"EBADMSG\",\"duration\":61.250,\"message\":\"sha256 mismatch\"}"));

        e = REPORT_EVENT_INIT;
        e.phase = "install";
        e.type = REPORT_EVENT_FINISH;
        e.exit_status = 7;
        final = report_event_to_json(&e);
        assert_non_null(strstr(final, "\"phase\":\"install\",\"type\":\"finish\",\"result\":\"failed\",\"exit_status\":7}"));
}

static void test_progress_event(void **state) {
        ReportEvent e = REPORT_EVENT_INIT;
        _cleanup_free_ char *a = NULL, *b = NULL;

        e.type = REPORT_EVENT_PROGRESS;
        e.phase = "image";
        e.what = "image";
        e.done = 1048576;
        e.total = 4194304;
        e.rate = 524288.4;
        e.eta = 6.2;
        a = report_event_to_json(&e);
        assert_null(strstr(a, "\"phase\":null"));
        assert_non_null(strstr(a, "\"progress\":{\"what\":\"image\",\"done\":1048576,\"total\":4194304,\"rate\":524288,\"eta\":6,\"final\":false}}"));

        e.total = 0;
        e.eta = -1;
        e.phase = NULL;
        b = report_event_to_json(&e);
        assert_non_null(strstr(b, "\"phase\":null"));
        assert_non_null(strstr(b, "\"total\":null,\"rate\":524288,\"eta\":null"));
}

static void test_escaping(void **state) {
        ReportEvent e = REPORT_EVENT_INIT;
        _cleanup_free_ char *j = NULL;

        e.type = REPORT_EVENT_ERROR;
        e.level = "error";
        /* quotes, backslash, control characters, valid UTF-8, a lone byte and an overlong '/' */
        e.message = "a \"b\" c\\d\n\t\x01 \xc3\xa9 \xff \xc0\xaf end";
        j = report_event_to_json(&e);
        assert_non_null(strstr(j, "\"level\":\"error\",\"message\":\"a \\\"b\\\" c\\\\d\\n\\t\\u0001 \xc3\xa9 \\ufffd \\ufffd\\ufffd end\"}"));
        assert_null(strchr(j, '\n'));
}

static void test_scrub(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

        assert_int_equal(report_secret_add("$6$salt$CANARYHASH"), 0);
        assert_int_equal(report_secret_add("tok3n-CANARY"), 0);
        assert_int_equal(report_secret_add("root"), 0); /* too short: ignored */
        assert_int_equal(report_secret_add(NULL), 0);
        assert_int_equal(report_secret_add_url("http://bob:Pa55-CANARY@host/x.tar.zst?sig=QUERYCANARY#f"), 0);
        assert_int_equal(report_secret_add_url("http://host/no-secrets"), 0);

        a = report_scrub("hash $6$salt$CANARYHASH, token tok3n-CANARY, root stays");
        assert_string_equal(a, "hash [redacted], token [redacted], root stays");
        /* The whole userinfo (longest match), a password alone, the query. */
        b = report_scrub("http://bob:Pa55-CANARY@host/x.tar.zst?sig=QUERYCANARY and Pa55-CANARY");
        assert_string_equal(b, "http://[redacted]@host/x.tar.zst?[redacted] and [redacted]");
        c = report_scrub("");
        assert_string_equal(c, "");

        /* Events are scrubbed, whatever field the secret is in. */
        ReportEvent e = REPORT_EVENT_INIT;
        e.phase = "configure";
        e.message = "oops: $6$salt$CANARYHASH";
        d = report_event_to_json(&e);
        assert_null(strstr(d, "CANARY"));
        assert_non_null(strstr(d, "\"message\":\"oops: [redacted]\""));

        report_secrets_clear();
        _cleanup_free_ char *f = report_scrub("tok3n-CANARY");
        assert_string_equal(f, "tok3n-CANARY");
}

static void test_log_cap(void **state) {
        ReportLog l;
        _cleanup_free_ char *small = NULL, *big = NULL;
        size_t n;

        assert_int_equal(report_log_init(&l, 8, 10), 0);
        report_log_append(&l, "abcd", 4);
        report_log_append(&l, "efgh", 4);
        report_log_append(&l, "1234", 4);
        small = report_log_text(&l, &n);
        assert_string_equal(small, "abcdefgh1234");
        assert_int_equal(n, 12);

        /* 8 head bytes, then 30 more of which the last 10 stay. */
        report_log_append(&l, "56789", 5);
        report_log_append(&l, "ABCDEFGHIJKLMNOPQRSTU", 21);
        big = report_log_text(&l, &n);
        assert_string_equal(big, "abcdefgh\n[... 20 bytes of the log left out ...]\nLMNOPQRSTU");
        report_log_done(&l);

        /* One append larger than the whole ring. */
        _cleanup_free_ char *c = NULL;
        assert_int_equal(report_log_init(&l, 2, 4), 0);
        report_log_append(&l, "xy0123456789", 12);
        c = report_log_text(&l, NULL);
        assert_string_equal(c, "xy\n[... 6 bytes of the log left out ...]\n6789");
        report_log_done(&l);
}

static void test_machine_id(void **state) {
        char dir[] = "/tmp/test-report-XXXXXX";
        _cleanup_free_ char *id = NULL, *id2 = NULL, *id3 = NULL, *id4 = NULL, *sys = NULL, *f = NULL;
        const char *src;

        assert_non_null(mkdtemp(dir));
        sys = strprintf("%s/sys/class/dmi/id", dir);
        assert_int_equal(mkdir_p(sys, 0755), 0);
        f = strprintf("%s/product_uuid", sys);

        /* QEMU without -uuid: all zeros is no identity; the boot MAC is. */
        assert_int_equal(write_file_atomic(f, "00000000-0000-0000-0000-000000000000\n", strlen("00000000-0000-0000-0000-000000000000\n"), 0644), 0);
        assert_int_equal(report_machine_id(dir, NULL, "52:54:00:12:34:56", &id, &src), 0);
        assert_string_equal(id, "52:54:00:12:34:56");
        assert_string_equal(src, "boot-mac");

        assert_int_equal(write_file_atomic(f, "6C8F0E3A-1D2B-4C5D-9E8F-0A1B2C3D4E5F\n", strlen("6C8F0E3A-1D2B-4C5D-9E8F-0A1B2C3D4E5F\n"), 0644), 0);
        assert_int_equal(report_machine_id(dir, NULL, "52:54:00:12:34:56", &id2, &src), 0);
        assert_string_equal(id2, "6c8f0e3a-1d2b-4c5d-9e8f-0a1b2c3d4e5f");
        assert_string_equal(src, "smbios-uuid");

        unlink(f);
        assert_int_equal(report_machine_id(dir, "11111111-2222-3333-4444-555555555555", NULL, &id3, &src), 0);
        assert_string_equal(src, "smbios-uuid");
        assert_int_equal(report_machine_id(dir, NULL, NULL, &id4, &src), 0);
        assert_string_equal(id4, "unknown");
        assert_string_equal(src, "none");
        _cleanup_free_ char *cmd = strprintf("rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
}

static void test_cmdline_token(void **state) {
        BootParams bp;
        _cleanup_free_ char *err = NULL, *err2 = NULL;

        assert_int_equal(cmdline_parse("inst.report=http://r/ev inst.report.token=abc.DEF-123", &bp, NULL), 0);
        assert_string_equal(bp.report_url, "http://r/ev");
        assert_string_equal(bp.report_token, "abc.DEF-123");
        cmdline_done(&bp);

        /* A control character would end up in an HTTP header; the value is never shown. */
        assert_int_equal(cmdline_parse("inst.report.token=\"sec ret\"", &bp, &err), -EINVAL);
        assert_non_null(err);
        assert_null(strstr(err, "sec"));
        assert_int_equal(cmdline_parse("inst.report=ftp://x/", &bp, &err2), -EINVAL);
}

static void test_profile_report(void **state) {
        static const char base[] = "version: 1\nhostname: h\n"
                                   "disk: {select: {transport: virtio}, partitions: [{size: rest, mount: /}]}\n"
                                   "image: {url: http://h/i.tar.zst, insecure_no_checksum: true}\n";
        _cleanup_free_ char *good = strprintf("%sreport: {url: 'https://u:p4ss@r.example/ev?x=1', token: S3CRET-TOKEN}\n", base);
        _cleanup_free_ char *bad = strprintf("%sreport:\n  url: ftp://r/ev\n  token: 'has blank S3CRET'\n", base);
        Profile *p = NULL;
        ProfileErrors errors = {};

        assert_int_equal(profile_load_string("p.yaml", good, strlen(good), &p, &errors), 0);
        assert_string_equal(p->report.url, "https://u:p4ss@r.example/ev?x=1");
        assert_string_equal(p->report.token, "S3CRET-TOKEN");
        profile_free(p);
        p = NULL;

        assert_int_equal(profile_load_string("p.yaml", bad, strlen(bad), &p, &errors), -EINVAL);
        assert_int_equal(errors.n, 2);
        assert_string_equal(errors.v[0].key, "report.url");
        assert_int_equal(errors.v[0].line, 6);
        assert_string_equal(errors.v[1].key, "report.token");
        assert_null(strstr(errors.v[1].message, "S3CRET"));
        profile_errors_done(&errors);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_time_format),
                cmocka_unit_test(test_start_event),
                cmocka_unit_test(test_finish_events),
                cmocka_unit_test(test_progress_event),
                cmocka_unit_test(test_escaping),
                cmocka_unit_test_teardown(test_scrub, teardown),
                cmocka_unit_test(test_log_cap),
                cmocka_unit_test(test_machine_id),
                cmocka_unit_test(test_cmdline_token),
                cmocka_unit_test(test_profile_report),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
