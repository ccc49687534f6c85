/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hardware inventory against recorded machines (tests/data/sysroot/, made by
 * tests/data/capture.sh from QEMU machines whose configuration is known):
 * every assertion here is a fact of that QEMU command line, not a copy of
 * the installer's own output. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strutil.h"
#include "hw/hw.h"
#include "install/install.h"

static Inventory *detect(const char *name) {
        _cleanup_free_ char *root = strprintf("tests/data/sysroot/%s", name);
        Inventory *inv = NULL;
        assert_int_equal(hw_inventory_detect(root, 0, &inv), 0);
        return inv;
}

static const HwDisk *disk(const Inventory *inv, const char *name) {
        for (size_t i = 0; i < inv->n_disks; i++)
                if (streq(inv->disks[i].name, name))
                        return &inv->disks[i];
        fail_msg("no disk %s", name);
        return NULL;
}

static void test_nvme_sata_usb(void **state) {
        Inventory *inv = detect("nvme-sata-usb");
        const HwDisk *d;

        assert_int_equal(inv->firmware, FIRMWARE_BIOS);
        assert_int_equal(inv->cpus, 2);
        assert_true(inv->memory > 900 * MiB && inv->memory <= 1024 * MiB); /* -m 1024 */
        assert_string_equal(inv->dmi.sys_vendor, "QEMU");
        assert_string_equal(inv->dmi.product_uuid, "3f2c6a52-9b1e-4d6c-8a0f-5e4d3c2b1a09");
        assert_string_equal(inv->dmi.product_serial, "SRV-0001");
        assert_int_equal(inv->n_disks, 3);

        d = disk(inv, "nvme0n1");
        assert_int_equal(d->size, 16 * GiB);
        assert_string_equal(d->transport, "nvme");
        assert_string_equal(d->serial, "NVME0001");

        d = disk(inv, "sda");
        assert_int_equal(d->size, 32 * GiB);
        assert_string_equal(d->transport, "sata");
        assert_string_equal(d->serial, "SATA0001");
        assert_string_equal(d->model, "QEMU HARDDISK");
        /* the old GPT: 1 GiB + 2 GiB from sector 2048 */
        assert_int_equal(d->n_partitions, 2);
        assert_int_equal(d->partitions[0].number, 1);
        assert_int_equal(d->partitions[0].start, 1 * MiB);
        assert_int_equal(d->partitions[0].size, 1 * GiB);
        assert_int_equal(d->partitions[1].size, 2 * GiB);
        assert_true(hw_disk_has_data(d));

        d = disk(inv, "sdb");
        assert_int_equal(d->size, 4 * GiB);
        assert_string_equal(d->transport, "usb");

        assert_int_equal(inv->n_nics, 1);
        assert_string_equal(inv->nics[0].mac, "52:54:00:12:34:56");
        assert_string_equal(inv->nics[0].driver, "virtio_net");
        assert_true(inv->nics[0].carrier);
        hw_inventory_free(inv);
}

static void test_two_identical(void **state) {
        Inventory *inv = detect("two-identical");
        assert_int_equal(inv->n_disks, 2);
        assert_string_equal(disk(inv, "vda")->serial, "TWIN-A");
        assert_string_equal(disk(inv, "vdb")->serial, "TWIN-B");
        assert_int_equal(disk(inv, "vda")->size, disk(inv, "vdb")->size);
        assert_string_equal(disk(inv, "vdb")->transport, "virtio");
        assert_false(hw_disk_has_data(disk(inv, "vda")));
        hw_inventory_free(inv);
}

static void test_four_nics_uefi(void **state) {
        Inventory *inv = detect("four-nics-uefi");
        static const struct {
                const char *mac, *driver;
        } want[] = {
                { "52:54:00:00:00:01", "virtio_net" },
                { "52:54:00:00:00:02", "e1000" },
                { "52:54:00:00:00:03", "e1000e" },
                { "52:54:00:00:00:04", "e1000" },
        };

        assert_int_equal(inv->firmware, FIRMWARE_UEFI);
        assert_int_equal(inv->n_nics, 4);
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                const HwNic *n = hw_inventory_find_nic(inv, want[i].mac);
                assert_non_null(n);
                assert_string_equal(n->driver, want[i].driver);
        }
        assert_null(hw_inventory_find_nic(inv, "52:54:00:00:00:05"));
        assert_int_equal(disk(inv, "vda")->size, 10 * GiB);
        hw_inventory_free(inv);
}

static bool has_id(const HwDisk *d, const char *id) {
        return strv_contains(d->by_id, id);
}

/* udev's names, computed from sysfs. Facts of the QEMU command lines in
 * tests/data/capture.sh: serials, models, WWNs, the controller port, the
 * order of the PCI devices. */
static void test_names_nvme_sata_usb(void **state) {
        Inventory *inv = detect("nvme-sata-usb");
        const HwDisk *d;

        d = disk(inv, "nvme0n1"); /* -device nvme,serial=NVME0001: QEMU's model is "QEMU NVMe Ctrl" */
        assert_true(has_id(d, "nvme-QEMU_NVMe_Ctrl_NVME0001"));
        assert_true(has_id(d, "nvme-QEMU_NVMe_Ctrl_NVME0001_1")); /* namespace 1 */
        assert_true(has_id(d, "nvme-nvme.1b36-4e564d4530303031-51454d55204e564d65204374726c-00000001"));
        assert_string_equal(d->by_path, "pci-0000:00:04.0-nvme-1");
        assert_null(d->wwn); /* NVMe namespaces have none */

        d = disk(inv, "sda"); /* the first port of pxeboot.sh's own AHCI controller */
        assert_true(has_id(d, "ata-QEMU_HARDDISK_SATA0001"));
        assert_int_equal(strv_length(d->by_id), 1); /* no wwn= on the command line */
        assert_string_equal(d->by_path, "pci-0000:00:05.0-ata-1.0");
        assert_true(hw_disk_has_path(d, "/dev/disk/by-path/pci-0000:00:05.0-ata-1"));
        assert_false(hw_disk_has_path(d, "/dev/disk/by-path/pci-0000:00:05.0-ata-1.1"));
        assert_false(hw_disk_has_path(d, "/dev/disk/by-path/pci-0000:00:05.0-ata-10"));

        d = disk(inv, "sdb"); /* usb-storage,serial=USB0001 on the xHCI controller's first port */
        assert_string_equal(d->serial, "USB0001");
        assert_true(has_id(d, "usb-QEMU_QEMU_HARDDISK_USB0001-0:0"));
        assert_string_equal(d->by_path, "pci-0000:00:06.0-usb-0:1:1.0-scsi-0:0:0:0");

        for (size_t i = 0; i < inv->n_disks; i++)
                assert_false(inv->disks[i].boot_medium); /* the installer runs from its initramfs */
        hw_inventory_free(inv);
}

static void test_names_two_identical(void **state) {
        Inventory *inv = detect("two-identical");
        const HwDisk *a = disk(inv, "vda"), *b = disk(inv, "vdb");

        assert_true(has_id(a, "virtio-TWIN-A"));
        assert_true(has_id(b, "virtio-TWIN-B"));
        assert_string_equal(a->by_path, "pci-0000:00:04.0");
        assert_string_equal(b->by_path, "pci-0000:00:05.0");
        assert_true(hw_disk_has_path(a, "/dev/vda"));
        assert_true(hw_disk_has_path(a, "/dev/disk/by-id/virtio-TWIN-A"));
        assert_true(hw_disk_has_path(b, "/dev/disk/by-path/pci-0000:00:05.0"));
        assert_true(hw_disk_has_path(b, "/dev/disk/by-path/virtio-pci-0000:00:05.0"));
        assert_false(hw_disk_has_path(a, "/dev/disk/by-id/virtio-TWIN-B"));
        assert_false(hw_disk_has_path(a, "/dev/disk/by-id/virtio-TWIN-A-part1"));
        assert_false(hw_disk_has_path(a, "/dev/vdb"));
        assert_false(hw_disk_has_path(a, "/dev/disk/by-uuid/virtio-TWIN-A"));
        hw_inventory_free(inv);
}

static void test_names_mixed_ssd_hdd(void **state) {
        Inventory *inv = detect("mixed-ssd-hdd");
        static const struct {
                const char *name, *model, *serial, *wwn, *by_path;
                uint64_t size;
                bool rotational;
        } want[] = {
                /* ide-hd on the chipset's AHCI (00:1f.2) ports 0, 2 and 4;
                 * rotation_rate=1 is an SSD, 0 reports nothing (rotational) */
                { "sda", "WDC WD640AAKS-00A7B0", "WD-WCAS00000064", "0x50014ee000000064", "pci-0000:00:1f.2-ata-1.0",
                  64 * GiB, true },
                { "sdb", "Samsung SSD 870 EVO 16GB", "S5Y1NJ0R100016", "0x5002538e00000016",
                  "pci-0000:00:1f.2-ata-3.0", 16 * GiB, false },
                { "sdc", "Samsung SSD 870 EVO 32GB", "S5Y1NJ0R100032", "0x5002538e00000032",
                  "pci-0000:00:1f.2-ata-5.0", 32 * GiB, false },
        };

        assert_int_equal(inv->n_disks, 4);
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                const HwDisk *d = disk(inv, want[i].name);
                _cleanup_free_ char *ata = strprintf("ata-%s_%s", want[i].model, want[i].serial);
                _cleanup_free_ char *wwn = strprintf("wwn-%s", want[i].wwn);

                /* The whole model from the IDENTIFY data, not sysfs' 16 characters. */
                assert_string_equal(d->model, want[i].model);
                assert_string_equal(d->vendor, "ATA");
                assert_string_equal(d->serial, want[i].serial);
                assert_string_equal(d->wwn, want[i].wwn);
                assert_string_equal(d->by_path, want[i].by_path);
                assert_int_equal(d->size, want[i].size);
                assert_int_equal(d->rotational, want[i].rotational);
                assert_string_equal(d->transport, "sata");
                for (char *c = ata; *c; c++)
                        if (*c == ' ')
                                *c = '_';
                assert_true(has_id(d, ata));
                assert_true(has_id(d, wwn));
        }
        assert_int_equal(disk(inv, "nvme0n1")->size, 8 * GiB);
        assert_true(has_id(disk(inv, "nvme0n1"), "nvme-QEMU_NVMe_Ctrl_NVME-MIX-01"));
        hw_inventory_free(inv);
}

/* The installed Debian 12 system, recorded with the names its udev made
 * (debian12-udev.udev): every one of them names the same disk for us, and
 * we make no name udev did not. */
static void test_names_like_udev(void **state) {
        Inventory *inv = detect("debian12-udev");
        _cleanup_free_ char *data = NULL, *all = NULL;
        size_t n_links = 0, n_ours = 0;
        char *save = NULL;

        assert_int_equal(read_full_file("tests/data/sysroot/debian12-udev.udev", &data, NULL), 0);
        all = strprintf("\n%s", data); /* every line between newlines, for strstr() */
        assert_non_null(all);
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char kind[16], name[256], dev[32];
                _cleanup_free_ char *path = NULL;

                assert_int_equal(sscanf(line, "%15s %255s %31s", kind, name, dev), 3);
                path = strprintf("/dev/disk/%s/%s", kind, name);
                for (size_t i = 0; i < inv->n_disks; i++)
                        if (hw_disk_has_path(&inv->disks[i], path) != streq(inv->disks[i].name, dev))
                                fail_msg("%s: %s, but udev links it to %s", path,
                                         streq(inv->disks[i].name, dev) ? "not ours" : inv->disks[i].name, dev);
                n_links++;
        }
        for (size_t i = 0; i < inv->n_disks; i++) {
                const HwDisk *d = &inv->disks[i];
                for (size_t k = 0; d->by_id && d->by_id[k]; k++) {
                        _cleanup_free_ char *l = strprintf("\nby-id %s %s\n", d->by_id[k], d->name);
                        if (!strstr(all, l))
                                fail_msg("udev made no by-id link %s for %s", d->by_id[k], d->name);
                        n_ours++;
                }
                if (d->by_path) {
                        _cleanup_free_ char *l = strprintf("\nby-path %s %s\n", d->by_path, d->name);
                        if (!strstr(all, l))
                                fail_msg("udev made no by-path link %s for %s", d->by_path, d->name);
                        n_ours++;
                }
        }
        /* 20 by-id and 16 by-path links, of which 5 are the older by-path
         * forms (ATA "-ata-N", "virtio-pci-") that we match without listing. */
        assert_int_equal(n_links, 36);
        assert_int_equal(n_ours, 36 - 5);

        assert_int_equal(inv->n_disks, 11);
        assert_true(disk(inv, "vda")->boot_medium); /* vda3 is mounted as / */
        for (size_t i = 0; i < inv->n_disks; i++) {
                const HwDisk *d = &inv->disks[i];
                assert_int_equal(d->boot_medium, streq(d->name, "vda"));
                /* nvme2c2n1 is one path to the multipath namespace nvme2n1 */
                assert_false(strstr(d->name, "c2n"));
                if (strv_contains(d->by_id, "ata-WDC_WD6400AAKS-00A7B0_Long_Name_HDD-0001"))
                        assert_string_equal(d->model, "WDC WD6400AAKS-00A7B0 Long Name");
                if (strv_contains(d->by_id, "scsi-35000c500deadbeef"))
                        assert_string_equal(d->wwn, "0x5000c500deadbeef"); /* scsi-hd,wwn= */
                if (strv_contains(d->by_id, "usb-QEMU_QEMU_HARDDISK_USB-0001-0:0")) {
                        assert_string_equal(d->transport, "usb");
                        assert_int_equal(d->size, 128 * GiB);
                }
        }
        assert_string_equal(disk(inv, "nvme2n1")->by_path, "pci-0000:00:0b.0-nvme-1");
        hw_inventory_free(inv);
}

/* A small machine written by the test: sda holds the root filesystem
 * through device-mapper (dm-0 on sda2), sdb is only mounted when asked. */
static void put(const char *root, const char *rel, const char *content) {
        _cleanup_free_ char *p = strprintf("%s/%s", root, rel), *dir = NULL;

        assert_non_null(p);
        dir = strndup(p, (size_t) (strrchr(p, '/') - p));
        assert_int_equal(mkdir_p(dir, 0755), 0);
        if (content)
                assert_int_equal(write_file_atomic(p, content, strlen(content), 0644), 0);
}

static void link_at(const char *root, const char *rel, const char *target) {
        _cleanup_free_ char *p = strprintf("%s/%s", root, rel);
        put(root, rel, NULL);
        assert_int_equal(symlink(target, p), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void test_boot_medium(void **state) {
        char root[] = "/tmp/test-hw-root-XXXXXX";
        const char *sda = "sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda";
        const char *sdb = "sys/devices/pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0/block/sdb";
        Inventory *inv = NULL;
        char p[512];

        assert_non_null(mkdtemp(root));
        snprintf(p, sizeof p, "%s/dev", sda), put(root, p, "8:0\n");
        snprintf(p, sizeof p, "%s/size", sda), put(root, p, "16777216\n");
        for (int i = 1; i <= 2; i++) {
                char v[16];
                snprintf(p, sizeof p, "%s/sda%d/partition", sda, i), snprintf(v, sizeof v, "%d\n", i), put(root, p, v);
                snprintf(p, sizeof p, "%s/sda%d/dev", sda, i), snprintf(v, sizeof v, "8:%d\n", i), put(root, p, v);
                snprintf(p, sizeof p, "%s/sda%d/size", sda, i), put(root, p, "2048\n");
        }
        snprintf(p, sizeof p, "%s/sda2/holders/dm-0/.keep", sda), put(root, p, "");
        snprintf(p, sizeof p, "%s/dev", sdb), put(root, p, "8:16\n");
        snprintf(p, sizeof p, "%s/size", sdb), put(root, p, "16777216\n");
        put(root, "sys/devices/virtual/block/dm-0/dev", "254:0\n");
        link_at(root, "sys/block/sda", "../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda");
        link_at(root, "sys/block/sdb", "../devices/pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0/block/sdb");
        link_at(root, "sys/block/dm-0", "../devices/virtual/block/dm-0");
        put(root, "proc/self/mountinfo",
            "22 27 0:20 / /sys rw,nosuid - sysfs sysfs rw\n"
            "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/mapper/vg-root rw\n");

        assert_int_equal(hw_inventory_detect(root, 0, &inv), 0);
        assert_int_equal(inv->n_disks, 2); /* dm-0 is not a disk */
        assert_true(disk(inv, "sda")->boot_medium);
        assert_false(disk(inv, "sdb")->boot_medium);
        hw_inventory_free(inv);

        /* A stick mounted as a whole (no partition table). */
        put(root, "proc/self/mountinfo", "31 27 8:16 / /run/installer rw - vfat /dev/sdb rw\n");
        assert_int_equal(hw_inventory_detect(root, 0, &inv), 0);
        assert_false(disk(inv, "sda")->boot_medium);
        assert_true(disk(inv, "sdb")->boot_medium);
        hw_inventory_free(inv);

        /* The installer medium (make usb): an isohybrid ISO 9660 mounted
         * read-only from the whole disk, or from its first partition. */
        put(root, "proc/self/mountinfo", "40 27 8:16 / /run/install/medium ro,relatime - iso9660 /dev/sdb ro\n");
        assert_int_equal(hw_inventory_detect(root, 0, &inv), 0);
        assert_false(disk(inv, "sda")->boot_medium);
        assert_true(disk(inv, "sdb")->boot_medium);
        hw_inventory_free(inv);
        put(root, "proc/self/mountinfo", "40 27 8:1 / /run/install/medium ro,relatime - iso9660 /dev/sda1 ro\n");
        assert_int_equal(hw_inventory_detect(root, 0, &inv), 0);
        assert_true(disk(inv, "sda")->boot_medium);
        assert_false(disk(inv, "sdb")->boot_medium);
        hw_inventory_free(inv);

        /* No mountinfo: nothing is known to be mounted. */
        snprintf(p, sizeof p, "%s/proc/self/mountinfo", root);
        assert_int_equal(unlink(p), 0);
        assert_int_equal(hw_inventory_detect(root, 0, &inv), 0);
        assert_false(disk(inv, "sdb")->boot_medium);
        hw_inventory_free(inv);

        assert_int_equal(nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void test_json_round_trip_names(void **state) {
        Inventory *inv = detect("debian12-udev"), *back = NULL;
        char path[] = "/tmp/test-hw-XXXXXX";
        int fd = mkstemp(path);
        FILE *f = fdopen(fd, "w");
        char *err = NULL;

        hw_inventory_to_json(inv, f);
        fclose(f);
        assert_int_equal(hw_inventory_load_json(path, &back, &err), 0);
        assert_int_equal(back->n_disks, inv->n_disks);
        for (size_t i = 0; i < inv->n_disks; i++) {
                const HwDisk *a = &inv->disks[i], *b = &back->disks[i];
                assert_int_equal(strv_length(a->by_id), strv_length(b->by_id));
                for (size_t k = 0; a->by_id && a->by_id[k]; k++)
                        assert_string_equal(a->by_id[k], b->by_id[k]);
                assert_true(streq_ptr(a->by_path, b->by_path));
                assert_true(streq_ptr(a->wwn, b->wwn));
                assert_true(streq_ptr(a->wwid, b->wwid));
                assert_int_equal(a->boot_medium, b->boot_medium);
        }
        unlink(path);
        hw_inventory_free(inv);
        hw_inventory_free(back);
}

static void test_json_round_trip(void **state) {
        Inventory *inv = detect("nvme-sata-usb"), *back = NULL;
        char path[] = "/tmp/test-hw-XXXXXX";
        int fd = mkstemp(path);
        FILE *f = fdopen(fd, "w");
        char *err = NULL;

        hw_inventory_to_json(inv, f);
        fclose(f);
        assert_int_equal(hw_inventory_load_json(path, &back, &err), 0);
        assert_int_equal(back->n_disks, inv->n_disks);
        assert_int_equal(back->n_nics, inv->n_nics);
        assert_int_equal(back->firmware, inv->firmware);
        assert_int_equal(back->disks[1].size, inv->disks[1].size);
        assert_string_equal(back->disks[1].serial, inv->disks[1].serial);
        assert_int_equal(back->disks[1].n_partitions, 2);
        assert_string_equal(back->dmi.product_uuid, inv->dmi.product_uuid);
        unlink(path);
        hw_inventory_free(inv);
        hw_inventory_free(back);
}

static void test_missing_sysroot(void **state) {
        Inventory *inv = NULL;
        /* An empty machine is not an error: nothing found. */
        assert_int_equal(hw_inventory_detect("/nonexistent-sysroot", 0, &inv), 0);
        assert_int_equal(inv->n_disks, 0);
        assert_int_equal(inv->n_nics, 0);
        hw_inventory_free(inv);
}


/* ---- placeholder DMI values: one list (hw.h), table-driven ------------------------ */

static void test_dmi_serial_placeholders(void **state) {
        static const struct {
                const char *serial;
                bool placeholder;
        } cases[] = {
                { NULL, true },
                { "", true },
                { "   ", true },
                { "To Be Filled By O.E.M.", true },
                { "To be filled by O.E.M.", true },
                { "  TO BE FILLED BY O.E.M.  ", true },
                { "To Be Filled By O.E.M", true },
                { "Default string", true },
                { "default string", true },
                { "0123456789", true },
                { "123456789", true },
                { "1234567890", true },
                { "System Serial Number", true },
                { "Chassis Serial Number", true },
                { "Base Board Serial Number", true },
                { "Not Specified", true },
                { "Not Applicable", true },
                { "None", true },
                { "N/A", true },
                { "OEM", true },
                { "O.E.M.", true },
                { "Unknown", true },
                { "0", true },
                { "00000000", true },
                { "000000000000000000000000", true },
                { "FFFFFFFF", true },
                { "xxxxxxxxxx", true },
                { "--------", true },
                /* real serial numbers */
                { "SRV-0001", false },
                { "CZ2D4N0MKT", false },
                { "PF2ABCDE", false },
                { "1234567891", false },
                { "0000000001", false },
                { "OEM-42", false },
                { "Default string 2", false },
                { "F00F", false },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (hw_dmi_serial_is_placeholder(cases[i].serial) != cases[i].placeholder)
                        fail_msg("\"%s\": expected %s", cases[i].serial ?: "(null)",
                                 cases[i].placeholder ? "a placeholder" : "a serial number");
}

static void test_dmi_uuid_placeholders(void **state) {
        assert_true(hw_dmi_uuid_is_placeholder(NULL));
        assert_true(hw_dmi_uuid_is_placeholder(""));
        assert_true(hw_dmi_uuid_is_placeholder("00000000-0000-0000-0000-000000000000"));
        assert_true(hw_dmi_uuid_is_placeholder("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"));
        assert_true(hw_dmi_uuid_is_placeholder("ffffffff-ffff-ffff-ffff-ffffffffffff"));
        assert_true(hw_dmi_uuid_is_placeholder("03000200-0400-0500-0006-000700080009"));
        assert_false(hw_dmi_uuid_is_placeholder("03000200-0400-0500-0006-00070008000a"));
        assert_false(hw_dmi_uuid_is_placeholder("3f2c6a52-9b1e-4d6c-8a0f-5e4d3c2b1a09"));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

/* A machine whose vendor left "To Be Filled By O.E.M." in the serial: the
 * inventory has no serial (so neither the serial/ lookup nor match.serial
 * sees one). A copy of a recorded machine with that one file changed. */
static void test_dmi_placeholder_dropped(void **state) {
        char t[] = "/tmp/test-hw-XXXXXX";
        _cleanup_free_ char *cmd = NULL;
        Inventory *inv = NULL;

        assert_non_null(mkdtemp(t));
        cmd = strprintf("cp -a tests/data/sysroot/nvme-sata-usb/. %s/ && "
                        "printf 'To Be Filled By O.E.M.\\n' > %s/sys/class/dmi/id/product_serial", t, t);
        assert_non_null(cmd);
        if (system(cmd) != 0) {
                (void) nftw(t, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
                skip();
        }
        assert_int_equal(hw_inventory_detect(t, 0, &inv), 0);
        assert_null(inv->dmi.product_serial);
        assert_string_equal(inv->dmi.product_uuid, "3f2c6a52-9b1e-4d6c-8a0f-5e4d3c2b1a09");
        hw_inventory_free(inv);
        (void) nftw(t, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* One disk by its kernel name, as the identity check reads it again. */
static void test_disk_identify(void **state) {
        Inventory *inv = detect("nvme-sata-usb");
        const HwDisk *d = disk(inv, "sda");
        HwDisk one = {};

        assert_int_equal(d->major, 8);
        assert_int_equal(d->minor, 0);
        assert_int_equal(hw_disk_identify("tests/data/sysroot/nvme-sata-usb", "sda", &one), 0);
        assert_int_equal(one.major, 8);
        assert_int_equal(one.minor, 0);
        assert_int_equal(one.size, d->size);
        assert_string_equal(one.serial, "SATA0001");
        assert_string_equal(one.serial, d->serial);
        assert_true(streq_ptr(one.wwn, d->wwn));
        assert_true(streq_ptr(one.by_path, d->by_path));
        hw_disk_free_contents(&one);
        assert_int_equal(hw_disk_identify("tests/data/sysroot/nvme-sata-usb", "sdz", &one), -ENOENT);
        assert_int_equal(hw_disk_identify("tests/data/sysroot/nvme-sata-usb", "../sda", &one), -EINVAL);
        hw_inventory_free(inv);
}


/* The serial/ profile lookup never uses a placeholder, whether it comes from
 * the kernel command line (iPXE's ${serial}) or from the inventory. */
static void test_lookup_skips_placeholder_serial(void **state) {
        static const char *const cmdlines[] = {
                "inst.profiles=http://h/ inst.serial=To%20Be%20Filled%20By%20O.E.M.",
                "inst.profiles=http://h/ inst.serial=Default%20string",
                "inst.profiles=http://h/ inst.serial=0123456789",
                "inst.profiles=http://h/ inst.serial=System%20Serial%20Number",
                "inst.profiles=http://h/ inst.serial=N/A",
                "inst.profiles=http://h/ inst.serial=00000000",
        };
        for (size_t i = 0; i < ELEMENTSOF(cmdlines); i++) {
                BootParams bp;
                char **urls = NULL;
                assert_int_equal(cmdline_parse(cmdlines[i], &bp, NULL), 0);
                assert_int_equal(install_profile_candidates(&bp, NULL, &urls), 0);
                if (strv_length(urls) != 1)
                        fail_msg("%s: %s is a candidate", cmdlines[i], urls[0]);
                assert_string_equal(urls[0], "http://h/default.yaml");
                strv_free(urls);
                cmdline_done(&bp);
        }

        /* From the inventory (one loaded from JSON keeps what it had). */
        Inventory inv = { .dmi = { .product_serial = (char *) "Chassis Serial Number" } };
        BootParams bp;
        char **urls = NULL;
        assert_int_equal(cmdline_parse("inst.profiles=http://h/", &bp, NULL), 0);
        assert_int_equal(install_profile_candidates(&bp, &inv, &urls), 0);
        assert_int_equal(strv_length(urls), 1);
        strv_free(urls);
        urls = NULL;
        inv.dmi.product_serial = (char *) "SRV-0001";
        assert_int_equal(install_profile_candidates(&bp, &inv, &urls), 0);
        assert_int_equal(strv_length(urls), 2);
        assert_string_equal(urls[0], "http://h/serial/SRV-0001.yaml");
        strv_free(urls);
        cmdline_done(&bp);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nvme_sata_usb),
                cmocka_unit_test(test_two_identical),
                cmocka_unit_test(test_four_nics_uefi),
                cmocka_unit_test(test_names_nvme_sata_usb),
                cmocka_unit_test(test_names_two_identical),
                cmocka_unit_test(test_names_mixed_ssd_hdd),
                cmocka_unit_test(test_names_like_udev),
                cmocka_unit_test(test_boot_medium),
                cmocka_unit_test(test_json_round_trip),
                cmocka_unit_test(test_json_round_trip_names),
                cmocka_unit_test(test_missing_sysroot),
                cmocka_unit_test(test_dmi_serial_placeholders),
                cmocka_unit_test(test_dmi_uuid_placeholders),
                cmocka_unit_test(test_dmi_placeholder_dropped),
                cmocka_unit_test(test_disk_identify),
                cmocka_unit_test(test_lookup_skips_placeholder_serial),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
