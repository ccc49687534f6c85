/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The install-in-progress mark: its bytes (hw/mark.c), the machine identity,
 * the inventory's JSON, the plan's decision (an unfinished install of this
 * installer, on this machine and this disk, is redone without disk.wipe; any
 * other mark changes nothing), and on a disk image file: written, kept by the
 * wipe and by libparted (gpt and msdos), given the table id after
 * partitioning, and replaced by the boot code (BIOS) or zeros (UEFI) at the
 * end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "basic/fileio.h"
#include "basic/strutil.h"
#include "boot/boot.h"
#include "disk/disk-internal.h"
#include "hw/hw.h"
#include "plan/plan.h"
#include "profile/profile.h"

#include "plan-fixture.h"
#include "unit-tmpdir.h"

#define SYSLINUX "/usr/lib/syslinux"


/* ---- the bytes ------------------------------------------------------------------ */

static void test_encode_decode(void **state) {
        HwInstallMark m = { .started_usec = 1796680203000000ULL, .machine = (char *) "uuid:6c8f0e3a-1d2b-4c5d-9e8f-0a1b2c3d4e5f",
                            .disk_size = 8 * GiB, .table_id = (char *) "0b6ef1ff-5ce5-4bb4-a8a3-b4b4c5e3a3c1",
                            .flags = HW_INSTALL_MARK_KEPT_PARTITIONS, .prior_table_id = (char *) "a1b2c3d4" };
        uint8_t b[HW_INSTALL_MARK_SIZE];
        _cleanup_(hw_install_mark_freep) HwInstallMark *d = NULL;

        assert_int_equal(hw_install_mark_encode(&m, b), 0);
        /* int 0x18; hlt; jmp $-1 */
        static const uint8_t stub[] = { 0xcd, 0x18, 0xf4, 0xeb, 0xfd };
        assert_memory_equal(b, stub, sizeof stub);
        assert_memory_equal(b + 8, "BMI-INSTALL-IN-PROGRESS", 24);
        assert_int_equal(b[32], 2);
        assert_memory_equal(b + 184, "a1b2c3d4", 9);
        /* CRC32 of bytes 0..435, little endian at 436 (zlib's CRC of "123456789" is cbf43926) */
        assert_int_equal(hw_crc32("123456789", 9), 0xcbf43926u);
        uint32_t crc = hw_crc32(b, 436);
        assert_int_equal(b[436] | b[437] << 8 | b[438] << 16 | (uint32_t) b[439] << 24, crc);

        assert_int_equal(hw_install_mark_decode(b, &d), 1);
        assert_non_null(d);
        assert_int_equal(d->started_usec, m.started_usec);
        assert_int_equal(d->disk_size, m.disk_size);
        assert_string_equal(d->machine, m.machine);
        assert_string_equal(d->table_id, m.table_id);
        assert_string_equal(d->prior_table_id, m.prior_table_id);
        assert_int_equal(d->flags, HW_INSTALL_MARK_KEPT_PARTITIONS);
        _cleanup_free_ char *t = hw_install_mark_format_time(d->started_usec);
        assert_string_equal(t, "2026-12-07T21:50:03Z");

        /* No table id yet, no machine: NULL both. */
        hw_install_mark_free(TAKE_PTR(d));
        m.table_id = NULL;
        m.machine = NULL;
        m.prior_table_id = NULL;
        assert_int_equal(hw_install_mark_encode(&m, b), 0);
        assert_int_equal(hw_install_mark_decode(b, &d), 1);
        assert_null(d->table_id);
        assert_null(d->machine);
        assert_null(d->prior_table_id);

        /* Version 1 (no prior table id) is no mark: the disk is protected. */
        hw_install_mark_free(TAKE_PTR(d));
        b[32] = 1;
        uint32_t c1 = hw_crc32(b, 436);
        memcpy(b + 436, &c1, 4); /* little endian host */
        assert_int_equal(hw_install_mark_decode(b, &d), -EBADMSG);
        assert_null(d);

        /* Too long, or not printable: refused. */
        m.machine = (char *) "uuid:0123456789012345678901234567890123456789012345678901234567890123";
        assert_int_equal(hw_install_mark_encode(&m, b), -EINVAL);
        m.machine = (char *) "mac 52:54";
        assert_int_equal(hw_install_mark_encode(&m, b), -EINVAL);
}

static void test_corrupt_mark_ignored(void **state) {
        HwInstallMark m = { .started_usec = 1, .machine = (char *) "mac:52:54:00:12:34:56", .disk_size = GiB };
        uint8_t b[HW_INSTALL_MARK_SIZE], c[HW_INSTALL_MARK_SIZE];
        HwInstallMark *d = NULL;

        assert_int_equal(hw_install_mark_encode(&m, b), 0);
        /* Any single flipped byte (the CRC's own bytes included) is caught. */
        for (size_t i = 0; i < sizeof b; i++) {
                memcpy(c, b, sizeof b);
                c[i] ^= 0x40;
                int r = hw_install_mark_decode(c, &d);
                assert_null(d);
                /* in the magic: not a mark at all; elsewhere: a corrupt one */
                assert_int_equal(r, i >= 8 && i < 32 ? 0 : -EBADMSG);
        }
        /* Zeros, and real boot code: no mark. */
        memset(c, 0, sizeof c);
        assert_int_equal(hw_install_mark_decode(c, &d), 0);
        _cleanup_free_ char *code = NULL;
        size_t n = 0;
        if (read_full_file(SYSLINUX "/mbr/gptmbr.bin", &code, &n) >= 0 && n >= sizeof c) {
                assert_int_equal(hw_install_mark_decode((const uint8_t *) code, &d), 0);
                assert_null(d);
        }
}

static void test_machine_id(void **state) {
        HwNic nics[] = { { .mac = (char *) "52:54:00:12:34:57" }, { .mac = (char *) "52:54:00:12:34:56" },
                         { .mac = (char *) "00:00:00:00:00:00" } };
        Inventory inv = { .nics = nics, .n_nics = ELEMENTSOF(nics) };
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        inv.dmi.product_uuid = (char *) "6c8f0e3a-1d2b-4c5d-9e8f-0a1b2c3d4e5f";
        a = hw_inventory_machine_id(&inv);
        assert_string_equal(a, "uuid:6c8f0e3a-1d2b-4c5d-9e8f-0a1b2c3d4e5f");
        /* A placeholder UUID (QEMU without -uuid, white boxes): the lowest MAC. */
        inv.dmi.product_uuid = (char *) "00000000-0000-0000-0000-000000000000";
        b = hw_inventory_machine_id(&inv);
        assert_string_equal(b, "mac:52:54:00:12:34:56");
        inv.n_nics = 0;
        inv.dmi.product_uuid = NULL;
        c = hw_inventory_machine_id(&inv);
        assert_null(c);
}

/* ---- the inventory's JSON ------------------------------------------------------- */

static void test_inventory_json(void **state) {
        _cleanup_inventory_ Inventory *inv = NULL, *back = NULL;
        _cleanup_free_ char *err = NULL, *json = NULL, *path = strprintf("%s/inv.json", tmpdir);
        size_t size = 0;

        assert_int_equal(hw_inventory_load_json("tests/data/inventory/disk-with-data.json", &inv, &err), 0);
        assert_null(inv->disks[0].install_mark);
        inv->disks[0].install_mark = new0(HwInstallMark, 1);
        *inv->disks[0].install_mark = (HwInstallMark) { .started_usec = 1796680203123456ULL,
                                                        .machine = strdup("uuid:6c8f0e3a-1d2b-4c5d-9e8f-0a1b2c3d4e5f"),
                                                        .disk_size = 8 * GiB, .table_id = strdup("a1b2c3d4"),
                                                        .prior_table_id = strdup("0b6ef1ff") };
        assert_int_equal(hw_inventory_to_json_string(inv, &json, &size), 0);
        assert_non_null(strstr(json, "\"install_in_progress\": {"));
        assert_non_null(strstr(json, "\"started\": \"2026-12-07T21:50:03Z\""));
        assert_non_null(strstr(json, "\"machine\": \"uuid:6c8f0e3a-1d2b-4c5d-9e8f-0a1b2c3d4e5f\""));
        assert_non_null(strstr(json, "\"disk_size\": 8589934592"));
        assert_non_null(strstr(json, "\"table_id\": \"a1b2c3d4\""));
        assert_non_null(strstr(json, "\"prior_table_id\": \"0b6ef1ff\""));
        assert_int_equal(write_file_atomic(path, json, size, 0644), 0);
        assert_int_equal(hw_inventory_load_json(path, &back, &err), 0);
        const HwInstallMark *m = back->disks[0].install_mark;
        assert_non_null(m);
        assert_int_equal(m->started_usec, 1796680203123456ULL);
        assert_string_equal(m->machine, "uuid:6c8f0e3a-1d2b-4c5d-9e8f-0a1b2c3d4e5f");
        assert_int_equal(m->disk_size, 8 * GiB);
        assert_string_equal(m->table_id, "a1b2c3d4");
        assert_string_equal(m->prior_table_id, "0b6ef1ff");
        assert_int_equal(m->flags, 0);
}

/* ---- the plan's decision -------------------------------------------------------- */

#define PROFILE_NOWIPE HEAD "disk:\n  partitions:\n    - {size: rest, mount: /}\n"
#define PROFILE_WIPE HEAD "disk:\n  wipe: true\n  partitions:\n    - {size: rest, mount: /}\n"
#define THIS_MACHINE "uuid:6c8f0e3a-1d2b-4c5d-9e8f-0a1b2c3d4e5f"

typedef struct MarkCase {
        const char *name;
        const char *inventory;       /* tests/data/inventory/ */
        bool mark;
        const char *machine;
        uint64_t disk_size;          /* 0: the disk's */
        const char *table_id;
        const char *ptuuid;          /* the disk's, set on the inventory */
        const char *prior_table_id;  /* the mark's */
        unsigned flags;
        const char *profile;
        int ret;                     /* plan_build() */
        PlanWipeReason reason;
        const char *text;            /* in the text plan (ret 0) or the errors (ret < 0) */
        const char *json;            /* in the JSON plan, or NULL */
} MarkCase;

static const MarkCase mark_cases[] = {
        { "no mark: refused as ever", "disk-with-data.json", false, NULL, 0, NULL, NULL, NULL, 0, PROFILE_NOWIPE, -EINVAL,
          PLAN_WIPE_NONE, "refusing to use /dev/vda: it holds data (gpt partition table, 1 partition: vda1 (1.0 GiB ext4 "
          "label old-root)); set disk.wipe: true to allow wiping it", NULL },
        { "ours, before the partition step", "disk-with-data.json", true, THIS_MACHINE, 0, NULL, NULL, NULL, 0, PROFILE_NOWIPE, 0,
          PLAN_WIPE_UNFINISHED, "  Wipe:       YES — /dev/vda holds this installer's unfinished install (started "
          "2026-12-07T21:50:03Z): gpt partition table, 1 partition: vda1 (1.0 GiB ext4 label old-root); redone without "
          "disk.wipe\n", "\"wipe_reason\": \"unfinished-install\"" },
        { "ours, naming the disk's table", "disk-with-data.json", true, THIS_MACHINE, 0, "0B6EF1FF-5CE5-4BB4-A8A3-B4B4C5E3A3C1",
          "0b6ef1ff-5ce5-4bb4-a8a3-b4b4c5e3a3c1", NULL, 0, PROFILE_NOWIPE, 0, PLAN_WIPE_UNFINISHED, "redone without disk.wipe",
          "\"install_mark\": \"this installer's unfinished install (started 2026-12-07T21:50:03Z)\"" },
        { "ours, with disk.wipe too", "disk-with-data.json", true, THIS_MACHINE, 0, NULL, NULL, NULL, 0, PROFILE_WIPE, 0,
          PLAN_WIPE_UNFINISHED, "redone without disk.wipe", NULL },
        { "another machine", "disk-with-data.json", true, "uuid:11111111-2222-3333-4444-555555555555", 0, NULL, NULL, NULL, 0,
          PROFILE_NOWIPE, -EINVAL, PLAN_WIPE_NONE,
          "refusing to use /dev/vda: it holds data (gpt partition table, 1 partition: vda1 (1.0 GiB ext4 label old-root)); "
          "it carries an install-in-progress mark (started 2026-12-07T21:50:03Z) that is not this installer's unfinished "
          "install here: written by machine uuid:11111111-2222-3333-4444-555555555555, this machine is " THIS_MACHINE
          "; not trusted; set disk.wipe: true to allow wiping it", NULL },
        { "another disk size", "disk-with-data.json", true, THIS_MACHINE, 4 * GiB, NULL, NULL, NULL, 0, PROFILE_NOWIPE, -EINVAL,
          PLAN_WIPE_NONE, "written on a disk of 4294967296 bytes, /dev/vda has 8589934592; not trusted", NULL },
        { "another table", "disk-with-data.json", true, THIS_MACHINE, 0, "a1b2c3d4", "0b6ef1ff-5ce5-4bb4-a8a3-b4b4c5e3a3c1", NULL, 0,
          PROFILE_NOWIPE, -EINVAL, PLAN_WIPE_NONE,
          "it names partition table a1b2c3d4, /dev/vda has 0b6ef1ff-5ce5-4bb4-a8a3-b4b4c5e3a3c1; not trusted", NULL },
        { "a table id, but the disk has none", "disk-with-data.json", true, THIS_MACHINE, 0, "a1b2c3d4", NULL, NULL, 0,
          PROFILE_NOWIPE, -EINVAL, PLAN_WIPE_NONE, "it names partition table a1b2c3d4, /dev/vda has no partition table", NULL },
        { "a reinstall's mark, a whole-disk plan", "disk-with-data.json", true, THIS_MACHINE, 0, NULL, NULL, NULL,
          HW_INSTALL_MARK_KEPT_PARTITIONS, PROFILE_NOWIPE, -EINVAL, PLAN_WIPE_NONE,
          "it is from a reinstall that kept partitions, and this plan wipes the whole disk", NULL },
        { "another machine, disk.wipe: wiped as ever", "disk-with-data.json", true, "mac:52:54:00:00:00:01", 0, NULL, NULL, NULL, 0,
          PROFILE_WIPE, 0, PLAN_WIPE_PROFILE, "  Mark:       /dev/vda carries an install-in-progress mark",
          "\"wipe_reason\": \"disk.wipe\"" },
        { "a mark on a blank disk", "one-blank-disk.json", true, NULL, 0, NULL, NULL, NULL, 0, PROFILE_NOWIPE, 0, PLAN_WIPE_NONE,
          "  Wipe:       nothing (/dev/vda is blank)\n", "\"wipe_reason\": null" },
        { "no mark, blank", "one-blank-disk.json", false, NULL, 0, NULL, NULL, NULL, 0, PROFILE_NOWIPE, 0, PLAN_WIPE_NONE,
          "  Wipe:       nothing (/dev/vda is blank)\n", "\"install_mark\": null" },
        { "ours before the partition step, the table it found", "disk-with-data.json", true, THIS_MACHINE, 0, NULL,
          "0b6ef1ff-5ce5-4bb4-a8a3-b4b4c5e3a3c1", "0B6EF1FF-5CE5-4BB4-A8A3-B4B4C5E3A3C1", 0, PROFILE_NOWIPE, 0,
          PLAN_WIPE_UNFINISHED, "redone without disk.wipe", NULL },
        { "ours before the partition step, another table now", "disk-with-data.json", true, THIS_MACHINE, 0, NULL,
          "a1b2c3d4", "0b6ef1ff-5ce5-4bb4-a8a3-b4b4c5e3a3c1", 0, PROFILE_NOWIPE, -EINVAL, PLAN_WIPE_NONE,
          "that is not this installer's unfinished install here: its partition table changed since the mark was written "
          "(it was 0b6ef1ff-5ce5-4bb4-a8a3-b4b4c5e3a3c1, /dev/vda has a1b2c3d4); not trusted; set disk.wipe: true", NULL },
        { "ours before the partition step, a table now, none then", "disk-with-data.json", true, THIS_MACHINE, 0, NULL,
          "a1b2c3d4", NULL, 0, PROFILE_NOWIPE, -EINVAL, PLAN_WIPE_NONE,
          "its partition table changed since the mark was written (it was none, /dev/vda has a1b2c3d4); not trusted", NULL },
        { "ours before the partition step, a table then, none now", "disk-with-data.json", true, THIS_MACHINE, 0, NULL,
          NULL, "a1b2c3d4", 0, PROFILE_NOWIPE, -EINVAL, PLAN_WIPE_NONE,
          "its partition table changed since the mark was written (it was a1b2c3d4, /dev/vda has none); not trusted", NULL },
};


static void test_plan_decision(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(mark_cases); i++) {
                const MarkCase *c = &mark_cases[i];
                _cleanup_free_ char *path = strprintf("tests/data/inventory/%s", c->inventory), *err = NULL;
                Fixture f = {};

                assert_int_equal(hw_inventory_load_json(path, &f.inv, &err), 0);
                HwDisk *d = &f.inv->disks[0];
                if (c->ptuuid)
                        d->ptuuid = strdup(c->ptuuid);
                if (c->mark) {
                        d->install_mark = new0(HwInstallMark, 1);
                        *d->install_mark = (HwInstallMark) {
                                .started_usec = 1796680203000000ULL,
                                .machine = c->machine ? strdup(c->machine) : NULL,
                                .disk_size = c->disk_size ? c->disk_size : d->size,
                                .table_id = c->table_id ? strdup(c->table_id) : NULL,
                                .prior_table_id = c->prior_table_id ? strdup(c->prior_table_id) : NULL,
                                .flags = c->flags,
                        };
                }
                if (profile_load_string("test.yaml", c->profile, strlen(c->profile), &f.profile, &f.errors) < 0)
                        fail_msg("%s: the profile does not load", c->name);
                int r = plan_build(f.inv, f.profile, &f.plan, &f.errors);
                if (r != c->ret) {
                        profile_errors_print(stderr, &f.errors);
                        fail_msg("%s: plan_build() returned %d, expected %d", c->name, r, c->ret);
                }
                if (r < 0) {
                        char *buf = NULL;
                        size_t size = 0;
                        FILE *e = open_memstream(&buf, &size);
                        profile_errors_print(e, &f.errors);
                        fclose(e);
                        if (!strstr(buf, c->text))
                                fail_msg("%s: the errors lack \"%s\":\n%s", c->name, c->text, buf);
                        free(buf);
                } else {
                        _cleanup_free_ char *text = print_plan(f.plan, false), *json = print_plan(f.plan, true);
                        assert_int_equal(f.plan->wipe_reason, c->reason);
                        assert_int_equal(f.plan->wipe, c->reason != PLAN_WIPE_NONE);
                        if (!strstr(text, c->text))
                                fail_msg("%s: the plan lacks \"%s\":\n%s", c->name, c->text, text);
                        if (c->json && !strstr(json, c->json))
                                fail_msg("%s: the JSON plan lacks %s:\n%s", c->name, c->json, json);
                }
                fixture_done(&f);
        }
}

/* ---- on a disk image file ------------------------------------------------------- */

typedef struct Layout {
        HwDisk disk;
        HwNic nic;
        Inventory inv;
        ProfilePartition parts[2];
        Profile profile;
        Plan *plan;
} Layout;

static void layout_build(Layout *l, Firmware fw, PartitionTable table, uint64_t size) {
        ProfileErrors errors = {};
        int r;

        *l = (Layout) {
                .disk = { .name = (char *) "vda", .devnode = (char *) "/dev/vda", .size = size, .logical_sector_size = 512,
                          .physical_sector_size = 512, .transport = (char *) "virtio" },
                .nic = { .name = (char *) "eth0", .mac = (char *) "52:54:00:12:34:56" },
                .parts = {
                        { .size = { .unit = SIZE_BYTES, .value = 64 * MiB }, .fs = fw == FIRMWARE_UEFI ? FS_VFAT : FS_EXT4,
                          .mount = (char *) (fw == FIRMWARE_UEFI ? "/boot/efi" : "/boot") },
                        { .size = { .unit = SIZE_REST }, .fs = FS_EXT4, .mount = (char *) "/" },
                },
        };
        l->inv = (Inventory) { .firmware = fw, .disks = &l->disk, .n_disks = 1, .nics = &l->nic, .n_nics = 1 };
        l->profile = (Profile) {
                .filename = (char *) "test.yaml",
                .hostname = (char *) "test",
                .disk = { .select = { .rotational = -1 }, .table = table, .partitions = l->parts,
                          .n_partitions = fw == FIRMWARE_UEFI ? 1 : 2 },
        };
        if (fw == FIRMWARE_UEFI) /* the plan adds the ESP */
                l->parts[0] = l->parts[1];
        r = plan_build(&l->inv, &l->profile, &l->plan, &errors);
        if (r < 0)
                profile_errors_print(stderr, &errors);
        profile_errors_done(&errors);
        assert_int_equal(r, 0);
}

static void read_sector0(const char *image, uint8_t buf[512]) {
        int fd = open(image, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, buf, 512, 0), 512);
        close(fd);
}

/* What the inventory reads from the image (hw_disk_probe_signatures()). */
static void probe(const char *image, HwDisk *ret) {
        *ret = (HwDisk) { .name = strdup("vda") };
        assert_int_equal(hw_disk_probe_signatures(ret, image), 0);
}

/* A disk with an old install on it: a table, a filesystem, old boot code. */
static void old_install(const char *image, uint64_t size) {
        Layout old;
        char *err = NULL;
        uint8_t code[440];

        int fd = open(image, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, (off_t) size), 0);
        close(fd);
        layout_build(&old, FIRMWARE_BIOS, PARTITION_TABLE_MSDOS, size);
        assert_int_equal(disk_partition(old.plan, image, &err), 0);
        plan_free(old.plan);
        memset(code, 0xfa, sizeof code); /* "old boot code" */
        fd = open(image, O_RDWR | O_CLOEXEC);
        assert_int_equal(pwrite(fd, code, sizeof code, 0), (ssize_t) sizeof code);
        close(fd);
}

/* The whole sequence of apply on an image: mark, wipe, partition, finish. */
static void sequence(Firmware fw, PartitionTable table) {
        _cleanup_free_ char *image = strprintf("%s/disk-%s-%s.img", tmpdir, firmware_to_string(fw),
                                               partition_table_to_string(table));
        uint8_t s0[512], s1[512];
        char *err = NULL;
        HwDisk d;
        Layout l;

        old_install(image, GiB);
        layout_build(&l, fw, table, GiB);
        /* the inventory the plan saw: the old table's PTUUID */
        probe(image, &d);
        assert_non_null(d.ptuuid);
        l.disk.ptuuid = TAKE_PTR(d.ptuuid);
        hw_disk_free_contents(&d);

        /* mark: the old boot code goes at once, the table stays */
        read_sector0(image, s0);
        assert_int_equal(disk_mark_write(l.plan, image, &err), 0);
        read_sector0(image, s1);
        assert_memory_equal(s1 + 440, s0 + 440, 72);
        assert_memory_equal(s1, hw_install_mark_stub, HW_INSTALL_MARK_STUB_SIZE);
        probe(image, &d);
        assert_non_null(d.install_mark);
        assert_string_equal(d.install_mark->machine, "mac:52:54:00:12:34:56");
        assert_int_equal(d.install_mark->disk_size, GiB);
        assert_null(d.install_mark->table_id);
        assert_string_equal(d.install_mark->prior_table_id, l.disk.ptuuid);
        assert_string_equal(d.pttype, "dos");
        hw_disk_free_contents(&d);

        /* wipe: everything but the mark */
        assert_int_equal(disk_wipe(l.plan, image, &err), 0);
        read_sector0(image, s0);
        assert_memory_equal(s0, s1, 440);
        for (size_t i = 440; i < 512; i++)
                assert_int_equal(s0[i], 0);
        probe(image, &d);
        assert_non_null(d.install_mark);
        assert_false(hw_disk_has_data(&d));
        hw_disk_free_contents(&d);

        /* partition: libparted keeps the boot code area (the mark), which
         * then names the new table */
        assert_int_equal(disk_partition(l.plan, image, &err), 0);
        assert_null(err);
        probe(image, &d);
        assert_non_null(d.install_mark);
        assert_non_null(d.ptuuid);
        assert_string_equal(d.pttype, table == PARTITION_TABLE_GPT ? "gpt" : "dos");
        assert_string_equal(d.install_mark->table_id, d.ptuuid);
        /* and the plan made on this machine now recognises it */
        {
                Layout again = l;
                _cleanup_free_ char *why = NULL;
                again.disk = d;
                again.disk.size = GiB;
                again.inv.disks = &again.disk;
                assert_int_equal(plan_mark_verdict(&again.inv, &again.disk, true, &why), PLAN_MARK_OURS);
                assert_null(why);
        }
        hw_disk_free_contents(&d);
        read_sector0(image, s0);
        assert_int_equal(s0[510], 0x55);
        assert_int_equal(s0[511], 0xaa);

        /* finish: BIOS, the boot code replaces the mark; UEFI: zeros */
        read_sector0(image, s1);
        if (fw == FIRMWARE_UEFI)
                assert_int_equal(disk_mark_clear(l.plan, image, &err), 0);
        else {
                BootConfig c = { .table = table, .syslinux_dir = SYSLINUX };
                assert_int_equal(boot_write_mbr_code(&c, image, &err), 0);
        }
        assert_null(err);
        read_sector0(image, s0);
        assert_memory_equal(s0 + 440, s1 + 440, 72);
        if (fw == FIRMWARE_UEFI)
                for (size_t i = 0; i < 440; i++)
                        assert_int_equal(s0[i], 0);
        else {
                _cleanup_free_ char *code = NULL;
                size_t n = 0;
                assert_int_equal(read_full_file(table == PARTITION_TABLE_GPT ? SYSLINUX "/mbr/gptmbr.bin" :
                                                SYSLINUX "/mbr/mbr.bin", &code, &n), 0);
                assert_true(n <= 440);
                assert_memory_equal(s0, code, n);
                for (size_t i = n; i < 440; i++)
                        assert_int_equal(s0[i], 0);
        }
        probe(image, &d);
        assert_null(d.install_mark);
        assert_string_equal(d.pttype, table == PARTITION_TABLE_GPT ? "gpt" : "dos");
        hw_disk_free_contents(&d);
        plan_free(l.plan);
        free(l.disk.ptuuid);
        unlink(image);
}

static void test_image_bios_gpt(void **state) {
        sequence(FIRMWARE_BIOS, PARTITION_TABLE_GPT);
}

static void test_image_bios_msdos(void **state) {
        sequence(FIRMWARE_BIOS, PARTITION_TABLE_MSDOS);
}

static void test_image_uefi_gpt(void **state) {
        sequence(FIRMWARE_UEFI, PARTITION_TABLE_GPT);
}

/* The boot code is written as a whole sector: a short file is zero padded,
 * so nothing of the mark survives it. */
static void test_short_boot_code(void **state) {
        _cleanup_free_ char *image = strprintf("%s/short.img", tmpdir), *dir = strprintf("%s/syslinux", tmpdir),
                            *mbr = strprintf("%s/syslinux/mbr/gptmbr.bin", tmpdir), *sub = strprintf("%s/mbr", dir);
        HwInstallMark m = { .machine = (char *) "mac:52:54:00:12:34:56", .disk_size = MiB };
        uint8_t s[512];
        char *err = NULL;

        int fd = open(image, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, (off_t) MiB), 0);
        assert_int_equal(disk_mark_write_fd(fd, &m), 0);
        close(fd);
        assert_int_equal(mkdir_p(sub, 0755), 0);
        assert_int_equal(write_file_atomic(mbr, "SHORT", 5, 0644), 0);
        BootConfig c = { .table = PARTITION_TABLE_GPT, .syslinux_dir = dir };
        assert_int_equal(boot_write_mbr_code(&c, image, &err), 0);
        read_sector0(image, s);
        assert_memory_equal(s, "SHORT", 5);
        for (size_t i = 5; i < 512; i++)
                assert_int_equal(s[i], 0);
}

/* A reinstall (disk_wipe_replaced(): the table stays) keeps the mark too,
 * while the active flags go. */
static void test_reinstall_keeps_mark(void **state) {
        _cleanup_free_ char *image = strprintf("%s/reinstall.img", tmpdir);
        HwInstallMark m = { .machine = (char *) "mac:52:54:00:12:34:56", .disk_size = 256 * MiB };
        _cleanup_(hw_install_mark_freep) HwInstallMark *back = NULL;
        uint8_t s[512];
        char *err = NULL;
        Layout l;

        old_install(image, 256 * MiB);
        layout_build(&l, FIRMWARE_BIOS, PARTITION_TABLE_MSDOS, 256 * MiB);
        int fd = open(image, O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(disk_mark_write_fd(fd, &m), 0);
        assert_int_equal(disk_make_unbootable(fd, 256 * MiB, image, &err), 0);
        assert_int_equal(disk_mark_read_fd(fd, &back), 1);
        assert_string_equal(back->machine, m.machine);
        close(fd);
        read_sector0(image, s);
        for (unsigned i = 0; i < 4; i++)
                assert_int_equal(s[446 + 16 * i], 0);
        plan_free(l.plan);
}

/* ---- on a loop device (root; skipped otherwise) -------------------------------- */

extern char **environ;

/* /sbin/losetup ARGS..., stdout into *ret_out (trimmed) when non-NULL. */
static int losetup(char **ret_out, const char *a1, const char *a2, const char *a3, const char *a4) {
        const char *argv[] = { "/sbin/losetup", a1, a2, a3, a4, NULL };
        posix_spawn_file_actions_t fa;
        int pipefd[2], status;
        char buf[256] = {};
        ssize_t n = 0;
        pid_t pid;

        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
        assert_int_equal(posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO), 0);
        if (posix_spawn(&pid, argv[0], &fa, NULL, (char *const *) argv, environ) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                close(pipefd[0]);
                close(pipefd[1]);
                return -1;
        }
        posix_spawn_file_actions_destroy(&fa);
        close(pipefd[1]);
        n = read(pipefd[0], buf, sizeof buf - 1);
        close(pipefd[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (ret_out)
                *ret_out = n > 0 ? strdup(strstrip(buf)) : NULL;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

typedef struct LoopState {
        char *image, *loop;
} LoopState;

static int loop_setup(void **state) {
        *state = calloc(1, sizeof(LoopState));
        return *state ? 0 : -1;
}

static int loop_teardown(void **state) {
        LoopState *s = *state;
        if (s->loop)
                (void) losetup(NULL, "-d", s->loop, NULL, NULL);
        if (s->image)
                unlink(s->image);
        free(s->image);
        free(s->loop);
        free(s);
        return 0;
}

/* The block device path: opened exclusively, verified as the planned disk
 * (a disk with another serial: refused, nothing written), the kernel told
 * about the new table, and the same mark from start to finish. */
static void test_loop_sequence(void **state) {
        LoopState *s = *state;
        uint8_t before[512], after[512];
        HwDisk real = {}, d;
        char *err = NULL;
        Layout l;

        if (geteuid() != 0)
                skip();
        s->image = strprintf("%s/loop.img", tmpdir);
        old_install(s->image, 256 * MiB);
        if (losetup(&s->loop, "-P", "--find", "--show", s->image) != 0 || !s->loop)
                skip();
        layout_build(&l, FIRMWARE_BIOS, PARTITION_TABLE_GPT, 256 * MiB);
        const char *name = strrchr(s->loop, '/') + 1;
        assert_int_equal(hw_disk_identify(NULL, name, &real), 0);
        l.disk.major = real.major;
        l.disk.minor = real.minor;

        read_sector0(s->loop, before);
        l.disk.serial = (char *) "PLANNED-0001";
        assert_int_equal(disk_mark_write(l.plan, s->loop, &err), -ESTALE);
        assert_non_null(strstr(err, "serial: planned \"PLANNED-0001\", found none"));
        free(err);
        err = NULL;
        read_sector0(s->loop, after);
        assert_memory_equal(before, after, 512);
        l.disk.serial = NULL;

        assert_int_equal(disk_mark_write(l.plan, s->loop, &err), 0);
        assert_int_equal(disk_wipe(l.plan, s->loop, &err), 0);
        assert_int_equal(disk_partition(l.plan, s->loop, &err), 0);
        assert_null(err);
        assert_int_equal(disk_wait_partitions(s->loop, 3, 10000), 0);
        d = (HwDisk) { .name = strdup(name) };
        assert_int_equal(hw_disk_probe_signatures(&d, s->loop), 0);
        assert_non_null(d.install_mark);
        assert_non_null(d.ptuuid);
        assert_string_equal(d.install_mark->table_id, d.ptuuid);
        assert_string_equal(d.install_mark->machine, "mac:52:54:00:12:34:56");
        hw_disk_free_contents(&d);

        BootConfig c = { .table = PARTITION_TABLE_GPT, .syslinux_dir = SYSLINUX };
        assert_int_equal(boot_write_mbr_code(&c, s->loop, &err), 0);
        d = (HwDisk) { .name = strdup(name) };
        assert_int_equal(hw_disk_probe_signatures(&d, s->loop), 0);
        assert_null(d.install_mark);
        assert_string_equal(d.pttype, "gpt");
        hw_disk_free_contents(&d);
        hw_disk_free_contents(&real);
        plan_free(l.plan);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_encode_decode),
                cmocka_unit_test(test_corrupt_mark_ignored),
                cmocka_unit_test(test_machine_id),
                cmocka_unit_test(test_inventory_json),
                cmocka_unit_test(test_plan_decision),
                cmocka_unit_test(test_image_bios_gpt),
                cmocka_unit_test(test_image_bios_msdos),
                cmocka_unit_test(test_image_uefi_gpt),
                cmocka_unit_test(test_short_boot_code),
                cmocka_unit_test(test_reinstall_keeps_mark),
                cmocka_unit_test_setup_teardown(test_loop_sequence, loop_setup, loop_teardown),
        };
        return cmocka_run_group_tests(tests, tmpdir_group_setup, tmpdir_group_teardown);
}
