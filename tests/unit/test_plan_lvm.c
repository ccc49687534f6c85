/* SPDX-License-Identifier: GPL-2.0-or-later */
/* LVM in the plan (installer/plan/lvm.c): volume groups over partitions and
 * arrays, logical volumes in 4 MiB extents, refusals with their position.
 * Inventories are saved machines (tests/data/inventory/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "plan-fixture.h"

#define EXT (4 * MiB)

/* one-blank-disk.json: /dev/vda, 8 GiB, BIOS. */
#define LAYOUT                                       \
        "disk:\n"                                    \
        "  partitions:\n"                            \
        "    - {size: 512MiB, mount: /boot}\n"       \
        "    - {size: rest, lvm: vg0}\n"

static void test_vg_on_partition(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "one-blank-disk.json",
                               HEAD LAYOUT "lvm:\n  - name: vg0\n    volumes:\n"
                                           "      - {name: root, size: 3000MiB, mount: /}\n"
                                           "      - {name: swap, size: 10%, fs: swap}\n"
                                           "      - {name: srv, size: rest, mount: /srv}\n"),
                         0);
        const Plan *p = f->plan;
        assert_int_equal(p->n_vgs, 1);
        const PlanVg *vg = &p->vgs[0];
        /* bios-boot 1 MiB at 1 MiB, /boot 512 MiB, the PV from 514 MiB to
         * 8 GiB - 1 MiB; 1 MiB of LVM metadata, then 4 MiB extents. */
        const PlanPartition *pv = &p->partitions[2];
        assert_ptr_equal(plan_partition_vg(p, pv), vg);
        assert_null(plan_partition_vg(p, &p->partitions[1]));
        assert_int_equal(vg->n_pv_partitions, 1);
        assert_int_equal(vg->pv_partitions[0], 3);
        assert_int_equal(vg->pv_bytes, pv->size);
        assert_int_equal(pv->size, 8 * GiB - 515 * MiB);
        assert_int_equal(vg->extents, (pv->size - MiB) / EXT);
        assert_int_equal(vg->extents, 1919);
        assert_false(vg->estimated);
        assert_int_equal(vg->n_lvs, 3);
        /* bytes: rounded up to whole extents (3000 MiB = 750 extents) */
        assert_string_equal(vg->lvs[0].name, "root");
        assert_int_equal(vg->lvs[0].extents, 750);
        assert_int_equal(vg->lvs[0].size, 750 * EXT);
        /* percent: of the group's extents, rounded down */
        assert_int_equal(vg->lvs[1].extents, 191);
        /* rest: what is left */
        assert_true(vg->lvs[2].rest);
        assert_int_equal(vg->lvs[2].extents, 1919 - 750 - 191);
        assert_int_equal(vg->lvs[2].size, (uint64_t) (1919 - 750 - 191) * EXT);
        assert_true(plan_lvm_holds_system(p));
        /* the legacy BIOS loader stays on the /boot partition */
        assert_true(p->partitions[1].legacy_boot);
}

static void test_size_rounds_up_to_extent(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "one-blank-disk.json",
                               HEAD LAYOUT "lvm:\n  - name: vg0\n    volumes:\n"
                                           "      - {name: root, size: 1GiB, mount: /}\n"
                                           "      - {name: odd, size: 5MiB, mount: /odd}\n"),
                         0);
        const PlanVg *vg = &f->plan->vgs[0];
        assert_int_equal(vg->lvs[0].extents, 256);
        assert_int_equal(vg->lvs[1].extents, 2);
        assert_int_equal(vg->lvs[1].size, 8 * MiB);
        assert_true(plan_lvm_holds_system(f->plan));
}

static void test_does_not_fit(void **state) {
        Fixture *f = *state;
        /* 1919 extents: 7 GiB (1792) + 600 MiB (150) is 23 too many. */
        assert_int_equal(build(f, "one-blank-disk.json",
                               HEAD LAYOUT "lvm:\n  - name: vg0\n    volumes:\n"
                                           "      - {name: root, size: 7GiB, mount: /}\n"
                                           "      - {name: srv, size: 600MiB, mount: /srv}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_int_equal(f->errors.v[0].line, 12); /* the srv volume */
        assert_string_equal(f->errors.v[0].key, "lvm[0].volumes[1]");
        assert_non_null(strstr(f->errors.v[0].message, "do not fit"));
        assert_non_null(strstr(f->errors.v[0].message, "1942 extents"));
        assert_non_null(strstr(f->errors.v[0].message, "has 1919"));
}

static void test_rest_needs_an_extent(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "one-blank-disk.json",
                               HEAD LAYOUT "lvm:\n  - name: vg0\n    volumes:\n"
                                           "      - {name: srv, size: rest, mount: /srv}\n"
                                           "      - {name: root, size: 100%, mount: /}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_int_equal(f->errors.v[0].line, 11); /* the rest volume */
        assert_non_null(strstr(f->errors.v[0].message, "nothing is left for srv"));
}

static void test_bios_root_on_lv_needs_boot_partition(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "one-blank-disk.json",
                               HEAD "disk:\n  partitions:\n    - {size: rest, lvm: vg0}\n"
                                    "lvm:\n  - name: vg0\n    volumes:\n      - {name: root, size: rest, mount: /}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_int_equal(f->errors.v[0].line, 8);
        assert_non_null(strstr(f->errors.v[0].message, "cannot read /boot from a logical volume"));
}

static void test_uefi_root_on_lv(void **state) {
        Fixture *f = *state;
        /* UEFI: the kernel is on the ESP, / may be a logical volume. */
        assert_int_equal(build(f, "one-blank-disk-uefi.json",
                               HEAD "disk:\n  partitions:\n    - {size: rest, lvm: vg0}\n"
                                    "lvm:\n  - name: vg0\n    volumes:\n      - {name: root, size: rest, mount: /}\n"),
                         0);
        assert_int_equal(f->plan->partitions[0].role, PART_ROLE_ESP);
        assert_int_equal(f->plan->vgs[0].pv_partitions[0], 2);
}

static void test_vg_on_raid(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "two-identical.json",
                               HEAD "disk:\n  select: {serial: A}\n  mirror: {select: {serial: B}}\n  firmware: bios\n"
                                    "  partitions:\n    - {size: 512MiB, raid: md0}\n    - {size: rest, raid: md1}\n"
                                    "raid:\n  - {name: md0, fs: ext4, mount: /boot}\n  - {name: md1, lvm: vg0}\n"
                                    "lvm:\n  - name: vg0\n    volumes:\n      - {name: root, size: 2GiB, mount: /}\n"
                                    "      - {name: data, size: rest, mount: /data}\n"),
                         0);
        const PlanVg *vg = &f->plan->vgs[0];
        const PlanRaid *md1 = &f->plan->raids[1];
        assert_int_equal(vg->n_pv_partitions, 0);
        assert_int_equal(vg->n_pv_raids, 1);
        assert_string_equal(vg->pv_raids[0], "md1");
        /* conservative: the array's metadata reserved */
        assert_true(vg->estimated);
        assert_int_equal(vg->extents, (md1->size - PLAN_LVM_MD_RESERVE - MiB) / EXT);
        assert_int_equal(vg->lvs[1].extents, vg->extents - 512);
}

/* The volume list apply iterates: everything after what it sits on, and
 * the mount order parents first. */
static void test_volume_list(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "two-identical.json",
                               HEAD "disk:\n  select: {serial: A}\n  mirror: {select: {serial: B}}\n  firmware: bios\n"
                                    "  partitions:\n    - {size: 512MiB, raid: md0}\n    - {size: rest, raid: md1}\n"
                                    "raid:\n  - {name: md0, fs: ext4, mount: /boot}\n  - {name: md1, lvm: vg0}\n"
                                    "lvm:\n  - name: vg0\n    volumes:\n      - {name: data, size: 1GiB, mount: /data/x}\n"
                                    "      - {name: root, size: 2GiB, mount: /}\n      - {name: swap, size: 1GiB, fs: swap}\n"),
                         0);
        const Plan *p = f->plan;
        static const struct {
                const char *id, *mount, *on;
                PlanVolumeKind kind;
                unsigned fs_seed;
        } want[] = {
                { "partition:1", NULL, NULL, PLAN_VOLUME_PARTITION, 1 }, /* bios-boot */
                { "partition:2", NULL, NULL, PLAN_VOLUME_PARTITION, 2 },
                { "partition:3", NULL, NULL, PLAN_VOLUME_PARTITION, 3 },
                { "raid:md0", "/boot", "partition:2", PLAN_VOLUME_RAID, 256 },
                { "raid:md1", NULL, "partition:3", PLAN_VOLUME_RAID, 257 },
                { "vg:vg0", NULL, "raid:md1", PLAN_VOLUME_VG, 0 },
                { "lv:vg0/data", "/data/x", "vg:vg0", PLAN_VOLUME_LV, 512 },
                { "lv:vg0/root", "/", "vg:vg0", PLAN_VOLUME_LV, 513 },
                { "lv:vg0/swap", NULL, "vg:vg0", PLAN_VOLUME_LV, 514 },
        };
        assert_int_equal(p->n_volumes, ELEMENTSOF(want));
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                const PlanVolume *v = &p->volumes[i];
                assert_string_equal(v->id, want[i].id);
                assert_int_equal(v->kind, want[i].kind);
                assert_int_equal(v->fs_seed, want[i].fs_seed);
                assert_true(streq_ptr(v->mount, want[i].mount));
                assert_int_equal(v->n_on, want[i].on ? 1 : 0);
                if (want[i].on) {
                        assert_string_equal(p->volumes[v->on[0]].id, want[i].on);
                        assert_true(v->on[0] < i);
                }
        }
        assert_int_equal(p->volumes[6].line, 17);
        assert_string_equal(p->volumes[6].where, "lvm[0].volumes[0]");
        /* / (depth 0), /boot (1), /data/x (2); swap is not mounted */
        assert_int_equal(p->n_mount_order, 3);
        assert_string_equal(p->volumes[p->mount_order[0]].id, "lv:vg0/root");
        assert_string_equal(p->volumes[p->mount_order[1]].id, "raid:md0");
        assert_string_equal(p->volumes[p->mount_order[2]].id, "lv:vg0/data");
}

static void test_mirror_partition_pv_refused(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "two-identical.json",
                               HEAD "disk:\n  select: {serial: A}\n  mirror: {select: {serial: B}}\n  firmware: bios\n"
                                    "  partitions:\n    - {size: 512MiB, raid: md0}\n    - {size: rest, lvm: vg0}\n"
                                    "raid:\n  - {name: md0, fs: ext4, mount: /}\n"
                                    "lvm:\n  - name: vg0\n    volumes:\n      - {name: data, size: rest, mount: /data}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_int_equal(f->errors.v[0].line, 10);
        assert_non_null(strstr(f->errors.v[0].message, "goes on a RAID1 array"));
}

static void test_devnode_doubles_dashes(void **state) {
        PlanVg vg = { .name = "vg-sys" };
        PlanLv lv = { .name = "my-root" };
        _cleanup_free_ char *d = plan_lv_devnode(&vg, &lv);
        (void) state;
        assert_string_equal(d, "/dev/mapper/vg--sys-my--root");
}


/* ---- limits: a volume never wraps to 0 extents (lvcreate would take all
 * that is free), never rounds to 0, and a group holds at most
 * PLAN_LVM_LV_MAX volumes: refused at plan time, at the volume ----------------- */

static char *many_volumes(size_t n) {
        StrBuf b = {};
        strbuf_appendf(&b, HEAD LAYOUT "lvm:\n  - name: vg0\n    volumes:\n      - {name: root, size: 1GiB, mount: /}\n");
        for (size_t i = 1; i < n; i++)
                strbuf_appendf(&b, "      - {name: v%zu, size: 4MiB, fs: none}\n", i);
        return strbuf_steal(&b);
}

typedef struct LvCase {
        const char *name;
        const char *yaml;          /* or NULL: many_volumes(n_volumes) */
        size_t n_volumes;
        int rc;
        unsigned line, column;
        const char *key, *message;
} LvCase;

static const LvCase lv_cases[] = {
        { "2^64-1 bytes (rounded up to extents it wrapped to 0)",
          HEAD LAYOUT "lvm:\n  - name: vg0\n    volumes:\n"
                      "      - {name: root, size: 1GiB, mount: /}\n"
                      "      - {name: huge, size: 18446744073709551615, mount: /huge}\n",
          0, -EINVAL, 12, 9, "lvm[0].volumes[1]", "need 4398046511360 extents of 4 MiB (more than 16 EiB)" },
        { "1% of a 24-extent group rounds to 0 extents",
          HEAD "disk:\n  partitions:\n    - {size: 512MiB, mount: /boot}\n    - {size: 100MiB, lvm: vg0}\n"
               "    - {size: rest, mount: /}\n"
               "lvm:\n  - name: vg0\n    volumes:\n      - {name: tiny, size: 1%, mount: /tiny}\n",
          0, -EINVAL, 12, 9, "lvm[0].volumes[0]", "1% of the 24 extents of 4 MiB of volume group vg0 is less than one extent" },
        { "256 volumes: planned", NULL, 256, 0, 0, 0, NULL, NULL },
        { "257 volumes", NULL, 257, -EINVAL, 267, 9, "lvm[0].volumes[256]", "volume group vg0 has more than 256 logical volumes" },
};

static void test_lv_limit(void **state) {
        const LvCase *c = *state;
        *state = NULL;
        _cleanup_free_ char *yaml = c->yaml ? strdup(c->yaml) : many_volumes(c->n_volumes);
        void *st = NULL;

        assert_non_null(yaml);
        fixture_setup(&st);
        Fixture *f = st;
        *state = st;
        assert_int_equal(build(f, "one-blank-disk.json", yaml), c->rc);
        if (c->rc == 0) {
                const PlanVg *vg = &f->plan->vgs[0];
                assert_int_equal(vg->n_lvs, c->n_volumes);
                for (size_t k = 0; k < vg->n_lvs; k++)
                        assert_true(vg->lvs[k].extents > 0 && vg->lvs[k].extents <= vg->extents);
                return;
        }
        assert_int_equal(f->errors.n, 1);
        assert_int_equal(f->errors.v[0].line, c->line);
        assert_int_equal(f->errors.v[0].column, c->column);
        assert_string_equal(f->errors.v[0].key, c->key);
        if (!strstr(f->errors.v[0].message, c->message))
                fail_msg("%s: '%s' lacks '%s'", c->name, f->errors.v[0].message, c->message);
}

int main(void) {
        const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
                T(test_vg_on_partition),
                T(test_size_rounds_up_to_extent),
                T(test_does_not_fit),
                T(test_rest_needs_an_extent),
                T(test_bios_root_on_lv_needs_boot_partition),
                T(test_uefi_root_on_lv),
                T(test_vg_on_raid),
                T(test_volume_list),
                T(test_mirror_partition_pv_refused),
                cmocka_unit_test(test_devnode_doubles_dashes),
#define L(i) { lv_cases[i].name, test_lv_limit, NULL, fixture_teardown, (void *) &lv_cases[i] }
                L(0), L(1), L(2), L(3),
        };
        _Static_assert(ELEMENTSOF(lv_cases) == 4, "a case of lv_cases is not run");
        return cmocka_run_group_tests(tests, NULL, NULL);
}
