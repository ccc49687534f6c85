/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Planning: disk selection with reasons, data safety, partition layout.
 * Inventories are saved machines (tests/data/inventory/); profiles are
 * inline so that their line numbers are visible here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "plan-fixture.h"

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

/* ---- reinstall: preserved partitions (tests/data/inventory/reinstall-srv.json:
 * vda1 1 MiB at 1 MiB, vda2 ext4 old-root up to 3 GiB, vda3 ext4 "srv"
 * 4 GiB at 3 GiB, vda4 swap 1023 MiB at 7 GiB) ---------------------------------- */

#define SRV_UUID "5f3c2a1b-0d9e-4f8a-9b7c-6d5e4f3a2b1c"

static void test_preserve_rest_fills_its_gap(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "reinstall-srv.json",
                               HEAD "disk:\n  wipe: true\n  partitions:\n"
                                    "    - {size: 1GiB, fs: swap}\n"
                                    "    - {size: rest, mount: /}\n"
                                    "    - {preserve: {label: srv}, mount: /srv, mount_options: nodev}\n"
                                    "    - {size: 512MiB, mount: /var/tmp}\n"),
                         0);
        const Plan *p = f->plan;
        assert_true(p->keep_table);
        assert_true(p->wipe);
        assert_non_null(strstr(p->wipe_summary, "vda2"));
        assert_null(strstr(p->wipe_summary, "vda3"));
        assert_non_null(strstr(p->keep_summary, "vda3"));
        assert_int_equal(p->n_partitions, 5);
        /* bios-boot, swap, root up to the preserved partition, srv, /var/tmp after it */
        assert_int_equal(p->partitions[0].start, 1 * MiB);
        assert_int_equal(p->partitions[1].start, 2 * MiB);
        assert_int_equal(p->partitions[1].size, 1 * GiB);
        assert_int_equal(p->partitions[2].role, PART_ROLE_ROOT);
        assert_int_equal(p->partitions[2].start, 2 * MiB + 1 * GiB);
        assert_int_equal(p->partitions[2].start + p->partitions[2].size, 3 * GiB);
        const PlanPartition *srv = &p->partitions[3];
        assert_true(srv->preserve);
        assert_int_equal(srv->number, 3);
        assert_int_equal(srv->start, 3 * GiB);
        assert_int_equal(srv->size, 4 * GiB);
        assert_int_equal(srv->fs, FS_EXT4);
        assert_string_equal(srv->fs_uuid, SRV_UUID);
        assert_string_equal(srv->existing, "vda3");
        assert_string_equal(srv->mount, "/srv");
        assert_string_equal(srv->mount_options, "nodev");
        assert_false(srv->legacy_boot);
        assert_int_equal(p->partitions[4].start, 7 * GiB);
        assert_int_equal(p->partitions[4].size, 512 * MiB);
        /* numbers: 3 is taken by the preserved partition */
        assert_int_equal(p->partitions[0].number, 1);
        assert_int_equal(p->partitions[1].number, 2);
        assert_int_equal(p->partitions[2].number, 4);
        assert_int_equal(p->partitions[4].number, 5);
        assert_true(p->partitions[2].legacy_boot);
}

static void test_preserve_first_and_rest_after(void **state) {
        Fixture *f = *state;
        /* Keep the old root (as data) and srv; the new system goes after. */
        assert_int_equal(build(f, "reinstall-srv.json",
                               HEAD "disk:\n  wipe: true\n  partitions:\n"
                                    "    - {preserve: {number: 2}, mount: /old}\n"
                                    "    - {preserve: {uuid: 5F3C2A1B-0D9E-4F8A-9B7C-6D5E4F3A2B1C}, size: 4GiB}\n"
                                    "    - {size: rest, mount: /}\n"),
                         0);
        const Plan *p = f->plan;
        assert_int_equal(p->n_partitions, 4);
        assert_int_equal(p->partitions[0].role, PART_ROLE_BIOS_BOOT); /* fits in the 1 MiB gap before vda2 */
        assert_int_equal(p->partitions[0].number, 1);
        assert_true(p->partitions[1].preserve && p->partitions[2].preserve);
        assert_int_equal(p->partitions[2].role, PART_ROLE_RAW); /* kept, not mounted */
        assert_int_equal(p->partitions[3].start, 7 * GiB);
        assert_int_equal(p->partitions[3].size, 1 * GiB - 1 * MiB); /* the last MiB for the backup GPT */
        assert_int_equal(p->partitions[3].number, 4);
}

static void test_preserve_would_move(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "reinstall-srv.json",
                               HEAD "disk:\n  wipe: true\n  partitions:\n"
                                    "    - {size: 1GiB, fs: swap}\n"
                                    "    - {size: 2GiB, mount: /}\n"
                                    "    - {preserve: {label: srv}, mount: /srv}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_string_equal(f->errors.v[0].key, "disk.partitions[2].preserve");
        assert_int_equal(f->errors.v[0].line, 9);
        assert_int_equal(f->errors.v[0].column, 18);
        const char *m = f->errors.v[0].message;
        assert_non_null(strstr(m, "vda3 starts at 3.0 GiB and is 4.0 GiB long (3221225472 + 4294967296 bytes)"));
        assert_non_null(strstr(m, "disk.partitions[1] (/) would take"));
        assert_non_null(strstr(m, "never moved"));
}

static void test_preserve_would_shrink(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "reinstall-srv.json",
                               HEAD "disk:\n  wipe: true\n  partitions:\n"
                                    "    - {size: rest, mount: /}\n"
                                    "    - {preserve: {label: srv}, size: 3GiB, mount: /srv}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_string_equal(f->errors.v[0].key, "disk.partitions[1].size");
        assert_non_null(strstr(f->errors.v[0].message, "would shrink it"));
        assert_non_null(strstr(f->errors.v[0].message, "4294967296"));
}

static void test_preserve_after_does_not_fit(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "reinstall-srv.json",
                               HEAD "disk:\n  wipe: true\n  partitions:\n"
                                    "    - {size: rest, mount: /}\n"
                                    "    - {preserve: {label: srv}, mount: /srv}\n"
                                    "    - {size: 2GiB, fs: swap}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_non_null(strstr(f->errors.v[0].message, "larger than the disk"));
        assert_non_null(strstr(f->errors.v[0].message, "after the preserved partition vda3"));
}

static void test_preserve_missing_and_ambiguous(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "reinstall-two-srv.json",
                               HEAD "disk:\n  wipe: true\n  partitions:\n"
                                    "    - {size: rest, mount: /}\n"
                                    "    - {preserve: {label: srv}, mount: /srv}\n"
                                    "    - {preserve: {label: home}, mount: /home}\n"
                                    "    - {preserve: {number: 9}}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 3);
        assert_int_equal(f->errors.v[0].line, 8);
        assert_non_null(strstr(f->errors.v[0].message, "2 partitions of /dev/vda have the filesystem label 'srv' (vda2, vda3)"));
        assert_int_equal(f->errors.v[1].line, 9);
        assert_non_null(strstr(f->errors.v[1].message, "no partition of /dev/vda has the filesystem label 'home'"));
        assert_non_null(strstr(f->errors.v[1].message, "vda3 (4.0 GiB ext4 label srv)"));
        assert_non_null(strstr(f->errors.v[2].message, "number 9"));
}

static void test_preserve_needs_wipe_for_the_rest(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "reinstall-srv.json",
                               HEAD "disk:\n  partitions:\n"
                                    "    - {size: rest, mount: /}\n"
                                    "    - {preserve: {label: srv}, mount: /srv}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_string_equal(f->errors.v[0].key, "disk.wipe");
        assert_non_null(strstr(f->errors.v[0].message, "vda2 (3.0 GiB ext4 label old-root)"));
        assert_non_null(strstr(f->errors.v[0].message, "kept: vda3"));
}

static void test_preserve_table_and_blank_disk(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "reinstall-srv.json",
                               HEAD "disk:\n  wipe: true\n  table: msdos\n  partitions:\n"
                                    "    - {size: rest, mount: /}\n"
                                    "    - {preserve: {label: srv}, mount: /srv}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_non_null(strstr(f->errors.v[0].message, "set disk.table: gpt"));
}

static void test_preserve_blank_disk(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "one-blank-disk.json",
                               HEAD "disk:\n  wipe: true\n  partitions:\n"
                                    "    - {size: rest, mount: /}\n"
                                    "    - {preserve: {label: srv}, mount: /srv}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_non_null(strstr(f->errors.v[0].message, "no partition table"));
}

static void test_preserve_swap_and_unmountable(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "reinstall-srv.json",
                               HEAD "disk:\n  wipe: true\n  partitions:\n"
                                    "    - {size: rest, mount: /}\n"
                                    "    - {preserve: {number: 4}, mount: /x}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_string_equal(f->errors.v[0].key, "disk.partitions[1].mount");
        assert_non_null(strstr(f->errors.v[0].message, "holds swap"));
}

static void test_preserve_profile_errors(void **state) {
        (void) state;
        static const char yaml[] = HEAD "disk:\n  partitions:\n"
                                        "    - {size: rest, mount: /}\n"
                                        "    - {preserve: {label: srv}, mount: /boot, fs: xfs}\n"
                                        "    - {preserve: {label: a, number: 2}}\n"
                                        "    - {preserve: {number: 3}, size: rest}\n";
        _cleanup_profile_ Profile *p = NULL;
        ProfileErrors errors = {};

        assert_int_equal(profile_load_string("test.yaml", yaml, strlen(yaml), &p, &errors), -EINVAL);
        assert_int_equal(errors.n, 4);
        assert_string_equal(errors.v[0].key, "disk.partitions[1].mount");
        assert_string_equal(errors.v[1].key, "disk.partitions[1].fs");
        assert_string_equal(errors.v[2].key, "disk.partitions[2].preserve");
        assert_non_null(strstr(errors.v[2].message, "exactly one of label, number or uuid"));
        assert_string_equal(errors.v[3].key, "disk.partitions[3].size");
        profile_errors_done(&errors);
}

/* ---- disk selection: recorded machines x profiles ------------------------------------ */

/* One row: a machine (tests/data/sysroot/NAME.json, the inventory recorded
 * from a QEMU machine, or tests/data/inventory/NAME.json), the disk section's
 * select hints (and wipe), and what the planner must do: choose target (any
 * of the disk's names: /dev/sda, /dev/disk/by-id/...), or fail with exactly
 * error ("KEY: MESSAGE"). */
typedef struct SelectRow {
        const char *machine;
        const char *select;   /* YAML flow mapping, or NULL for no select */
        bool wipe;
        const char *target;
        const char *error;
} SelectRow;

#define NO_SELECT NULL
#define USB_REASON "removable or USB (name it with disk.select.path to use it)"

static const SelectRow select_rows[] = {
        /* Two identical disks: no tie-breaker is an error naming both, with what tells them apart. */
        { "sysroot/two-identical", NO_SELECT, false, NULL,
          "disk.select: 2 disks match; add a hint (serial, wwn, path, ...) or prefer: first|smallest|largest "
          "(2 disks: /dev/vda: matches (8.0 GiB virtio, serial TWIN-A, by-path pci-0000:00:04.0); "
          "/dev/vdb: matches (8.0 GiB virtio, serial TWIN-B, by-path pci-0000:00:05.0))" },
        { "sysroot/two-identical", "{prefer: largest}", false, "/dev/vda", NULL }, /* a tie: the first */
        { "sysroot/two-identical", "{serial: TWIN-B}", false, "/dev/vdb", NULL },
        { "sysroot/two-identical", "{serial: twin-b}", false, NULL,
          "disk.select: no disk matches (2 disks: /dev/vda: serial TWIN-A, not twin-b; "
          "/dev/vdb: serial TWIN-B, not twin-b)" },
        { "sysroot/two-identical", "{path: /dev/disk/by-id/virtio-TWIN-A}", false, "/dev/vda", NULL },
        { "sysroot/two-identical", "{path: /dev/disk/by-path/pci-0000:00:05.0}", false, "/dev/vdb", NULL },
        { "sysroot/two-identical", "{path: /dev/disk/by-path/virtio-pci-0000:00:05.0}", false, "/dev/vdb", NULL },
        { "sysroot/two-identical", "{path: /dev/vdb}", false, "/dev/vdb", NULL },
        { "sysroot/two-identical", "{path: /dev/disk/by-id/virtio-TWIN-C}", false, NULL,
          "disk.select: no disk matches (2 disks: /dev/vda: not /dev/disk/by-id/virtio-TWIN-C; "
          "/dev/vdb: not /dev/disk/by-id/virtio-TWIN-C)" },

        /* NVMe, a SATA disk with old partitions, a USB stick (the smallest). */
        { "sysroot/nvme-sata-usb", "{prefer: smallest}", false, "/dev/nvme0n1", NULL },
        { "sysroot/nvme-sata-usb", "{transport: nvme}", false, "/dev/nvme0n1", NULL },
        { "sysroot/nvme-sata-usb", "{transport: sata}", false, NULL,
          "disk.wipe: refusing to use /dev/sda: it holds data (2 partitions: sda1 (1.0 GiB), sda2 (2.0 GiB)); "
          "set disk.wipe: true to allow wiping it" },
        { "sysroot/nvme-sata-usb", "{transport: sata}", true, "/dev/sda", NULL },
        { "sysroot/nvme-sata-usb", "{path: /dev/disk/by-id/ata-QEMU_HARDDISK_SATA0001}", true, "/dev/sda", NULL },
        { "sysroot/nvme-sata-usb", "{transport: usb}", false, NULL,
          "disk.select: no disk matches (3 disks: /dev/nvme0n1: transport nvme, not usb; "
          "/dev/sda: transport sata, not usb; /dev/sdb: " USB_REASON ")" },
        { "sysroot/nvme-sata-usb", "{path: /dev/disk/by-id/usb-QEMU_QEMU_HARDDISK_USB0001-0:0}", false, "/dev/sdb",
          NULL },
        { "sysroot/nvme-sata-usb", "{path: /dev/disk/by-path/pci-0000:00:04.0-nvme-1}", false, "/dev/nvme0n1", NULL },
        { "sysroot/nvme-sata-usb", "{path: /dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_NVME0001_1}", false, "/dev/nvme0n1",
          NULL },

        /* A spinning 64G disk, SSDs of 16G and 32G on SATA, an 8G NVMe. */
        { "sysroot/mixed-ssd-hdd", "{rotational: false, prefer: largest}", false, "/dev/sdc", NULL },
        { "sysroot/mixed-ssd-hdd", "{rotational: false, prefer: smallest}", false, "/dev/nvme0n1", NULL },
        { "sysroot/mixed-ssd-hdd", "{rotational: true}", false, "/dev/sda", NULL },
        { "sysroot/mixed-ssd-hdd", "{prefer: largest}", false, "/dev/sda", NULL },
        { "sysroot/mixed-ssd-hdd", "{rotational: false}", false, NULL,
          "disk.select: 3 disks match; add a hint (serial, wwn, path, ...) or prefer: first|smallest|largest "
          "(4 disks: /dev/nvme0n1: matches (8.0 GiB nvme, serial NVME-MIX-01, by-path pci-0000:00:04.0-nvme-1); "
          "/dev/sda: rotational, not SSD; "
          "/dev/sdb: matches (16.0 GiB sata, serial S5Y1NJ0R100016, by-path pci-0000:00:1f.2-ata-3.0); "
          "/dev/sdc: matches (32.0 GiB sata, serial S5Y1NJ0R100032, by-path pci-0000:00:1f.2-ata-5.0))" },
        { "sysroot/mixed-ssd-hdd", "{transport: sata, rotational: false, prefer: smallest}", false, "/dev/sdb", NULL },
        { "sysroot/mixed-ssd-hdd", "{transport: nvme}", false, "/dev/nvme0n1", NULL },
        { "sysroot/mixed-ssd-hdd", "{wwn: \"0x5002538E00000016\"}", false, "/dev/sdb", NULL },
        { "sysroot/mixed-ssd-hdd", "{wwn: 5002538e00000032}", false, "/dev/sdc", NULL },
        { "sysroot/mixed-ssd-hdd", "{wwn: 5002538e00000099}", false, NULL,
          "disk.select: no disk matches (4 disks: /dev/nvme0n1: WWN (none), not 0x5002538e00000099; "
          "/dev/sda: WWN 0x50014ee000000064, not 0x5002538e00000099; "
          "/dev/sdb: WWN 0x5002538e00000016, not 0x5002538e00000099; "
          "/dev/sdc: WWN 0x5002538e00000032, not 0x5002538e00000099)" },
        { "sysroot/mixed-ssd-hdd", "{model: \"Samsung SSD 870 EVO 32*\"}", false, "/dev/sdc", NULL },
        { "sysroot/mixed-ssd-hdd", "{vendor: ATA, prefer: smallest}", false, "/dev/sdb", NULL },
        { "sysroot/mixed-ssd-hdd", "{min_size: 10GiB, max_size: 20GiB}", false, "/dev/sdb", NULL },
        { "sysroot/mixed-ssd-hdd", "{min_size: 20G, max_size: 40G, rotational: false}", false, "/dev/sdc", NULL },
        { "sysroot/mixed-ssd-hdd", "{min_size: 100GiB}", false, NULL,
          "disk.select: no disk matches (4 disks: /dev/nvme0n1: 8.0 GiB is smaller than min_size 100.0 GiB; "
          "/dev/sda: 64.0 GiB is smaller than min_size 100.0 GiB; /dev/sdb: 16.0 GiB is smaller than min_size "
          "100.0 GiB; /dev/sdc: 32.0 GiB is smaller than min_size 100.0 GiB)" },
        { "sysroot/mixed-ssd-hdd", "{path: /dev/disk/by-path/pci-0000:00:1f.2-ata-5.0}", false, "/dev/sdc", NULL },
        { "sysroot/mixed-ssd-hdd", "{path: /dev/disk/by-path/pci-0000:00:1f.2-ata-5}", false, "/dev/sdc", NULL },
        { "sysroot/mixed-ssd-hdd", "{path: /dev/disk/by-id/wwn-0x50014ee000000064}", false, "/dev/sda", NULL },
        { "sysroot/mixed-ssd-hdd", "{path: /dev/disk/by-id/ata-Samsung_SSD_870_EVO_16GB_S5Y1NJ0R100016}", false,
          "/dev/sdb", NULL },
        { "sysroot/mixed-ssd-hdd", "{path: /dev/sdb, rotational: true}", false, NULL,
          "disk.select: no disk matches (4 disks: /dev/nvme0n1: not /dev/sdb; /dev/sda: not /dev/sdb; "
          "/dev/sdb: SSD, not rotational; /dev/sdc: not /dev/sdb)" },

        /* The installed Debian 12 system: its root disk is mounted (the boot
         * medium), its 128G USB disk is the largest. Kernel names change from
         * one recording to the next: targets are given by a by-id or by-path
         * name (another one than the profile's, where it names the disk). */
        { "sysroot/debian12-udev", "{prefer: largest}", false, "/dev/disk/by-id/wwn-0x5000c5001234abcd", NULL },
        { "sysroot/debian12-udev", "{prefer: smallest}", false, "/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_SCSI-0001",
          NULL },
        { "sysroot/debian12-udev", "{path: /dev/disk/by-id/wwn-0x5000c500deadbeef}", false,
          "/dev/disk/by-path/pci-0000:00:08.0-scsi-0:0:3:0", NULL },
        { "sysroot/debian12-udev", "{path: /dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_SCSI-0001}", false,
          "/dev/disk/by-path/pci-0000:00:08.0-scsi-0:0:0:0", NULL },
        { "sysroot/debian12-udev", "{path: /dev/disk/by-path/pci-0000:00:09.0-ata-2.0}", false,
          "/dev/disk/by-id/ata-QEMU_HARDDISK_SSD-0002", NULL },
        { "sysroot/debian12-udev", "{path: /dev/disk/by-path/pci-0000:00:1f.2-ata-1}", false,
          "/dev/disk/by-id/wwn-0x5000c5001234abcd", NULL },
        { "sysroot/debian12-udev", "{model: \"WDC WD6400AAKS-00A7B0 Long*\"}", false,
          "/dev/disk/by-path/pci-0000:00:1f.2-ata-1.0", NULL },
        { "sysroot/debian12-udev", "{transport: nvme, prefer: largest}", false,
          "/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_NVME-MP-01", NULL }, /* multipath: nvme2n1, not nvme2c2n1 */
        { "sysroot/debian12-udev", "{path: /dev/disk/by-path/pci-0000:00:0b.0-nvme-1}", false,
          "/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_NVME-MP-01_1", NULL },
        { "sysroot/debian12-udev", "{path: /dev/disk/by-id/usb-QEMU_QEMU_HARDDISK_USB-0001-0:0}", false,
          "/dev/disk/by-path/pci-0000:00:07.0-usb-0:1:1.0-scsi-0:0:0:0", NULL },
        { "sysroot/debian12-udev", "{path: /dev/vda}", true, NULL,
          "disk.select: no disk matches (11 disks: /dev/nvme0n1: not /dev/vda; /dev/nvme1n1: not /dev/vda; "
          "/dev/nvme2n1: not /dev/vda; /dev/sda: not /dev/vda; /dev/sdb: not /dev/vda; /dev/sdc: not /dev/vda; "
          "/dev/sdd: not /dev/vda; /dev/sde: not /dev/vda; /dev/sdf: not /dev/vda; "
          "/dev/vda: the installer's boot medium; /dev/vdb: not /dev/vda)" },
        { "sysroot/debian12-udev", "{path: /dev/disk/by-id/virtio-disk0}", true, NULL,
          "disk.select: no disk matches (11 disks: /dev/nvme0n1: not /dev/disk/by-id/virtio-disk0; "
          "/dev/nvme1n1: not /dev/disk/by-id/virtio-disk0; /dev/nvme2n1: not /dev/disk/by-id/virtio-disk0; "
          "/dev/sda: not /dev/disk/by-id/virtio-disk0; /dev/sdb: not /dev/disk/by-id/virtio-disk0; "
          "/dev/sdc: not /dev/disk/by-id/virtio-disk0; /dev/sdd: not /dev/disk/by-id/virtio-disk0; "
          "/dev/sde: not /dev/disk/by-id/virtio-disk0; /dev/sdf: not /dev/disk/by-id/virtio-disk0; "
          "/dev/vda: the installer's boot medium; /dev/vdb: not /dev/disk/by-id/virtio-disk0)" },

        /* Saved inventories. */
        { "inventory/disk-with-data", NO_SELECT, false, NULL,
          "disk.wipe: refusing to use /dev/vda: it holds data (gpt partition table, 1 partition: "
          "vda1 (1.0 GiB ext4 label old-root)); set disk.wipe: true to allow wiping it" },
        { "inventory/disk-with-data", NO_SELECT, true, "/dev/vda", NULL },
        { "inventory/usb-boot-medium", "{prefer: smallest}", false, "/dev/sda", NULL },
        { "inventory/usb-boot-medium", "{serial: 2130311A0002}", false, "/dev/sdb", NULL },
        { "inventory/usb-boot-medium", "{path: /dev/sdc}", true, NULL,
          "disk.select: no disk matches (3 disks: /dev/sda: not /dev/sdc; /dev/sdb: not /dev/sdc; "
          "/dev/sdc: the installer's boot medium)" },
        { "inventory/usb-boot-medium", "{path: /dev/disk/by-id/usb-SanDisk_Cruzer_Blade_4C530001090517117034-0:0}",
          true, NULL,
          "disk.select: no disk matches (3 disks: /dev/sda: not /dev/disk/by-id/usb-SanDisk_Cruzer_Blade_"
          "4C530001090517117034-0:0; /dev/sdb: not /dev/disk/by-id/usb-SanDisk_Cruzer_Blade_4C530001090517117034-0:0; "
          "/dev/sdc: the installer's boot medium)" },
};

/* Runs one row; returns NULL if it behaved as expected, else what happened. */
static char *run_select_row(const SelectRow *row) {
        _cleanup_free_ char *path = strprintf("tests/data/%s.json", row->machine), *err = NULL, *yaml = NULL;
        _cleanup_inventory_ Inventory *inv = NULL;
        _cleanup_profile_ Profile *profile = NULL;
        _cleanup_plan_ Plan *plan = NULL;
        ProfileErrors errors = {};
        char *what = NULL;
        int r;

        if (hw_inventory_load_json(path, &inv, &err) < 0)
                return strprintf("cannot load %s: %s", path, err ? err : "?");
        yaml = strprintf(HEAD "disk:\n%s%s%s  wipe: %s\n  partitions:\n    - {size: rest, mount: /}\n",
                         row->select ? "  select: " : "", row->select ?: "", row->select ? "\n" : "",
                         row->wipe ? "true" : "false");
        if (!yaml)
                return strdup("out of memory");
        if (profile_load_string("test.yaml", yaml, strlen(yaml), &profile, &errors) < 0) {
                what = strprintf("profile does not load: %s", errors.n ? errors.v[0].message : "?");
                profile_errors_done(&errors);
                return what;
        }
        r = plan_build(inv, profile, &plan, &errors);
        if (r >= 0) {
                const HwDisk *d = plan_target_disk(plan);
                const char *got = d->devnode;
                if (!row->target || !hw_disk_has_path(d, row->target))
                        what = strprintf("chose %s (%s), expected %s", got, plan->target_reason,
                                         row->target ?: row->error);
        } else if (errors.n != 1) {
                what = strprintf("plan_build: %s, %zu errors", strerror(-r), errors.n);
        } else {
                _cleanup_free_ char *got = strprintf("%s: %s", errors.v[0].key, errors.v[0].message);
                if (!got)
                        what = strdup("out of memory");
                else if (!row->error || !streq(got, row->error))
                        what = strprintf("error\n      %s\n    expected\n      %s", got, row->error ?: row->target);
                else if (errors.v[0].line != 5 && errors.v[0].line != 4)
                        what = strprintf("error at line %u, expected the disk section", errors.v[0].line);
        }
        profile_errors_done(&errors);
        return what;
}

static void test_select_table(void **state) {
        size_t failed = 0;

        assert_true(ELEMENTSOF(select_rows) >= 20);
        for (size_t i = 0; i < ELEMENTSOF(select_rows); i++) {
                _cleanup_free_ char *what = run_select_row(&select_rows[i]);
                if (what) {
                        print_message("row %zu (%s, select %s%s): %s\n", i, select_rows[i].machine,
                                      select_rows[i].select ?: "none", select_rows[i].wipe ? ", wipe" : "", what);
                        failed++;
                }
        }
        if (failed)
                fail_msg("%zu of %zu selection rows failed", failed, ELEMENTSOF(select_rows));
}

/* The select hints as the profile checker sees them: positions, messages,
 * normalisation. */
static void test_select_validation(void **state) {
        static const struct {
                const char *select, *message; /* message NULL: valid */
                unsigned column;
        } rows[] = {
                { "{path: /dev/sda}", NULL, 0 },
                { "{path: /dev/nvme0n1}", NULL, 0 },
                { "{path: /dev/disk/by-id/wwn-0x5000c500a1b2c3d4}", NULL, 0 },
                { "{path: /dev/disk/by-path/pci-0000:00:1f.2-ata-1.0}", NULL, 0 },
                { "{path: sda}", "invalid disk path 'sda': must be an absolute path", 18 },
                { "{path: /tmp/disk.img}",
                  "invalid disk path '/tmp/disk.img': must be a device path under /dev/: /dev/NAME, "
                  "/dev/disk/by-id/ID or /dev/disk/by-path/PATH", 18 },
                { "{path: /dev/disk/by-uuid/0b5e-1234}",
                  "invalid disk path '/dev/disk/by-uuid/0b5e-1234': names a filesystem or a partition, not a whole "
                  "disk; use /dev/disk/by-id/ or /dev/disk/by-path/", 18 },
                { "{path: /dev/disk/by-partuuid/x}",
                  "invalid disk path '/dev/disk/by-partuuid/x': names a filesystem or a partition, not a whole "
                  "disk; use /dev/disk/by-id/ or /dev/disk/by-path/", 18 },
                { "{path: /dev/disk/by_id/virtio-A}",
                  "invalid disk path '/dev/disk/by_id/virtio-A': unknown directory; did you mean "
                  "'/dev/disk/by-id/virtio-A'?", 18 },
                { "{path: /dev/disk/by-id/}",
                  "invalid disk path '/dev/disk/by-id/': needs one name after the directory", 18 },
                { "{path: /dev/mapper/vg-root}",
                  "invalid disk path '/dev/mapper/vg-root': must be /dev/NAME, /dev/disk/by-id/ID or "
                  "/dev/disk/by-path/PATH (device-mapper, md and other stacked devices cannot be installed to)", 18 },
                { "{wwn: \"0x5000C500A1B2C3D4\"}", NULL, 0 },
                { "{wwn: 600508b1001c4d5e8f3a2b1c0d9e8f7a}", NULL, 0 },
                { "{wwn: 0x5000c500}",
                  "invalid WWN '0x5000c500': expected 16 or 32 hexadecimal digits, with or without 0x (for example "
                  "0x5000c500a1b2c3d4)", 17 },
                { "{wwn: eui.0025388b91b2c4d5}",
                  "invalid WWN 'eui.0025388b91b2c4d5': expected 16 or 32 hexadecimal digits, with or without 0x "
                  "(for example 0x5000c500a1b2c3d4); NVMe namespaces have no WWN: name them with serial or path: "
                  "/dev/disk/by-id/nvme-...", 17 },
                { "{wnn: 5000c500a1b2c3d4}", "unknown key 'wnn'; did you mean 'wwn'?", 12 },
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *yaml = strprintf(HEAD "disk:\n  select: %s\n  partitions: [{size: rest, mount: /}]\n",
                                                      rows[i].select);
                _cleanup_profile_ Profile *p = NULL;
                ProfileErrors errors = {};
                int r;

                assert_non_null(yaml);
                r = profile_load_string("test.yaml", yaml, strlen(yaml), &p, &errors);
                if (!rows[i].message) {
                        if (r < 0)
                                profile_errors_print(stderr, &errors);
                        assert_int_equal(r, 0);
                } else {
                        assert_int_equal(r, -EINVAL);
                        assert_int_equal(errors.n, 1);
                        if (!streq(errors.v[0].message, rows[i].message))
                                fail_msg("%s: got '%s'", rows[i].select, errors.v[0].message);
                        assert_int_equal(errors.v[0].line, 5);
                        assert_int_equal(errors.v[0].column, rows[i].column);
                }
                profile_errors_done(&errors);
        }
}

static void test_wwn_normalised(void **state) {
        static const char yaml[] = HEAD "disk:\n  select: {wwn: \"0X5000C500A1B2C3D4\"}\n  partitions: [{size: rest, mount: /}]\n";
        _cleanup_profile_ Profile *p = NULL;
        ProfileErrors errors = {};

        assert_int_equal(profile_load_string("test.yaml", yaml, strlen(yaml), &p, &errors), 0);
        assert_string_equal(p->disk.select.wwn, "0x5000c500a1b2c3d4");
}

/* ---- the firmware's boot partition (disk.firmware) ------------------------------------ */

#define ROOT_ONLY "  partitions:\n    - {size: 1GiB, fs: swap}\n    - {size: rest, mount: /}\n"


static void test_uefi_adds_esp(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "one-blank-disk-uefi.json", HEAD "disk:\n" ROOT_ONLY), 0);
        const Plan *p = f->plan;
        assert_int_equal(p->firmware, FIRMWARE_UEFI);
        assert_false(p->firmware_from_profile);
        assert_int_equal(p->n_partitions, 3);
        /* The ESP first: 512 MiB FAT32 at /boot/efi, 1 MiB aligned, only root may read it. */
        const PlanPartition *esp = &p->partitions[0];
        assert_int_equal(esp->role, PART_ROLE_ESP);
        assert_int_equal(esp->number, 1);
        assert_true(esp->automatic);
        assert_int_equal(esp->fs, FS_VFAT);
        assert_int_equal(esp->start, 1 * MiB);
        assert_int_equal(esp->size, 512 * MiB);
        assert_string_equal(esp->mount, "/boot/efi");
        assert_string_equal(esp->mount_options, "umask=0077");
        assert_int_equal(p->partitions[1].role, PART_ROLE_SWAP);
        assert_int_equal(p->partitions[1].start, 513 * MiB);
        assert_int_equal(p->partitions[2].role, PART_ROLE_ROOT);
        assert_int_equal(p->partitions[2].start, 513 * MiB + 1 * GiB);
        assert_int_equal(p->partitions[2].start + p->partitions[2].size, 8 * GiB - 1 * MiB);
        /* No BIOS boot partition, no legacy_boot attribute for extlinux. */
        for (size_t i = 0; i < p->n_partitions; i++) {
                assert_int_not_equal(p->partitions[i].role, PART_ROLE_BIOS_BOOT);
                assert_false(p->partitions[i].legacy_boot);
                assert_false(p->partitions[i].boot_flag);
        }

        _cleanup_free_ char *text = print_plan(p, false), *json = print_plan(p, true);
        assert_non_null(strstr(text, "Firmware:   uefi (detected)\n"));
        assert_non_null(strstr(text, "Boot:       systemd-boot on partition 1 (EFI system partition)"));
        assert_non_null(strstr(text, "1   1.0 MiB    512.0 MiB  esp       vfat  /boot/efi  ESP  (added: UEFI boot)\n"));
        assert_non_null(strstr(json, "\"firmware\": \"uefi\""));
        assert_non_null(strstr(json, "\"firmware_source\": \"detected\""));
        assert_non_null(strstr(json, "\"bootloader\": \"systemd-boot\""));
        assert_non_null(strstr(json, "\"role\": \"esp\""));
        assert_non_null(strstr(json, "\"mount_options\": \"umask=0077\""));
}

static void test_uefi_keeps_profile_esp(void **state) {
        Fixture *f = *state;
        /* The profile's own ESP (vfat at /efi, not first): no second one. */
        assert_int_equal(build(f, "one-blank-disk-uefi.json",
                               HEAD "disk:\n  partitions:\n    - {size: rest, mount: /}\n"
                                    "    - {size: 200MiB, fs: vfat, mount: /efi, label: EFI}\n"),
                         0);
        const Plan *p = f->plan;
        assert_int_equal(p->n_partitions, 2);
        assert_int_equal(p->partitions[0].role, PART_ROLE_ROOT);
        assert_int_equal(p->partitions[1].role, PART_ROLE_ESP);
        assert_false(p->partitions[1].automatic);
        assert_string_equal(p->partitions[1].mount, "/efi");
        assert_string_equal(p->partitions[1].mount_options, "umask=0077");
        assert_int_equal(p->partitions[1].start + p->partitions[1].size, 8 * GiB - 1 * MiB);
}

static void test_firmware_override(void **state) {
        Fixture *f = *state;
        /* A UEFI machine installed for legacy BIOS: BIOS boot partition, extlinux. */
        assert_int_equal(build(f, "one-blank-disk-uefi.json", HEAD "disk:\n  firmware: bios\n" ROOT_ONLY), 0);
        assert_int_equal(f->plan->firmware, FIRMWARE_BIOS);
        assert_true(f->plan->firmware_from_profile);
        assert_int_equal(f->plan->partitions[0].role, PART_ROLE_BIOS_BOOT);
        assert_true(f->plan->partitions[2].legacy_boot);
        _cleanup_free_ char *text = print_plan(f->plan, false);
        assert_non_null(strstr(text, "Firmware:   bios (disk.firmware; the machine booted with uefi)\n"));
        assert_non_null(strstr(text, "Boot:       extlinux on partition 3, gptmbr.bin boot code\n"));
}

static void test_firmware_override_uefi(void **state) {
        Fixture *f = *state;
        /* A machine that PXE-booted in legacy mode, installed for UEFI. */
        assert_int_equal(build(f, "one-blank-disk.json", HEAD "disk:\n  firmware: uefi\n" ROOT_ONLY), 0);
        assert_int_equal(f->plan->firmware, FIRMWARE_UEFI);
        assert_int_equal(f->plan->partitions[0].role, PART_ROLE_ESP);
        assert_int_equal(f->plan->n_partitions, 3);
        _cleanup_free_ char *json = print_plan(f->plan, true);
        assert_non_null(strstr(json, "\"firmware_source\": \"profile\""));
}

static void test_firmware_auto_is_detected(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "one-blank-disk.json", HEAD "disk:\n  firmware: auto\n" ROOT_ONLY), 0);
        assert_int_equal(f->plan->firmware, FIRMWARE_BIOS);
        assert_false(f->plan->firmware_from_profile);
        assert_int_equal(f->plan->partitions[0].role, PART_ROLE_BIOS_BOOT);
}

static void test_uefi_msdos_refused(void **state) {
        Fixture *f = *state;
        /* Detected UEFI: the error is at disk.table. */
        assert_int_equal(build(f, "one-blank-disk-uefi.json", HEAD "disk:\n  table: msdos\n" ROOT_ONLY), -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_string_equal(f->errors.v[0].key, "disk.table");
        assert_int_equal(f->errors.v[0].line, 5);
        assert_int_equal(f->errors.v[0].column, 10);
        assert_string_equal(f->errors.v[0].message,
                            "msdos cannot boot this machine: it boots with UEFI, which needs a GPT partition table "
                            "with an EFI system partition; use table: gpt, or firmware: bios if the machine also "
                            "boots in legacy (CSM) mode");
        /* The same msdos profile on a BIOS machine is fine. */
        fixture_teardown(state);
        fixture_setup(state);
        f = *state;
        assert_int_equal(build(f, "one-blank-disk.json", HEAD "disk:\n  table: msdos\n" ROOT_ONLY), 0);
        assert_true(f->plan->partitions[1].boot_flag);
}

static void test_uefi_msdos_refused_at_firmware(void **state) {
        Fixture *f = *state;
        /* disk.firmware: uefi says so explicitly, on any machine: the error is there. */
        assert_int_equal(build(f, "one-blank-disk.json",
                               HEAD "disk:\n  table: msdos\n  firmware: uefi\n" ROOT_ONLY), -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_string_equal(f->errors.v[0].key, "disk.firmware");
        assert_int_equal(f->errors.v[0].line, 6);
        assert_int_equal(f->errors.v[0].column, 13);
        assert_string_equal(f->errors.v[0].message, "firmware uefi needs a GPT partition table with an EFI system "
                                                     "partition, not table: msdos; use table: gpt");
}

static void test_uefi_non_vfat_esp_mount(void **state) {
        Fixture *f = *state;
        assert_int_equal(build(f, "one-blank-disk-uefi.json",
                               HEAD "disk:\n  partitions:\n    - {size: 100MiB, mount: /boot/efi}\n"
                                    "    - {size: rest, mount: /}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_int_equal(f->errors.v[0].line, 6);
        assert_string_equal(f->errors.v[0].message,
                            "disk.partitions[0] is mounted at /boot/efi but is ext4: the EFI system partition needs "
                            "fs: vfat (this machine boots with UEFI)");
}

static void test_uefi_esp_does_not_fit(void **state) {
        Fixture *f = *state;
        /* 7.5 GiB fits on the 8 GiB disk with a BIOS boot partition, not with a 512 MiB ESP. */
        assert_int_equal(build(f, "one-blank-disk.json", HEAD "disk:\n  partitions:\n    - {size: 7680MiB, mount: /}\n"), 0);
        fixture_teardown(state);
        fixture_setup(state);
        f = *state;
        assert_int_equal(build(f, "one-blank-disk-uefi.json", HEAD "disk:\n  partitions:\n    - {size: 7680MiB, mount: /}\n"),
                         -EINVAL);
        assert_int_equal(f->errors.n, 1);
        assert_string_equal(f->errors.v[0].message,
                            "the partitions need 8.0 GiB (with the 512 MiB EFI system partition added for UEFI) but "
                            "/dev/vda has 8.0 GiB usable: the layout is larger than the disk");
}

static void test_firmware_value_checked(void **state) {
        static const char yaml[] = HEAD "disk:\n  firmware: efi\n  partitions: [{size: rest, mount: /}]\n";
        _cleanup_profile_ Profile *p = NULL;
        ProfileErrors errors = {};

        assert_int_equal(profile_load_string("test.yaml", yaml, strlen(yaml), &p, &errors), -EINVAL);
        assert_int_equal(errors.n, 1);
        assert_string_equal(errors.v[0].key, "disk.firmware");
        assert_int_equal(errors.v[0].line, 5);
        assert_int_equal(errors.v[0].column, 13);
        assert_string_equal(errors.v[0].message, "unknown firmware 'efi'; did you mean 'uefi'?");
        profile_errors_done(&errors);
}


/* ---- limits: sizes near 2^64 and the table's capacity, refused at plan
 * time at the profile entry (never wrapped into a small or 0-byte
 * partition, never left for apply to find) ------------------------------------- */

/* "    - {size: 1MiB, fs: ext4, mount: /pN}\n" n times after HEAD. */
static char *many_partitions(size_t n) {
        StrBuf b = {};
        strbuf_appendf(&b, HEAD "disk:\n  partitions:\n    - {size: 1GiB, mount: /}\n");
        for (size_t i = 1; i < n; i++)
                strbuf_appendf(&b, "    - {size: 1MiB, fs: ext4, mount: /p%zu}\n", i);
        return strbuf_steal(&b);
}

typedef struct LimitCase {
        const char *name;
        const char *inventory;
        const char *yaml;          /* or NULL: many_partitions(n_partitions) */
        size_t n_partitions;
        int rc;                    /* plan_build()'s result */
        unsigned line, column;     /* of the error, when rc < 0 */
        const char *key, *message; /* the error's key, a part of its message */
} LimitCase;

#define HUGE "18446744073709551615"
static const LimitCase limit_cases[] = {
        { "2^64-1 bytes", "one-blank-disk-uefi.json",
          HEAD "disk:\n  partitions:\n    - {size: " HUGE ", fs: swap}\n    - {size: rest, mount: /}\n",
          0, -EINVAL, 6, 7, "disk.partitions[0].size", "beyond 2^64 bytes once aligned to 1 MiB" },
        { "2^64-1 MiB next to the ESP", "one-blank-disk-uefi.json",
          HEAD "disk:\n  partitions:\n    - {size: 17592186044415M, mount: /}\n",
          0, -EINVAL, 6, 7, "disk.partitions[0].size", "is larger than the 8.0 GiB usable on /dev/vda" },
        { "2^64-1 MiB on a 16 EiB disk", "limits-huge-disk.json",
          HEAD "disk:\n  partitions:\n    - {size: 17592186044415M, mount: /}\n",
          0, -EINVAL, 6, 7, "disk.partitions[0].size", "the layout is larger than the disk" },
        { "two halves of 2^64 (the sum wraps to 0)", "limits-huge-disk.json",
          HEAD "disk:\n  partitions:\n    - {size: 9223372036854775808, mount: /}\n"
               "    - {size: 9223372036854775808, mount: /srv}\n",
          0, -EINVAL, 7, 7, "disk.partitions", "the layout is larger than the disk" },
        { "mirror of 8 EiB and 4 EiB (the difference times 100 wraps to 0)", "limits-huge-mirror.json",
          HEAD "disk:\n  select: {serial: A}\n  mirror: {select: {serial: B}}\n  firmware: bios\n"
               "  partitions:\n    - {size: rest, raid: md0}\n"
               "raid:\n  - {name: md0, fs: ext4, mount: /}\n",
          0, -EINVAL, 6, 20, "disk.mirror", "differ in size beyond the 1% tolerance" },
        { "a 512 KiB disk (disk size less 1 MiB wraps)", "limits-tiny-disk.json",
          HEAD "disk:\n  partitions:\n    - {size: rest, mount: /}\n",
          0, -EINVAL, 5, 3, "disk", "is too small" },
        { "128 partitions and the ESP", "one-blank-disk-uefi.json", NULL, 128,
          -EINVAL, 133, 7, "disk.partitions", "holds at most 128 partitions and the EFI system partition" },
        { "128 partitions and the BIOS boot partition", "one-blank-disk.json", NULL, 128,
          -EINVAL, 133, 7, "disk.partitions", "disk.partitions[127] would be number 129" },
        { "127 partitions and the ESP: 128, planned", "one-blank-disk-uefi.json", NULL, 127, 0, 0, 0, NULL, NULL },
};

/* One case of limit_cases (its initial state). */
static void test_limit(void **state) {
        const LimitCase *c = *state;
        *state = NULL;
        _cleanup_free_ char *yaml = c->yaml ? strdup(c->yaml) : many_partitions(c->n_partitions);
        void *st = NULL;

        assert_non_null(yaml);
        fixture_setup(&st);
        Fixture *f = st;
        *state = st; /* torn down by fixture_teardown() even when an assertion fails */
        assert_int_equal(build(f, c->inventory, yaml), c->rc);
        if (c->rc == 0) {
                assert_int_equal(f->errors.n, 0);
                /* Nothing wrapped: every partition inside the usable space, in order. */
                for (size_t k = 0; k < f->plan->n_partitions; k++) {
                        const PlanPartition *pl = &f->plan->partitions[k];
                        assert_true(pl->size > 0);
                        assert_true(pl->start >= f->plan->usable_start);
                        assert_true(pl->start + pl->size <= f->plan->usable_end);
                        assert_true(k == 0 || pl->start >= pl[-1].start + pl[-1].size);
                }
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
                T(test_simple_gpt_layout),
                T(test_msdos_percent_and_boot),
                T(test_does_not_fit),
                T(test_usb_and_preference),
                T(test_ambiguous_is_an_error),
                T(test_serial_hint),
                T(test_no_match_lists_reasons),
                T(test_data_disk_refused_without_wipe),
                T(test_data_disk_wiped_with_permission),
                T(test_uefi_adds_esp),
                T(test_uefi_keeps_profile_esp),
                T(test_firmware_override),
                T(test_firmware_override_uefi),
                T(test_firmware_auto_is_detected),
                T(test_uefi_msdos_refused),
                T(test_uefi_msdos_refused_at_firmware),
                T(test_uefi_non_vfat_esp_mount),
                T(test_uefi_esp_does_not_fit),
                cmocka_unit_test(test_firmware_value_checked),
                T(test_preserve_rest_fills_its_gap),
                T(test_preserve_first_and_rest_after),
                T(test_preserve_would_move),
                T(test_preserve_would_shrink),
                T(test_preserve_after_does_not_fit),
                T(test_preserve_missing_and_ambiguous),
                T(test_preserve_needs_wipe_for_the_rest),
                T(test_preserve_table_and_blank_disk),
                T(test_preserve_blank_disk),
                T(test_preserve_swap_and_unmountable),
                cmocka_unit_test(test_preserve_profile_errors),
                cmocka_unit_test(test_select_table),
                cmocka_unit_test(test_select_validation),
                cmocka_unit_test(test_wwn_normalised),
#define L(i) { limit_cases[i].name, test_limit, NULL, fixture_teardown, (void *) &limit_cases[i] }
                L(0), L(1), L(2), L(3), L(4), L(5), L(6), L(7), L(8),
        };
        _Static_assert(ELEMENTSOF(limit_cases) == 9, "a case of limit_cases is not run");
        return cmocka_run_group_tests(tests, NULL, NULL);
}
