/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The last look at the target before the first write: is it still the disk
 * the plan was made for, is it in use, does it hold anything the plan did not
 * expect? Read-only. */
#include <blkid/blkid.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <strings.h>
#include <sys/sysmacros.h>

#include "basic/fileio.h"
#include "basic/strutil.h"
#include "disk/disk-internal.h"
#include "hw/hw.h"

typedef struct BlockDev {
        dev_t devnum;
        char *devnode;   /* /dev/vda, /dev/vda1 */
        char *sysdir;    /* /sys/dev/block/253:0, /sys/dev/block/253:0/vda1 */
} BlockDev;

/* A disk and its partitions. */
typedef struct DevSet {
        BlockDev *v;
        size_t n;
} DevSet;

static void dev_set_done(DevSet *s) {
        for (size_t i = 0; i < s->n; i++) {
                free(s->v[i].devnode);
                free(s->v[i].sysdir);
        }
        free(s->v);
        *s = (DevSet) {};
}

static int dev_set_add(DevSet *s, dev_t devnum, char *devnode, char *sysdir) {
        BlockDev *v;

        if (!devnode || !sysdir) {
                free(devnode);
                free(sysdir);
                return -ENOMEM;
        }
        v = reallocarray(s->v, s->n + 1, sizeof *v);
        if (!v) {
                free(devnode);
                free(sysdir);
                return -ENOMEM;
        }
        s->v = v;
        s->v[s->n++] = (BlockDev) { devnum, devnode, sysdir };
        return 0;
}

static const BlockDev *dev_set_find(const DevSet *s, dev_t devnum) {
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i].devnum == devnum)
                        return &s->v[i];
        return NULL;
}

/* The disk itself, and its partitions as sysfs lists them. */
static int dev_set_load(DevSet *s, const char *path, dev_t disk) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *sys = NULL;
        int r;

        sys = strprintf("/sys/dev/block/%u:%u", major(disk), minor(disk));
        if (!sys)
                return -ENOMEM;
        r = dev_set_add(s, disk, strdup(path), strdup(sys));
        if (r < 0)
                return r;

        r = dir_list_sorted(sys, &names);
        if (r == -ENOENT)
                return 0; /* no sysfs: only the disk itself can be checked */
        if (r < 0)
                return r;
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *part = strprintf("%s/%s/partition", sys, *n);
                _cleanup_free_ char *devfile = strprintf("%s/%s/dev", sys, *n);
                _cleanup_free_ char *dev = NULL;
                unsigned ma, mi;

                if (!part || !devfile)
                        return -ENOMEM;
                if (access(part, F_OK) < 0)
                        continue;
                if (read_one_line_file(devfile, &dev) < 0 || sscanf(dev, "%u:%u", &ma, &mi) != 2)
                        continue;
                r = dev_set_add(s, makedev(ma, mi), strprintf("/dev/%s", *n), strprintf("%s/%s", sys, *n));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_holders(const DevSet *s, const char *path, char **ret_error) {
        for (size_t i = 0; i < s->n; i++) {
                _cleanup_free_ char *dir = strprintf("%s/holders", s->v[i].sysdir);
                _cleanup_strv_free_ char **holders = NULL;

                if (!dir)
                        return -ENOMEM;
                if (dir_list_sorted(dir, &holders) < 0 || !holders[0])
                        continue;
                return disk_error(ret_error, -EBUSY, "Refusing to write %s: %s is in use by %s (RAID or device-mapper)",
                                  path, s->v[i].devnode, holders[0]);
        }
        return 0;
}

static int check_mounts(const DevSet *s, const char *path, char **ret_error) {
        _cleanup_free_ char *data = NULL;
        char *save = NULL;
        int r;

        r = read_full_file("/proc/self/mountinfo", &data, NULL);
        if (r < 0)
                return disk_error(ret_error, r, "Cannot check whether %s is mounted: /proc/self/mountinfo: %s", path,
                                  strerror(-r));

        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_free_ char *where = NULL;
                const BlockDev *b;
                unsigned ma, mi;

                /* 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw */
                if (sscanf(line, "%*u %*u %u:%u %*s %ms", &ma, &mi, &where) != 3)
                        continue;
                b = dev_set_find(s, makedev(ma, mi));
                if (!b)
                        continue;
                disk_unescape_octal(where);
                return disk_error(ret_error, -EBUSY, "Refusing to write %s: %s is mounted on %s", path, b->devnode,
                                  where);
        }
        return 0;
}

static int check_swaps(const DevSet *s, const struct stat *st, const char *path, char **ret_error) {
        _cleanup_free_ char *data = NULL;
        char *save = NULL;
        bool header = true;
        int r;

        r = read_full_file("/proc/swaps", &data, NULL);
        if (r == -ENOENT)
                return 0; /* a kernel without swap */
        if (r < 0)
                return disk_error(ret_error, r, "Cannot check whether %s is used as swap: /proc/swaps: %s", path,
                                  strerror(-r));

        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                struct stat sst;
                const BlockDev *b;
                char *end;

                if (header) { /* Filename Type Size Used Priority */
                        header = false;
                        continue;
                }
                end = line + strcspn(line, " \t");
                *end = 0;
                disk_unescape_octal(line);
                if (stat(line, &sst) < 0)
                        continue;
                if (S_ISBLK(sst.st_mode) && (b = dev_set_find(s, sst.st_rdev)))
                        return disk_error(ret_error, -EBUSY, "Refusing to write %s: %s is used as swap", path,
                                          b->devnode);
                if (S_ISREG(sst.st_mode) && S_ISREG(st->st_mode) && sst.st_dev == st->st_dev &&
                    sst.st_ino == st->st_ino)
                        return disk_error(ret_error, -EBUSY, "Refusing to write %s: it is used as a swap file", path);
        }
        return 0;
}

static int check_signatures(int fd, const char *path, bool wipe, char **ret_error) {
        _cleanup_(strbuf_done) StrBuf what = {};
        const char *pttype = NULL, *type = NULL, *usage = NULL;
        blkid_probe pr;
        int r;

        pr = blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, 0, 0) != 0) {
                blkid_free_probe(pr);
                return disk_error(ret_error, -EIO, "Failed to probe %s for signatures", path);
        }
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE);
        blkid_probe_enable_partitions(pr, 1);
        blkid_probe_set_partitions_flags(pr, BLKID_PARTS_FORCE_GPT);

        r = blkid_do_safeprobe(pr);
        if (r == 0) {
                (void) blkid_probe_lookup_value(pr, "PTTYPE", &pttype, NULL);
                (void) blkid_probe_lookup_value(pr, "TYPE", &type, NULL);
                (void) blkid_probe_lookup_value(pr, "USAGE", &usage, NULL);
                if (pttype && *pttype)
                        r = strbuf_appendf(&what, "%s partition table", pttype) < 0 ? -ENOMEM : 0;
                if (r == 0 && type && *type)
                        r = strbuf_appendf(&what, "%s%s %s", what.len ? ", " : "", type,
                                           streq_lit(usage, "filesystem") ? "filesystem" :
                                           streq_lit(usage, "raid")       ? "RAID/LVM member" :
                                           streq_lit(usage, "crypto")     ? "encrypted volume" : "signature") < 0 ? -ENOMEM : 0;
        }
        blkid_free_probe(pr);

        if (r == -2)
                return disk_error(ret_error, -ENOTUNIQ,
                                  "Refusing to write %s: libblkid finds ambiguous signatures on it (more than one "
                                  "filesystem, RAID or LVM signature); inspect it with wipefs and clear it by hand",
                                  path);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return disk_error(ret_error, -EIO, "Failed to probe %s for signatures", path);
        if (r == 1 || wipe)
                return 0;
        return disk_error(ret_error, -ENOTEMPTY,
                          "Refusing to write %s: it holds data (%s), but the plan expected a blank disk "
                          "(did the disk change since the plan was made?)",
                          path, what.len ? what.data : "unknown signature");
}

/* Is every preserved partition still what the plan saw: the same number,
 * start and size in the partition table, and the same filesystem UUID? */
static int check_preserved(const Plan *plan, int fd, const char *path, char **ret_error) {
        blkid_partlist pl;
        blkid_probe pr;
        int r = 0;

        pr = hw_blkid_probe_new(fd, 0, 0, true);
        if (!pr)
                return disk_error(ret_error, -EIO, "Failed to probe %s for its partition table", path);
        blkid_probe_enable_superblocks(pr, 0);
        pl = blkid_probe_get_partitions(pr);

        for (size_t i = 0; i < plan->n_partitions && r >= 0; i++) {
                const PlanPartition *p = &plan->partitions[i];
                _cleanup_free_ char *type = NULL, *uuid = NULL;
                blkid_partition bp = NULL;
                uint64_t start = 0, size = 0;

                if (!p->preserve)
                        continue;
                for (int k = 0; pl && k < blkid_partlist_numof_partitions(pl); k++) {
                        blkid_partition c = blkid_partlist_get_partition(pl, k);
                        if (c && blkid_partition_get_partno(c) == (int) p->number)
                                bp = c;
                }
                if (bp) {
                        start = (uint64_t) blkid_partition_get_start(bp) * 512;
                        size = (uint64_t) blkid_partition_get_size(bp) * 512;
                }
                if (!bp || start != p->start || size != p->size) {
                        r = disk_error(ret_error, -ESTALE,
                                       "Refusing to write %s: partition %u (%s), which the plan preserves, %s; the plan "
                                       "saw start %" PRIu64 ", size %" PRIu64 " (did the disk change since the plan was made?)",
                                       path, p->number, p->existing, bp ? "moved" : "is gone", p->start, p->size);
                        break;
                }
                blkid_probe fsp = hw_blkid_probe_new(fd, start, size, false);
                if (!fsp) {
                        r = -EIO;
                        break;
                }
                if (blkid_do_safeprobe(fsp) == 0) {
                        const char *v = NULL;
                        if (blkid_probe_lookup_value(fsp, "UUID", &v, NULL) == 0 && v && *v)
                                uuid = strdup(v);
                        v = NULL;
                        if (blkid_probe_lookup_value(fsp, "TYPE", &v, NULL) == 0 && v && *v)
                                type = strdup(v);
                }
                blkid_free_probe(fsp);
                if (!(uuid ? p->fs_uuid && strcasecmp(uuid, p->fs_uuid) == 0 : !p->fs_uuid) ||
                    !streq_ptr(type, p->fstype))
                        r = disk_error(ret_error, -ESTALE,
                                       "Refusing to write %s: partition %u (%s), which the plan preserves, now holds %s "
                                       "UUID %s; the plan saw %s UUID %s (did the disk change since the plan was made?)",
                                       path, p->number, p->existing, type ?: "nothing", uuid ?: "none",
                                       p->fstype ?: "nothing", p->fs_uuid ?: "none");
        }
        blkid_free_probe(pr);
        return r;
}

/* The checks for one disk the plan writes: D as planned, WIPE whether the
 * plan may destroy what it holds, PLAN (or NULL) whose preserved partitions
 * must still be where the plan saw them. */
static int check_disk(const HwDisk *d, bool wipe, const Plan *preserving, const char *path, char **ret_error) {
        _cleanup_(dev_set_done) DevSet set = {};
        _cleanup_close_ int fd = -1;
        char a[32], b[32];
        struct stat st;
        uint64_t size;
        int r;

        fd = disk_open(path, O_RDONLY | O_NONBLOCK, &st, &size);
        if (fd == -ENOTBLK)
                return disk_error(ret_error, fd, "Refusing to write %s: neither a block device nor a regular file",
                                  path);
        if (fd < 0)
                return disk_error(ret_error, fd, "Cannot open %s: %s", path, strerror(-fd));

        if (size != d->size)
                return disk_error(ret_error, -ESTALE,
                                  "Refusing to write %s: it has %s (%" PRIu64 " bytes), but the plan was made for %s "
                                  "with %s (%" PRIu64 " bytes); is it still the planned disk?",
                                  path, format_bytes(a, sizeof a, size), size, d->devnode,
                                  format_bytes(b, sizeof b, d->size), d->size);

        if (S_ISBLK(st.st_mode)) {
                int ss = 0, ro = 0;
                _cleanup_close_ int excl = -1;

                if (ioctl(fd, BLKSSZGET, &ss) == 0 && d->logical_sector_size && (unsigned) ss != d->logical_sector_size)
                        return disk_error(ret_error, -ESTALE,
                                          "Refusing to write %s: its logical sector size is %d bytes, but the plan "
                                          "was made for %s with %u bytes",
                                          path, ss, d->devnode, d->logical_sector_size);
                if (ioctl(fd, BLKROGET, &ro) == 0 && ro)
                        return disk_error(ret_error, -EROFS, "Refusing to write %s: the device is read-only", path);

                r = dev_set_load(&set, path, st.st_rdev);
                if (r < 0)
                        return disk_error(ret_error, r, "Cannot list the partitions of %s: %s", path, strerror(-r));
                r = check_holders(&set, path, ret_error);
                if (r < 0)
                        return r;
                r = check_mounts(&set, path, ret_error);
                if (r < 0)
                        return r;
                r = check_swaps(&set, &st, path, ret_error);
                if (r < 0)
                        return r;

                /* Whatever else holds it (a mounted partition, swap, RAID,
                 * device-mapper) makes an exclusive open fail. */
                excl = open(path, O_RDONLY | O_EXCL | O_CLOEXEC | O_NONBLOCK);
                if (excl < 0 && errno == EBUSY)
                        return disk_error(ret_error, -EBUSY,
                                          "Refusing to write %s: it is in use (an exclusive open fails: a mounted "
                                          "filesystem, swap, RAID or device-mapper holds it)",
                                          path);
                if (excl < 0) {
                        r = -errno;
                        return disk_error(ret_error, r, "Cannot open %s: %s", path, strerror(-r));
                }
        } else {
                r = check_swaps(&set, &st, path, ret_error);
                if (r < 0)
                        return r;
        }

        /* A reinstall keeps the table: it holds data, and the preserved
         * partitions must still be what the plan saw. */
        r = check_signatures(fd, path, wipe || preserving, ret_error);
        if (r < 0 || !preserving)
                return r;
        return check_preserved(preserving, fd, path, ret_error);
}

int disk_check_target(const Plan *plan, const char *path, char **ret_error) {
        return check_disk(plan_target_disk(plan), plan->wipe, plan->keep_table ? plan : NULL, path, ret_error);
}

int disk_check_mirror(const Plan *plan, const char *path, char **ret_error) {
        if (!plan_mirror_disk(plan))
                return -EINVAL;
        return check_disk(plan_mirror_disk(plan), plan->mirror_wipe, NULL, path, ret_error);
}
