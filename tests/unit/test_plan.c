/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Planning: disk selection with reasons, data safety, partition layout.
 * Inventories are saved machines (tests/data/inventory/); profiles are
 * inline so that their line numbers are visible here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "basic/strutil.h"
#include "hw/hw.h"
#include "plan/plan.h"
#include "profile/profile.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEAD "version: 1\nhostname: t1\nimage: {url: http://h/i.tar.zst, sha256: " SHA "}\n"

typedef struct Fixture {
        Inventory *inv;
        Profile *profile;
        Plan *plan;
        ProfileErrors errors;
} Fixture;

static int fixture_teardown(void **state) {
        Fixture *f = *state;
        if (f) {
                plan_free(f->plan);
                profile_free(f->profile);
                hw_inventory_free(f->inv);
                profile_errors_done(&f->errors);
                free(f);
        }
        return 0;
}

static int fixture_setup(void **state) {
        *state = new0(Fixture, 1);
        return *state ? 0 : -1;
}

/* Load inventory + profile and build the plan; returns plan_build's result. */
static int build(Fixture *f, const char *inventory, const char *yaml) {
        _cleanup_free_ char *path = strprintf("tests/data/inventory/%s", inventory), *err = NULL;
        assert_int_equal(hw_inventory_load_json(path, &f->inv, &err), 0);
        if (profile_load_string("test.yaml", yaml, strlen(yaml), &f->profile, &f->errors) < 0) {
                profile_errors_print(stderr, &f->errors);
                fail_msg("profile does not load");
        }
        return plan_build(f->inv, f->profile, &f->plan, &f->errors);
}

static void test_simple_gpt_layout(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "one-blank-disk.json",
                               HEAD "disk:\n  partitions:\n    - {size: 512MiB, fs: swap}\n    - {size: rest, mount: /}\n"),
                         0);
        const Plan *p = f->plan;
        assert_string_equal(plan_target_disk(p)->devnode, "/dev/vda");
        assert_false(p->wipe);
        assert_int_equal(p->n_partitions, 3);
        /* bios-boot, swap, root; 1 MiB aligned, last MiB left for the backup GPT */
        assert_int_equal(p->partitions[0].role, PART_ROLE_BIOS_BOOT);
        assert_int_equal(p->partitions[0].start, 1 * MiB);
        assert_int_equal(p->partitions[0].size, 1 * MiB);
        assert_int_equal(p->partitions[1].role, PART_ROLE_SWAP);
        assert_int_equal(p->partitions[1].start, 2 * MiB);
        assert_int_equal(p->partitions[1].size, 512 * MiB);
        assert_int_equal(p->partitions[2].role, PART_ROLE_ROOT);
        assert_int_equal(p->partitions[2].start, 514 * MiB);
        assert_int_equal(p->partitions[2].size, 8 * GiB - 514 * MiB - 1 * MiB);
        assert_true(p->partitions[2].legacy_boot);
        for (size_t i = 0; i < p->n_partitions; i++) {
                assert_int_equal(p->partitions[i].start % MiB, 0);
                assert_int_equal(p->partitions[i].size % MiB, 0);
        }
}

static void test_msdos_percent_and_boot(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "one-blank-disk.json",
                               HEAD "disk:\n  table: msdos\n  partitions:\n"
                                    "    - {size: 300MiB, mount: /boot}\n"
                                    "    - {size: 50%, mount: /}\n"
                                    "    - {size: rest, fs: swap}\n"),
                         0);
        const Plan *p = f->plan;
        assert_int_equal(p->n_partitions, 3);
        assert_int_equal(p->partitions[0].start, 1 * MiB);
        assert_true(p->partitions[0].boot_flag); /* /boot holds the loader */
        assert_false(p->partitions[1].boot_flag);
        assert_int_equal(p->partitions[1].size, 4 * GiB);
        /* msdos needs no backup table: rest runs to the end of the disk */
        assert_int_equal(p->partitions[2].start + p->partitions[2].size, 8 * GiB);
}

static void test_does_not_fit(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "one-blank-disk.json",
                               HEAD "disk:\n  partitions:\n    - {size: 6GiB, fs: swap}\n    - {size: 3GiB, mount: /}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_int_equal(f->errors.v[0].line, 7);
        assert_non_null(strstr(f->errors.v[0].message, "/dev/vda"));
}

static void test_usb_and_preference(void **state) {
        Fixture *f = *state;
        /* Two fixed disks match; the USB stick never does. */
        assert_int_equal(build(f, "nvme-sata-usb.json",
                               HEAD "disk:\n  select: {prefer: largest}\n  partitions:\n    - {size: rest, mount: /}\n"),
                         0);
        assert_string_equal(plan_target_disk(f->plan)->devnode, "/dev/sda");
        assert_false(f->plan->candidates[2].matches);
        assert_non_null(strstr(f->plan->candidates[2].reason, "removable"));
}

static void test_ambiguous_is_an_error(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "two-identical.json", HEAD "disk:\n  partitions:\n    - {size: rest, mount: /}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_non_null(strstr(f->errors.v[0].message, "2 disks match"));
        assert_non_null(strstr(f->errors.v[0].message, "/dev/vda"));
        assert_non_null(strstr(f->errors.v[0].message, "/dev/vdb"));
}

static void test_serial_hint(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "two-identical.json",
                               HEAD "disk:\n  select: {serial: B}\n  partitions:\n    - {size: rest, mount: /}\n"),
                         0);
        assert_string_equal(plan_target_disk(f->plan)->devnode, "/dev/vdb");
        assert_non_null(strstr(f->plan->candidates[0].reason, "serial A"));
}

static void test_no_match_lists_reasons(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "nvme-sata-usb.json",
                               HEAD "disk:\n  select: {transport: virtio}\n  partitions:\n    - {size: rest, mount: /}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_int_equal(f->errors.v[0].line, 5);
        assert_non_null(strstr(f->errors.v[0].message, "no disk matches"));
        assert_non_null(strstr(f->errors.v[0].message, "/dev/nvme0n1: transport nvme, not virtio"));
        assert_non_null(strstr(f->errors.v[0].message, "/dev/sdb: removable"));
}

static void test_data_disk_refused_without_wipe(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "disk-with-data.json", HEAD "disk:\n  partitions:\n    - {size: rest, mount: /}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_string_equal(f->errors.v[0].key, "disk.wipe");
        assert_non_null(strstr(f->errors.v[0].message, "holds data"));
        assert_non_null(strstr(f->errors.v[0].message, "old-root"));
}

static void test_data_disk_wiped_with_permission(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "disk-with-data.json",
                               HEAD "disk:\n  wipe: true\n  partitions:\n    - {size: rest, mount: /}\n"),
                         0);
        assert_true(f->plan->wipe);
        assert_non_null(strstr(f->plan->wipe_summary, "gpt partition table"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
                T(test_simple_gpt_layout),
                T(test_msdos_percent_and_boot),
                T(test_does_not_fit),
                T(test_usb_and_preference),
                T(test_ambiguous_is_an_error),
                T(test_serial_hint),
                T(test_no_match_lists_reasons),
                T(test_data_disk_refused_without_wipe),
                T(test_data_disk_wiped_with_permission),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
