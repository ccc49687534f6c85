/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Wiping the target like `wipefs --all`, partitions first, then zeroing the
 * first and last MiB. */
#include <blkid/blkid.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <time.h>

#include "basic/log.h"
#include "disk/disk-internal.h"

#define WIPE_MAX_SIGNATURES 1024 /* a signature that keeps coming back is an error */
#define ZERO_SIZE (1024 * 1024ULL)

typedef struct Range {
        uint64_t offset, size;
        int partno;
} Range;

/* Erase every signature libblkid finds in [offset, offset + size) of fd
 * (size 0: to the end). */
static int wipe_signatures(int fd, uint64_t offset, uint64_t size, const char *what, char **ret_error) {
        blkid_probe pr;
        int r = 0;

        pr = blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, (blkid_loff_t) offset, (blkid_loff_t) size) != 0) {
                blkid_free_probe(pr);
                return disk_error(ret_error, -EIO, "Failed to probe %s for signatures", what);
        }
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_MAGIC | BLKID_SUBLKS_TYPE | BLKID_SUBLKS_BADCSUM);
        blkid_probe_enable_partitions(pr, 1);
        blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC | BLKID_PARTS_FORCE_GPT);

        for (unsigned n = 0;; n++) {
                const char *type = NULL, *off = NULL;

                r = blkid_do_probe(pr);
                if (r == 1) { /* nothing (more) */
                        r = 0;
                        break;
                }
                if (r < 0) {
                        r = disk_error(ret_error, -EIO, "Failed to probe %s for signatures", what);
                        break;
                }
                if (n >= WIPE_MAX_SIGNATURES) {
                        r = disk_error(ret_error, -ELOOP, "Failed to wipe %s: signatures keep reappearing", what);
                        break;
                }
                if (blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0)
                        (void) blkid_probe_lookup_value(pr, "SBMAGIC_OFFSET", &off, NULL);
                else if (blkid_probe_lookup_value(pr, "PTTYPE", &type, NULL) == 0)
                        (void) blkid_probe_lookup_value(pr, "PTMAGIC_OFFSET", &off, NULL);
                log_debug("Erasing %s signature at offset %s of %s", type ? type : "?", off ? off : "?", what);

                /* Erases the magic string and steps back, so that the same
                 * prober looks again (a superblock can have several). */
                errno = 0;
                if (blkid_do_wipe(pr, 0) != 0) {
                        r = errno > 0 ? -errno : -EIO;
                        r = disk_error(ret_error, r, "Failed to erase the %s signature at offset %s of %s: %s",
                                       type ? type : "?", off ? off : "?", what, strerror(-r));
                        break;
                }
        }
        blkid_free_probe(pr);
        return r;
}

/* The partitions of the existing partition table (none if there is none). */
static int list_partitions(int fd, uint64_t disk_size, Range **ret, size_t *ret_n) {
        _cleanup_free_ Range *v = NULL;
        blkid_partlist pl;
        blkid_probe pr;
        size_t n = 0;
        int k;

        pr = blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, 0, 0) != 0) {
                blkid_free_probe(pr);
                return -EIO;
        }
        blkid_probe_enable_superblocks(pr, 0);
        blkid_probe_enable_partitions(pr, 1);
        blkid_probe_set_partitions_flags(pr, BLKID_PARTS_FORCE_GPT);

        pl = blkid_probe_get_partitions(pr);
        k = pl ? blkid_partlist_numof_partitions(pl) : 0;
        if (k > 0) {
                v = new0(Range, (size_t) k);
                if (!v) {
                        blkid_free_probe(pr);
                        return -ENOMEM;
                }
        }
        for (int i = 0; i < k; i++) {
                blkid_partition p = blkid_partlist_get_partition(pl, i);
                blkid_loff_t start, size;

                /* An extended partition only contains logical ones, which
                 * are listed themselves. */
                if (!p || blkid_partition_is_extended(p))
                        continue;
                start = blkid_partition_get_start(p);
                size = blkid_partition_get_size(p);
                if (start < 0 || size <= 0 || (uint64_t) start * 512 >= disk_size)
                        continue;
                v[n].offset = (uint64_t) start * 512; /* libblkid counts 512-byte sectors */
                v[n].size = MIN((uint64_t) size * 512, disk_size - v[n].offset);
                v[n].partno = blkid_partition_get_partno(p);
                n++;
        }
        blkid_free_probe(pr);

        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

static int write_zeros(int fd, uint64_t offset, uint64_t size) {
        _cleanup_free_ void *zeros = calloc(1, ZERO_SIZE);

        if (!zeros)
                return -ENOMEM;
        while (size > 0) {
                ssize_t k = pwrite(fd, zeros, (size_t) MIN(size, ZERO_SIZE), (off_t) offset);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                offset += (uint64_t) k;
                size -= (uint64_t) k;
        }
        return 0;
}

static int reread_partition_table(int fd) {
        /* Right after the last close by someone else (udev, a probe) the
         * kernel may still say busy: try a few times, as wipefs does. */
        for (unsigned i = 0;; i++) {
                if (ioctl(fd, BLKRRPART) == 0)
                        return 0;
                if (errno == EINVAL) /* a device without partitions (loop without partscan) */
                        return 0;
                if (errno != EBUSY || i >= 4)
                        return -errno;
                (void) nanosleep(&(struct timespec) { .tv_nsec = 250 * 1000 * 1000 }, NULL);
        }
}

int disk_wipe(const Plan *plan, const char *path, char **ret_error) {
        _cleanup_free_ Range *parts = NULL;
        _cleanup_close_ int fd = -1;
        size_t n_parts = 0;
        struct stat st;
        uint64_t size, head;
        int r;

        /* A block device in use (mounted, swap, RAID, device-mapper) cannot
         * be opened exclusively. O_EXCL means nothing for regular files. */
        if (stat(path, &st) < 0) {
                r = -errno;
                return disk_error(ret_error, r, "Cannot wipe %s: %s", path, strerror(-r));
        }
        fd = disk_open(path, O_RDWR | (S_ISBLK(st.st_mode) ? O_EXCL : 0), &st, &size);
        if (fd == -EBUSY)
                return disk_error(ret_error, fd, "Refusing to wipe %s: it is in use", path);
        if (fd == -ENOTBLK)
                return disk_error(ret_error, fd, "Refusing to wipe %s: neither a block device nor a regular file",
                                  path);
        if (fd < 0)
                return disk_error(ret_error, fd, "Cannot open %s for writing: %s", path, strerror(-fd));
        /* Through the descriptor that writes: still the planned disk? */
        r = disk_verify_identity_fd(disk_planned_disk(plan, path), fd, path, ret_error);
        if (r < 0)
                return r;

        /* Partitions first, while the table that locates them still exists. */
        r = list_partitions(fd, size, &parts, &n_parts);
        if (r < 0)
                return disk_error(ret_error, r, "Failed to read the partition table of %s: %s", path, strerror(-r));
        for (size_t i = 0; i < n_parts; i++) {
                char what[512];

                snprintf(what, sizeof what, "partition %d of %s (offset %" PRIu64 ")", parts[i].partno, path,
                         parts[i].offset);
                r = wipe_signatures(fd, parts[i].offset, parts[i].size, what, ret_error);
                if (r < 0)
                        return r;
        }

        r = wipe_signatures(fd, 0, 0, path, ret_error);
        if (r < 0)
                return r;

        /* MBR boot code and table, GPT header and entries at the start; the
         * backup GPT at the end. The install-in-progress mark in the boot
         * code area stays: from the first write to the last step, the disk
         * keeps saying that an install is in progress on it. */
        _cleanup_(hw_install_mark_freep) HwInstallMark *mark = NULL;
        r = disk_mark_read_fd(fd, &mark);
        if (r < 0)
                return disk_error(ret_error, r, "Failed to read the MBR of %s: %s", path, strerror(-r));
        uint64_t keep = mark ? HW_INSTALL_MARK_SIZE : 0;
        head = MIN(size, ZERO_SIZE);
        r = head > keep ? write_zeros(fd, keep, head - keep) : 0;
        if (r >= 0 && size > head)
                r = write_zeros(fd, size - MIN(size - head, ZERO_SIZE), MIN(size - head, ZERO_SIZE));
        if (r < 0)
                return disk_error(ret_error, r, "Failed to zero the start and end of %s: %s", path, strerror(-r));

        if (fsync(fd) < 0) {
                r = -errno;
                return disk_error(ret_error, r, "Failed to flush %s: %s", path, strerror(-r));
        }

        if (S_ISBLK(st.st_mode)) {
                r = reread_partition_table(fd);
                if (r < 0)
                        return disk_error(ret_error, r, "Failed to make the kernel re-read the partition table of %s: %s",
                                          path, strerror(-r));
        }
        return 0;
}

/* Open for wiping: a block device exclusively (refused with -EBUSY when in use). */
static int open_for_wipe(const char *path, struct stat *st, uint64_t *size, char **ret_error) {
        int fd;

        if (stat(path, st) < 0) {
                int r = -errno;
                return disk_error(ret_error, r, "Cannot wipe %s: %s", path, strerror(-r));
        }
        fd = disk_open(path, O_RDWR | (S_ISBLK(st->st_mode) ? O_EXCL : 0), st, size);
        if (fd == -EBUSY)
                return disk_error(ret_error, fd, "Refusing to wipe %s: it is in use", path);
        if (fd == -ENOTBLK)
                return disk_error(ret_error, fd, "Refusing to wipe %s: neither a block device nor a regular file", path);
        if (fd < 0)
                return disk_error(ret_error, fd, "Cannot open %s for writing: %s", path, strerror(-fd));
        return fd;
}

int disk_wipe_replaced(const Plan *plan, const char *path, char **ret_error) {
        _cleanup_free_ Range *parts = NULL;
        _cleanup_close_ int fd = -1;
        size_t n_parts = 0;
        struct stat st;
        uint64_t size;
        int r;

        fd = open_for_wipe(path, &st, &size, ret_error);
        if (fd < 0)
                return fd;
        r = disk_verify_identity_fd(disk_planned_disk(plan, path), fd, path, ret_error);
        if (r < 0)
                return r;
        /* The first write of a reinstall: from here until the bootloader
         * step, neither the old boot code nor an old bootable flag may start
         * anything on this half-written disk. */
        r = disk_make_unbootable(fd, size, path, ret_error);
        if (r < 0)
                return r;
        r = list_partitions(fd, size, &parts, &n_parts);
        if (r < 0)
                return disk_error(ret_error, r, "Failed to read the partition table of %s: %s", path, strerror(-r));
        for (size_t i = 0; i < n_parts; i++) {
                bool keep = false;
                char what[512];

                for (size_t k = 0; k < plan->n_partitions; k++) {
                        const PlanPartition *p = &plan->partitions[k];
                        if (!p->preserve || p->number != (unsigned) parts[i].partno)
                                continue;
                        /* disk_check_target() checked it; never wipe a
                         * partition the plan keeps, whatever happened. */
                        if (p->start != parts[i].offset || p->size != parts[i].size)
                                return disk_error(ret_error, -ESTALE,
                                                  "Refusing to wipe %s: preserved partition %u is not where the plan saw it",
                                                  path, p->number);
                        keep = true;
                }
                if (keep)
                        continue;
                snprintf(what, sizeof what, "partition %d of %s (offset %" PRIu64 ")", parts[i].partno, path,
                         parts[i].offset);
                r = wipe_signatures(fd, parts[i].offset, parts[i].size, what, ret_error);
                if (r < 0)
                        return r;
        }
        if (fsync(fd) < 0) {
                r = -errno;
                return disk_error(ret_error, r, "Failed to flush %s: %s", path, strerror(-r));
        }
        return 0;
}

int disk_wipe_signatures(const char *path, char **ret_error) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        uint64_t size;
        int r;

        fd = open_for_wipe(path, &st, &size, ret_error);
        if (fd < 0)
                return fd;
        r = wipe_signatures(fd, 0, size, path, ret_error);
        if (r < 0)
                return r;
        if (fsync(fd) < 0) {
                r = -errno;
                return disk_error(ret_error, r, "Failed to flush %s: %s", path, strerror(-r));
        }
        return 0;
}
