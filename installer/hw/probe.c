/* SPDX-License-Identifier: GPL-2.0-or-later */
/* On-disk signatures through libblkid, read-only. libblkid's conventions
 * (1 = nothing found, -2 = ambiguous) are converted to -errno here, the one
 * place that calls it. */
#include <blkid/blkid.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "hw/hw.h"

static int probe_value(blkid_probe pr, const char *name, char **ret) {
        const char *v = NULL;
        if (blkid_probe_lookup_value(pr, name, &v, NULL) == 0 && v && *v)
                return free_and_strdup(ret, v);
        return 0;
}

blkid_probe hw_blkid_probe_new(int fd, uint64_t offset, uint64_t size, bool partitions) {
        blkid_probe pr = blkid_new_probe();

        if (!pr)
                return NULL;
        if (blkid_probe_set_device(pr, fd, (blkid_loff_t) offset, (blkid_loff_t) size) != 0) {
                blkid_free_probe(pr);
                return NULL;
        }
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID);
        blkid_probe_enable_partitions(pr, partitions);
        if (partitions)
                blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
        return pr;
}

/* Probe a byte range of fd for a superblock. Returns 1 found, 0 none,
 * -ENOTUNIQ ambiguous, -errno on failure. */
static int probe_range(int fd, uint64_t offset, uint64_t size, char **fstype, char **label, char **uuid) {
        blkid_probe pr = hw_blkid_probe_new(fd, offset, size, false);
        int r;

        if (!pr)
                return -EIO;

        r = blkid_do_safeprobe(pr);
        if (r == -2)
                r = -ENOTUNIQ;
        else if (r < 0)
                r = -EIO;
        else if (r == 1)
                r = 0;
        else {
                r = 1;
                if (probe_value(pr, "TYPE", fstype) < 0 || probe_value(pr, "LABEL", label) < 0 ||
                    probe_value(pr, "UUID", uuid) < 0)
                        r = -ENOMEM;
        }
        blkid_free_probe(pr);
        return r;
}

int hw_probe_filesystem(const char *path, char **ret_fstype, char **ret_label, char **ret_uuid) {
        _cleanup_close_ int fd = -1;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        return probe_range(fd, 0, 0, ret_fstype, ret_label, ret_uuid);
}

/* The install-in-progress mark in the MBR boot code area, if any. */
static int read_install_mark(int fd, const char *path, HwInstallMark **ret) {
        uint8_t data[HW_INSTALL_MARK_SIZE];
        ssize_t n = pread(fd, data, sizeof data, 0);
        int r;

        if (n != (ssize_t) sizeof data)
                return 0; /* too small, or unreadable: blkid will say */
        hw_install_mark_free(*ret);
        *ret = NULL;
        r = hw_install_mark_decode(data, ret);
        if (r == -EBADMSG) {
                log_debug("%s: an install-in-progress mark that does not verify; ignored", path);
                return 0;
        }
        return r < 0 ? r : 0;
}

int hw_disk_probe_signatures(HwDisk *d, const char *path) {
        _cleanup_close_ int fd = -1;
        blkid_probe pr;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return -errno;

        r = read_install_mark(fd, path, &d->install_mark);
        if (r < 0)
                return r;

        pr = hw_blkid_probe_new(fd, 0, 0, true);
        if (!pr)
                return -EIO;

        r = blkid_do_safeprobe(pr);
        if (r == -2) {
                blkid_free_probe(pr);
                return -ENOTUNIQ;
        }
        if (r < 0) {
                blkid_free_probe(pr);
                return -EIO;
        }
        if (r == 0) {
                if (probe_value(pr, "PTTYPE", &d->pttype) < 0 || probe_value(pr, "PTUUID", &d->ptuuid) < 0 ||
                    probe_value(pr, "TYPE", &d->fstype) < 0) {
                        blkid_free_probe(pr);
                        return -ENOMEM;
                }
        }

        /* A disk image file has no partitions in sysfs: take them from the
         * partition table itself. */
        blkid_partlist pl = d->pttype ? blkid_probe_get_partitions(pr) : NULL;
        int n = pl ? blkid_partlist_numof_partitions(pl) : 0;
        if (d->n_partitions == 0 && n > 0) {
                d->partitions = new0(HwPartition, (size_t) n);
                if (!d->partitions) {
                        blkid_free_probe(pr);
                        return -ENOMEM;
                }
                for (int i = 0; i < n; i++) {
                        blkid_partition p = blkid_partlist_get_partition(pl, i);
                        HwPartition *hp = &d->partitions[d->n_partitions++];
                        hp->number = (unsigned) blkid_partition_get_partno(p);
                        hp->start = (uint64_t) blkid_partition_get_start(p) * 512;
                        hp->size = (uint64_t) blkid_partition_get_size(p) * 512;
                        hp->name = strprintf("%s%s%u", d->name,
                                             (d->name[0] && d->name[strlen(d->name) - 1] >= '0' && d->name[strlen(d->name) - 1] <= '9') ? "p" : "", hp->number);
                        if (!hp->name) {
                                blkid_free_probe(pr);
                                return -ENOMEM;
                        }
                }
        }
        blkid_free_probe(pr);

        for (size_t i = 0; i < d->n_partitions; i++) {
                HwPartition *p = &d->partitions[i];
                if (p->size == 0)
                        continue;
                r = probe_range(fd, p->start, p->size, &p->fstype, &p->label, &p->uuid);
                if (r == -ENOTUNIQ)
                        return log_debug_errno(r, "Partition %s holds ambiguous signatures", p->name);
                if (r < 0 && r != -EIO)
                        return r;
        }
        return 0;
}
