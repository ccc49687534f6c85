/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The installer's own boot medium: a disk that is mounted in the running
 * system, itself or through a partition, directly or through a device
 * stacked on it (device-mapper, md). A USB stick the installer booted from
 * and mounted is the usual case; the installed system running the installer
 * for a test is another. Never a target. */
#include "basic/fileio.h"
#include "basic/strutil.h"
#include "hw/hw-internal.h"

/* The MAJOR:MINOR of every mounted block device (/proc/self/mountinfo,
 * field 3), without the anonymous ones (major 0: tmpfs, proc, ...). */
static int mounted_devices(const HwCtx *c, char ***ret) {
        _cleanup_free_ char *p = hw_path(c, "/proc/self/mountinfo"), *data = NULL;
        _cleanup_strv_free_ char **l = NULL;
        char *save = NULL;

        if (!p)
                return -ENOMEM;
        if (read_full_file(p, &data, NULL) < 0) {
                *ret = NULL;
                return 0; /* nothing known to be mounted */
        }
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char dev[32];
                unsigned major, minor;

                if (sscanf(line, "%*u %*u %u:%u", &major, &minor) != 2 || major == 0)
                        continue;
                snprintf(dev, sizeof dev, "%u:%u", major, minor);
                if (!strv_contains(l, dev) && strv_extend(&l, dev) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* Is the block device at sysfs directory dir (below /sys) mounted, or a
 * device stacked on it (its holders, looked up in /sys/block)? */
static int in_use(const HwCtx *c, char **mounted, const char *dir, unsigned depth) {
        _cleanup_free_ char *dev = NULL, *holders = NULL;
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = hw_read_attr(c, &dev, "%s/dev", dir);
        if (r < 0)
                return r;
        if (dev && strv_contains(mounted, dev))
                return 1;
        if (depth >= 8)
                return 0;
        holders = hw_path(c, "%s/holders", dir);
        if (!holders)
                return -ENOMEM;
        if (dir_list_sorted(holders, &names) < 0)
                return 0;
        for (size_t i = 0; names[i]; i++) {
                _cleanup_free_ char *h = strprintf("/sys/block/%s", names[i]);
                if (!h)
                        return -ENOMEM;
                r = in_use(c, mounted, h, depth + 1);
                if (r != 0)
                        return r;
        }
        return 0;
}

int hw_mark_boot_medium(const HwCtx *c, Inventory *inv) {
        _cleanup_strv_free_ char **mounted = NULL;
        int r;

        r = mounted_devices(c, &mounted);
        if (r < 0)
                return r;
        if (!mounted)
                return 0;
        for (size_t i = 0; i < inv->n_disks; i++) {
                HwDisk *d = &inv->disks[i];
                _cleanup_free_ char *dir = strprintf("/sys/block/%s", d->name);

                if (!dir)
                        return -ENOMEM;
                r = in_use(c, mounted, dir, 0);
                for (size_t k = 0; r == 0 && k < d->n_partitions; k++) {
                        _cleanup_free_ char *pdir = strprintf("/sys/block/%s/%s", d->name, d->partitions[k].name);
                        if (!pdir)
                                return -ENOMEM;
                        r = in_use(c, mounted, pdir, 0);
                }
                if (r < 0)
                        return r;
                d->boot_medium = r > 0;
        }
        return 0;
}
