/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Finding the installer medium by label or UUID (medium_find) in a made-up
 * /sys/class/block whose "devices" are regular files holding (the start of)
 * an ISO 9660 file system, probed by libblkid as the real ones are. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strutil.h"
#include "medium/medium.h"

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

/* 64 KiB with an ISO 9660 primary volume descriptor (volume id = label) and
 * the set terminator; label NULL: all zeros (no file system). */
static void put_iso(const char *root, const char *rel, const char *label) {
        _cleanup_free_ char *p = strprintf("%s/%s", root, rel);
        _cleanup_free_ char *buf = calloc(1, 64 * 1024);
        FILE *f;

        assert_non_null(buf);
        if (label) {
                char *pvd = buf + 0x8000, *term = buf + 0x8800;
                pvd[0] = 1, memcpy(pvd + 1, "CD001", 5), pvd[6] = 1;
                memset(pvd + 40, ' ', 32);
                memcpy(pvd + 40, label, strlen(label));
                term[0] = (char) 255, memcpy(term + 1, "CD001", 5), term[6] = 1;
        }
        put(root, rel, NULL);
        assert_non_null(f = fopen(p, "we"));
        assert_int_equal(fwrite(buf, 1, 64 * 1024, f), 64 * 1024);
        assert_int_equal(fclose(f), 0);
}

/* A block device NAME (sysfs dir under devices/, size, class link) whose
 * node in dev/ holds label's ISO 9660; parent: the disk of a partition. */
static void add_dev(const char *root, const char *name, const char *parent, const char *label, const char *size) {
        _cleanup_free_ char *dir = parent ? strprintf("sys/devices/usb/block/%s/%s", parent, name)
                                          : strprintf("sys/devices/usb/block/%s", name);
        _cleanup_free_ char *sizef = strprintf("%s/size", dir), *cls = strprintf("sys/class/block/%s", name);
        _cleanup_free_ char *target = strprintf("../../%s", dir + strlen("sys/")), *dev = strprintf("dev/%s", name);

        put(root, sizef, size);
        if (parent) {
                _cleanup_free_ char *pf = strprintf("%s/partition", dir);
                put(root, pf, "1\n");
        }
        link_at(root, cls, target);
        put_iso(root, dev, label);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void test_find(void **state) {
        char root[] = "/tmp/test-medium-XXXXXX";
        _cleanup_free_ char *devdir = NULL;
        char *dev = NULL, *fstype = NULL;

        assert_non_null(mkdtemp(root));
        assert_non_null(devdir = strprintf("%s/dev", root));
        add_dev(root, "sda", NULL, NULL, "16777216\n");            /* a blank disk */
        add_dev(root, "sdb", NULL, "BMI_INSTALL", "477184\n");     /* the stick ... */
        add_dev(root, "sdb1", "sdb", "BMI_INSTALL", "477184\n");   /* ... and its isohybrid partition 1 */
        add_dev(root, "sr0", NULL, "BMI_INSTALL", "0\n");          /* an empty drive: size 0 */
        add_dev(root, "vda", NULL, "OTHER", "2048\n");

        /* The stick and its first partition count once, as the disk. */
        assert_int_equal(medium_find(root, devdir, "LABEL=BMI_INSTALL", &dev, &fstype), 0);
        _cleanup_free_ char *want = strprintf("%s/sdb", devdir);
        assert_string_equal(dev, want);
        assert_string_equal(fstype, "iso9660");
        free(dev), free(fstype), dev = fstype = NULL;

        assert_int_equal(medium_find(root, devdir, "LABEL=OTHER", &dev, NULL), 0);
        free(dev), dev = NULL;
        /* Labels are compared exactly. */
        assert_int_equal(medium_find(root, devdir, "LABEL=bmi_install", &dev, NULL), -ENOENT);
        assert_null(dev);
        assert_int_equal(medium_find(root, devdir, "LABEL=NOPE", &dev, NULL), -ENOENT);
        assert_int_equal(medium_find(root, devdir, "PATH=/dev/sdb", &dev, NULL), -EINVAL);

        /* A second device with the label: refused, both named. */
        add_dev(root, "sdc", NULL, "BMI_INSTALL", "477184\n");
        assert_int_equal(medium_find(root, devdir, "LABEL=BMI_INSTALL", &dev, NULL), -ENOTUNIQ);
        assert_non_null(strstr(dev, "/sdb, "));
        assert_non_null(strstr(dev, "/sdc"));
        free(dev);

        assert_int_equal(nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_find),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
