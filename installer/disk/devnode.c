/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Partition device nodes: their names, and waiting for them to appear. The
 * boot image has no udev: devtmpfs creates the nodes as soon as the kernel
 * knows the partitions. */
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strutil.h"
#include "disk/disk-internal.h"

#define WAIT_POLL_MS 20

int disk_partition_devnode(const char *disk, unsigned number, char **ret) {
        size_t len;
        char *s;

        if (!disk || number == 0)
                return -EINVAL;
        len = strlen(disk);
        if (len == 0)
                return -EINVAL;

        /* The kernel's rule (disk_name()): a 'p' between a name ending in a
         * digit and the partition number. */
        s = strprintf("%s%s%u", disk, disk[len - 1] >= '0' && disk[len - 1] <= '9' ? "p" : "", number);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Partition `number` as the kernel knows it: 1 with its device number, 0 if
 * the kernel does not know it, -errno if sysfs cannot tell. */
static int sysfs_partition(const char *sysdir, const char *devnode, dev_t *ret) {
        _cleanup_free_ char *path = NULL, *dev = NULL;
        const char *name = strrchr(devnode, '/');
        unsigned ma, mi;
        int r;

        path = strprintf("%s/%s/dev", sysdir, name ? name + 1 : devnode);
        if (!path)
                return -ENOMEM;
        r = read_one_line_file(path, &dev);
        if (r == -ENOENT)
                return access(sysdir, F_OK) < 0 ? -errno : 0;
        if (r < 0)
                return r;
        if (sscanf(dev, "%u:%u", &ma, &mi) != 2)
                return -EINVAL;
        *ret = makedev(ma, mi);
        return 1;
}

/* 1 when the node of the partition exists (and is the kernel's partition
 * when sysfs can tell), 0 when not yet; *ret_known: whether the kernel knows
 * the partition (true when sysfs cannot tell). */
static int partition_ready(const char *sysdir, const char *devnode, bool *ret_known) {
        struct stat st;
        dev_t devnum = 0;
        int k;

        k = sysfs_partition(sysdir, devnode, &devnum);
        if (k == -ENOMEM)
                return k;
        *ret_known = k != 0;
        if (k == 0)
                return 0;
        if (stat(devnode, &st) < 0 || !S_ISBLK(st.st_mode))
                return 0;
        return k < 0 || st.st_rdev == devnum;
}

int disk_wait_partitions(const char *disk, unsigned n, unsigned timeout_ms) {
        _cleanup_free_ unsigned *numbers = new0(unsigned, n ? n : 1);

        if (!numbers)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++)
                numbers[i] = i + 1;
        return disk_wait_partition_numbers(disk, numbers, n, timeout_ms);
}

int disk_wait_partition_numbers(const char *disk, const unsigned *numbers, size_t n, unsigned timeout_ms) {
        _cleanup_free_ char *sysdir = NULL;
        uint64_t deadline = now_ms() + timeout_ms;
        bool reread = false;
        struct stat st;

        if (stat(disk, &st) < 0)
                return -errno;
        if (!S_ISBLK(st.st_mode))
                return -ENOTBLK;
        sysdir = strprintf("/sys/dev/block/%u:%u", major(st.st_rdev), minor(st.st_rdev));
        if (!sysdir)
                return -ENOMEM;

        for (;;) {
                bool all = true, unknown = false;

                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *node = NULL;
                        bool known = true;
                        int r;

                        r = disk_partition_devnode(disk, numbers[i], &node);
                        if (r < 0)
                                return r;
                        r = partition_ready(sysdir, node, &known);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                all = false;
                        if (!known)
                                unknown = true;
                }
                if (all)
                        return 0;

                /* The kernel does not know a partition (libparted could not
                 * tell it, or nothing did): ask it to re-read the table,
                 * once. */
                if (unknown && !reread) {
                        _cleanup_close_ int fd = open(disk, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                        reread = true;
                        if (fd < 0 || ioctl(fd, BLKRRPART) < 0)
                                log_debug_errno(errno, "Failed to re-read the partition table of %s: %m", disk);
                }

                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                (void) nanosleep(&(struct timespec) { .tv_nsec = WAIT_POLL_MS * 1000 * 1000 }, NULL);
        }
}
