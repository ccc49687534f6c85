/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel command-line parsing, the profile lookup order and the answer of inst.wait=. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "basic/strutil.h"
#include "cmdline/cmdline.h"
#include "install/install.h"
#include "medium/medium.h"

static void test_typical_ipxe_line(void **state) {
        BootParams bp;
        char *err = NULL;
        const char *line =
                "initrd=initrd.img console=ttyS0,115200 inst.profiles=http://10.0.2.100/profiles/ "
                "inst.mac=52:54:00:AB:CD:EF inst.uuid=6C8F0E3A-1D2B-4C5D-9E8F-0A1B2C3D4E5F "
                "inst.serial=ABC%20123 inst.finish=poweroff quiet\n";

        assert_int_equal(cmdline_parse(line, &bp, &err), 0);
        assert_null(err);
        assert_string_equal(bp.profiles_url, "http://10.0.2.100/profiles/");
        assert_string_equal(bp.mac, "52:54:00:ab:cd:ef");
        assert_string_equal(bp.uuid, "6c8f0e3a-1d2b-4c5d-9e8f-0a1b2c3d4e5f");
        assert_string_equal(bp.serial, "ABC 123");
        assert_string_equal(bp.finish, "poweroff");
        assert_null(bp.profile_url);
        assert_false(bp.dry_run);
        assert_int_equal(bp.log_level, -1);
        assert_null(bp.unknown);
        cmdline_done(&bp);
}

static void test_empty_ipxe_variables(void **state) {
        /* iPXE expands unset ${serial} and ${uuid} to nothing. */
        BootParams bp;
        assert_int_equal(cmdline_parse("inst.mac= inst.uuid= inst.serial= inst.profiles=http://x/", &bp, NULL), 0);
        assert_null(bp.mac);
        assert_null(bp.uuid);
        assert_null(bp.serial);
        cmdline_done(&bp);
}

static void test_flags_and_quotes(void **state) {
        BootParams bp;
        assert_int_equal(cmdline_parse("inst.dryrun inst.debug \"inst.serial=A B\" inst.bogus=1 other=2", &bp, NULL), 0);
        assert_true(bp.dry_run);
        assert_int_equal(bp.log_level, LOG_DEBUG);
        assert_string_equal(bp.serial, "A B");
        assert_non_null(bp.unknown);
        assert_string_equal(bp.unknown[0], "inst.bogus=1");
        assert_null(bp.unknown[1]);
        cmdline_done(&bp);
}

static void test_errors(void **state) {
        BootParams bp;
        char *err = NULL;

        assert_int_equal(cmdline_parse("inst.mac=52:54:00:zz:00:00", &bp, &err), -EINVAL);
        assert_non_null(strstr(err, "inst.mac"));
        free(err), err = NULL;
        assert_int_equal(cmdline_parse("inst.profiles=ftp://host/", &bp, &err), -EINVAL);
        assert_non_null(strstr(err, "inst.profiles"));
        free(err), err = NULL;
        assert_int_equal(cmdline_parse("inst.finish=explode", &bp, &err), -EINVAL);
        assert_non_null(strstr(err, "explode"));
        free(err), err = NULL;
        assert_int_equal(cmdline_parse("inst.serial=%4", &bp, &err), -EINVAL);
        free(err);
}

static void test_pxelinux_bootif(void **state) {
        BootParams bp;
        assert_int_equal(cmdline_parse("BOOTIF=01-52-54-00-AA-BB-CC inst.profiles=http://h/", &bp, NULL), 0);
        assert_string_equal(bp.mac, "52:54:00:aa:bb:cc");
        cmdline_done(&bp);
        /* inst.mac wins over BOOTIF, in either order */
        assert_int_equal(cmdline_parse("BOOTIF=01-52-54-00-AA-BB-CC inst.mac=52:54:00:00:00:01", &bp, NULL), 0);
        assert_string_equal(bp.mac, "52:54:00:00:00:01");
        cmdline_done(&bp);
        assert_int_equal(cmdline_parse("inst.mac=52:54:00:00:00:01 BOOTIF=01-52-54-00-AA-BB-CC", &bp, NULL), 0);
        assert_string_equal(bp.mac, "52:54:00:00:00:01");
        cmdline_done(&bp);
}

static void test_env_override(void **state) {
        BootParams bp;
        setenv("INSTALLER_PROC_CMDLINE", "inst.profile=https://h/p.yaml", 1);
        assert_int_equal(cmdline_read(&bp, NULL), 0);
        assert_string_equal(bp.profile_url, "https://h/p.yaml");
        cmdline_done(&bp);
        unsetenv("INSTALLER_PROC_CMDLINE");
}

static void test_lookup_order(void **state) {
        BootParams bp;
        char **urls = NULL;

        assert_int_equal(cmdline_parse("inst.profiles=http://10.0.2.100/profiles inst.mac=52:54:00:12:34:56 "
                                       "inst.uuid=AAAA-BBBB inst.serial=S/N%201",
                                       &bp, NULL), 0);
        assert_int_equal(install_profile_candidates(&bp, NULL, &urls), 0);
        assert_int_equal(strv_length(urls), 4);
        assert_string_equal(urls[0], "http://10.0.2.100/profiles/mac/52-54-00-12-34-56.yaml");
        assert_string_equal(urls[1], "http://10.0.2.100/profiles/uuid/aaaa-bbbb.yaml");
        assert_string_equal(urls[2], "http://10.0.2.100/profiles/serial/S%2FN%201.yaml");
        assert_string_equal(urls[3], "http://10.0.2.100/profiles/default.yaml");
        strv_free(urls);
        cmdline_done(&bp);

        /* An explicit profile is the only candidate. */
        urls = NULL;
        assert_int_equal(cmdline_parse("inst.profile=http://h/one.yaml inst.profiles=http://h/", &bp, NULL), 0);
        assert_int_equal(install_profile_candidates(&bp, NULL, &urls), 0);
        assert_int_equal(strv_length(urls), 1);
        strv_free(urls);
        cmdline_done(&bp);

        /* An unset SMBIOS UUID (all zeros, as QEMU's) is no identity. */
        urls = NULL;
        assert_int_equal(cmdline_parse("inst.profiles=http://h/ inst.uuid=00000000-0000-0000-0000-000000000000", &bp, NULL), 0);
        assert_int_equal(install_profile_candidates(&bp, NULL, &urls), 0);
        assert_int_equal(strv_length(urls), 1);
        assert_string_equal(urls[0], "http://h/default.yaml");
        strv_free(urls);
        cmdline_done(&bp);

        /* No location at all. */
        urls = NULL;
        assert_int_equal(cmdline_parse("quiet", &bp, NULL), 0);
        assert_int_equal(install_profile_candidates(&bp, NULL, &urls), -EINVAL);
        cmdline_done(&bp);
}

/* inst.medium=: the boot medium by label or UUID; its profile tree is the
 * default profile location. */
static void test_medium(void **state) {
        BootParams bp;
        char **urls = NULL, *err = NULL;
        MediumTag tag;
        const char *v;

        assert_int_equal(cmdline_parse("console=ttyS0 inst.medium=LABEL=BMI_INSTALL", &bp, &err), 0);
        assert_string_equal(bp.medium, "LABEL=BMI_INSTALL");
        assert_int_equal(install_profile_candidates(&bp, NULL, &urls), 0);
        assert_int_equal(strv_length(urls), 1);
        assert_string_equal(urls[0], "file:///run/install/medium/profiles/default.yaml");
        strv_free(urls);
        cmdline_done(&bp);

        /* The medium's mac/ profiles are looked up as over HTTP. */
        urls = NULL;
        assert_int_equal(cmdline_parse("inst.medium=UUID=2026-11-26-20-24-45-00 inst.mac=52:54:00:12:34:56", &bp, NULL), 0);
        assert_int_equal(install_profile_candidates(&bp, NULL, &urls), 0);
        assert_int_equal(strv_length(urls), 2);
        assert_string_equal(urls[0], "file:///run/install/medium/profiles/mac/52-54-00-12-34-56.yaml");
        strv_free(urls);
        cmdline_done(&bp);

        /* inst.profiles= still wins (a medium that boots, profiles from a server). */
        urls = NULL;
        assert_int_equal(cmdline_parse("inst.medium=LABEL=X inst.profiles=http://h/p/", &bp, NULL), 0);
        assert_int_equal(install_profile_candidates(&bp, NULL, &urls), 0);
        assert_string_equal(urls[0], "http://h/p/default.yaml");
        strv_free(urls);
        cmdline_done(&bp);

        assert_int_equal(cmdline_parse("inst.medium=/dev/sdb", &bp, &err), -EINVAL);
        assert_non_null(strstr(err, "inst.medium: expected LABEL=NAME or UUID=UUID, not '/dev/sdb'"));
        free(err);
        err = NULL;
        assert_int_equal(cmdline_parse("inst.medium=LABEL=", &bp, &err), -EINVAL);
        free(err);

        assert_int_equal(medium_spec_parse("LABEL=A_B", &tag, &v), 0);
        assert_int_equal(tag, MEDIUM_LABEL);
        assert_string_equal(v, "A_B");
        assert_int_equal(medium_spec_parse("UUID=1234-ABCD", &tag, &v), 0);
        assert_int_equal(tag, MEDIUM_UUID);
        assert_string_equal(v, "1234-ABCD");
        assert_int_equal(medium_spec_parse("label=x", NULL, NULL), -EINVAL);
        assert_int_equal(medium_spec_parse("LABEL=a b", NULL, NULL), -EINVAL);
        assert_int_equal(medium_spec_parse("LABEL=a\tb", NULL, NULL), -EINVAL);
        assert_int_equal(medium_spec_parse("LABEL=a\x01", NULL, NULL), -EINVAL);
        assert_int_equal(medium_spec_parse(NULL, NULL, NULL), -EINVAL);
}

static void test_mode_and_wait(void **state) {
        BootParams bp;
        char *err = NULL;

        /* The default: install, nothing to wait for. */
        assert_int_equal(cmdline_parse("inst.profiles=http://h/", &bp, &err), 0);
        assert_int_equal(bp.mode, BOOT_MODE_INSTALL);
        assert_null(bp.wait_url);
        assert_string_equal(boot_mode_to_string(bp.mode), "install");
        cmdline_done(&bp);

        /* What the site server appends for an unknown machine. */
        assert_int_equal(cmdline_parse("inst.report=http://10.0.2.100/api/v1/machines/3/report inst.report.token=abcdef0123 "
                                       "inst.mode=discover inst.wait=http://10.0.2.100/api/v1/machines/3/next",
                                       &bp, &err), 0);
        assert_null(err);
        assert_int_equal(bp.mode, BOOT_MODE_DISCOVER);
        assert_string_equal(boot_mode_to_string(bp.mode), "discover");
        assert_string_equal(bp.wait_url, "http://10.0.2.100/api/v1/machines/3/next");
        assert_null(bp.unknown);
        cmdline_done(&bp);
        assert_int_equal(bp.mode, BOOT_MODE_INSTALL);
        assert_null(bp.wait_url);

        /* The last word wins, as for every key. */
        assert_int_equal(cmdline_parse("inst.mode=discover inst.mode=install inst.wait=https://h/n", &bp, NULL), 0);
        assert_int_equal(bp.mode, BOOT_MODE_INSTALL);
        assert_string_equal(bp.wait_url, "https://h/n");
        cmdline_done(&bp);

        /* An unknown mode is an error naming the word. */
        assert_int_equal(cmdline_parse("inst.mode=discovr", &bp, &err), -EINVAL);
        assert_non_null(strstr(err, "inst.mode: expected install or discover, not 'discovr'"));
        free(err), err = NULL;
        assert_int_equal(cmdline_parse("inst.mode=", &bp, &err), -EINVAL);
        assert_non_null(strstr(err, "inst.mode"));
        free(err), err = NULL;
        /* Without a value it is not inst.mode=: an unknown word (warned about). */
        assert_int_equal(cmdline_parse("inst.mode", &bp, &err), 0);
        assert_string_equal(bp.unknown[0], "inst.mode");
        cmdline_done(&bp);

        /* inst.wait: http(s) only (it is asked with the token); never a file. */
        assert_int_equal(cmdline_parse("inst.wait=file:///tmp/next", &bp, &err), -EINVAL);
        assert_non_null(strstr(err, "inst.wait: expected an http:// or https:// URL"));
        free(err), err = NULL;
        assert_int_equal(cmdline_parse("inst.wait=ftp://h/next", &bp, &err), -EINVAL);
        assert_non_null(strstr(err, "inst.wait"));
        free(err), err = NULL;
        assert_int_equal(cmdline_parse("inst.wait=", &bp, &err), -EINVAL);
        free(err), err = NULL;
}

static void test_discover_answer(void **state) {
        DiscoverAction a = DISCOVER_WAIT;
        char *st = NULL, *err = NULL;

#define ANSWER(s) s, strlen(s)
        assert_int_equal(install_discover_parse_answer(ANSWER("{\"action\":\"reboot\",\"state\":\"ready\"}"), &a, &st, &err), 0);
        assert_int_equal(a, DISCOVER_REBOOT);
        assert_string_equal(st, "ready");
        free(st), st = NULL;
        assert_int_equal(install_discover_parse_answer(ANSWER("{\"action\":\"wait\",\"state\":\"discovered\"}\n"), &a, &st, &err), 0);
        assert_int_equal(a, DISCOVER_WAIT);
        assert_string_equal(st, "discovered");
        free(st), st = NULL;
        /* No state, other keys: fine. */
        assert_int_equal(install_discover_parse_answer(ANSWER("{\"action\":\"reboot\",\"x\":[1,2]}"), &a, &st, &err), 0);
        assert_int_equal(a, DISCOVER_REBOOT);
        assert_null(st);
        /* A state with control characters is made printable. */
        assert_int_equal(install_discover_parse_answer(ANSWER("{\"action\":\"wait\",\"state\":\"a\\u001bb\"}"), &a, &st, &err), 0);
        assert_null(strchr(st, '\x1b'));
        free(st), st = NULL;

        /* Refused: unknown or missing action, not an object, not JSON. */
        assert_int_equal(install_discover_parse_answer(ANSWER("{\"action\":\"install\"}"), &a, &st, &err), -EBADMSG);
        assert_non_null(strstr(err, "unknown action \"install\""));
        free(err), err = NULL;
        assert_int_equal(install_discover_parse_answer(ANSWER("{\"state\":\"ready\"}"), &a, &st, &err), -EBADMSG);
        assert_non_null(strstr(err, "no \"action\""));
        free(err), err = NULL;
        assert_int_equal(install_discover_parse_answer(ANSWER("[\"reboot\"]"), &a, &st, &err), -EBADMSG);
        free(err), err = NULL;
        assert_int_equal(install_discover_parse_answer(ANSWER("{\"action\":{\"reboot\":1}}"), &a, &st, &err), -EBADMSG);
        free(err), err = NULL;
        assert_int_equal(install_discover_parse_answer(ANSWER("<html>502 Bad Gateway"), &a, &st, &err), -EBADMSG);
        free(err), err = NULL;
        assert_int_equal(install_discover_parse_answer(ANSWER("{\"action\": \"reboot\""), &a, &st, &err), -EINVAL);
        free(err), err = NULL;
        assert_int_equal(install_discover_parse_answer(ANSWER(""), &a, &st, &err), -EBADMSG);
        free(err), err = NULL;
#undef ANSWER
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_typical_ipxe_line),
                cmocka_unit_test(test_empty_ipxe_variables),
                cmocka_unit_test(test_flags_and_quotes),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_pxelinux_bootif),
                cmocka_unit_test(test_env_override),
                cmocka_unit_test(test_lookup_order),
                cmocka_unit_test(test_medium),
                cmocka_unit_test(test_mode_and_wait),
                cmocka_unit_test(test_discover_answer),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
