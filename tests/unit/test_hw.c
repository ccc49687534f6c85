/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hardware inventory against recorded machines (tests/data/sysroot/, made by
 * tests/data/capture.sh from QEMU machines whose configuration is known):
 * every assertion here is a fact of that QEMU command line, not a copy of
 * the installer's own output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "basic/strutil.h"
#include "hw/hw.h"

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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nvme_sata_usb),
                cmocka_unit_test(test_two_identical),
                cmocka_unit_test(test_four_nics_uefi),
                cmocka_unit_test(test_json_round_trip),
                cmocka_unit_test(test_missing_sysroot),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
