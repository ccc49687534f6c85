/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The last look at the target before the first write: is it still the disk
 * the plan was made for, is it in use, does it hold anything the plan did not
 * expect? Read-only. */
#include <blkid/blkid.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <limits.h>
#include <strings.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/log.h"
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

        r = disk_verify_identity_fd(d, fd, path, ret_error);
        if (r < 0)
                return r;

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

/* Test seam (docs/testing.md): $INSTALLER_TEST_PAUSE_BEFORE_CHECK seconds
 * (1-600; rootfs/init sets it from inst.test_pause_before_check=N) of sleep
 * before the last look, so that a VM test can swap the disk under the
 * installer's feet. */
static void test_pause(void) {
        const char *e = getenv("INSTALLER_TEST_PAUSE_BEFORE_CHECK");
        unsigned long n;
        char *end;

        if (!e || !*e)
                return;
        errno = 0;
        n = strtoul(e, &end, 10);
        if (errno || *end || n == 0 || n > 600)
                return;
        log_warning("TEST SEAM: pausing %lu s before check-target (INSTALLER_TEST_PAUSE_BEFORE_CHECK)", n);
        (void) nanosleep(&(struct timespec) { .tv_sec = (time_t) n }, NULL);
        log_warning("TEST SEAM: pause over");
}

int disk_check_target(const Plan *plan, const char *path, char **ret_error) {
        test_pause();
        return check_disk(plan_target_disk(plan), plan->wipe, plan->keep_table ? plan : NULL, path, ret_error);
}

int disk_check_mirror(const Plan *plan, const char *path, char **ret_error) {
        if (!plan_mirror_disk(plan))
                return -EINVAL;
        return check_disk(plan_mirror_disk(plan), plan->mirror_wipe, NULL, path, ret_error);
}

/* ---- identity: is this still the disk the plan was made for? ------------------------ */

static void diff_str(StrBuf *b, const char *what, const char *planned, const char *found) {
        if (streq_ptr(planned, found))
                return;
        (void) strbuf_appendf(b, "%s%s: planned %s%s%s, found %s%s%s", b->len ? "; " : "", what,
                              planned ? "\"" : "", planned ?: "none", planned ? "\"" : "",
                              found ? "\"" : "", found ?: "none", found ? "\"" : "");
}

int disk_identity_compare(const HwDisk *planned, const HwDisk *found, const char *path, char **ret_error) {
        StrBuf b = {};
        char x[32], y[32];

        if ((planned->major || planned->minor) && (planned->major != found->major || planned->minor != found->minor))
                (void) strbuf_appendf(&b, "%sdevice number: planned %u:%u, found %u:%u", b.len ? "; " : "",
                                      planned->major, planned->minor, found->major, found->minor);
        if (planned->size != found->size)
                (void) strbuf_appendf(&b, "%ssize: planned %s (%" PRIu64 " bytes), found %s (%" PRIu64 " bytes)",
                                      b.len ? "; " : "", format_bytes(x, sizeof x, planned->size), planned->size,
                                      format_bytes(y, sizeof y, found->size), found->size);
        if (planned->logical_sector_size && found->logical_sector_size &&
            planned->logical_sector_size != found->logical_sector_size)
                (void) strbuf_appendf(&b, "%slogical sector size: planned %u, found %u", b.len ? "; " : "",
                                      planned->logical_sector_size, found->logical_sector_size);
        diff_str(&b, "serial", planned->serial, found->serial);
        diff_str(&b, "WWN", planned->wwn, found->wwn);
        diff_str(&b, "WWID", planned->wwid, found->wwid);
        diff_str(&b, "by-path", planned->by_path, found->by_path);
        if (!b.len)
                return 0;
        if (!b.data)
                return -ENOMEM;

        int r = disk_error(ret_error, -ESTALE,
                           "Refusing to write %s: it is not the disk the plan was made for (%s, serial %s); %s. "
                           "Nothing was written to it",
                           path, planned->devnode ?: "?", planned->serial ?: "none", b.data);
        strbuf_done(&b);
        return r;
}

/* The kernel name of the whole disk fd is open on: vda for 253:0. -ESTALE
 * for a partition, -ENOENT when sysfs does not know it. */
static int blockdev_name(dev_t devnum, char **ret) {
        _cleanup_free_ char *link = NULL, *part = NULL;
        char target[PATH_MAX];
        ssize_t n;

        link = strprintf("/sys/dev/block/%u:%u", major(devnum), minor(devnum));
        part = strprintf("/sys/dev/block/%u:%u/partition", major(devnum), minor(devnum));
        if (!link || !part)
                return -ENOMEM;
        n = readlink(link, target, sizeof target - 1);
        if (n < 0)
                return -errno;
        target[n] = 0;
        if (access(part, F_OK) == 0)
                return -ESTALE;
        const char *base = strrchr(target, '/');
        *ret = strdup(base ? base + 1 : target);
        return *ret ? 0 : -ENOMEM;
}

int disk_verify_identity_fd(const HwDisk *planned, int fd, const char *path, char **ret_error) {
        _cleanup_free_ char *name = NULL;
        HwDisk found = {};
        struct stat st;
        int r;

        if (!planned)
                return -EINVAL;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                return disk_error(ret_error, r, "Cannot stat %s: %s", path, strerror(-r));
        }
        /* A disk image (tests) has no identity beyond its size, which
         * disk_check_target() compares. */
        if (!S_ISBLK(st.st_mode))
                return 0;

        r = blockdev_name(st.st_rdev, &name);
        if (r == -ESTALE)
                return disk_error(ret_error, r, "Refusing to write %s: it is a partition, not the disk %s the plan was made for",
                                  path, planned->devnode ?: "?");
        if (r < 0)
                return disk_error(ret_error, -ESTALE,
                                  "Refusing to write %s: the kernel does not list it as a disk (%s); the plan was made for %s",
                                  path, strerror(-r), planned->devnode ?: "?");
        r = hw_disk_identify(NULL, name, &found);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return disk_error(ret_error, -ESTALE, "Refusing to write %s: cannot read what identifies it (%s)", path,
                                  strerror(-r));
        /* What the kernel says about the open device, not about a name. */
        found.major = major(st.st_rdev);
        found.minor = minor(st.st_rdev);
        r = disk_identity_compare(planned, &found, path, ret_error);
        hw_disk_free_contents(&found);
        return r;
}

int disk_verify_identity(const HwDisk *planned, const char *path, char **ret_error) {
        _cleanup_close_ int fd = -1;

        fd = disk_open(path, O_RDONLY | O_NONBLOCK, NULL, NULL);
        if (fd == -ENOTBLK)
                return disk_error(ret_error, fd, "Refusing to write %s: neither a block device nor a regular file", path);
        if (fd < 0)
                return disk_error(ret_error, fd, "Cannot open %s: %s", path, strerror(-fd));
        return disk_verify_identity_fd(planned, fd, path, ret_error);
}

const HwDisk *disk_planned_disk(const Plan *plan, const char *path) {
        const HwDisk *m = plan_mirror_disk(plan);

        if (m && path && (streq_ptr(path, m->devnode) || hw_disk_has_path(m, path)))
                return m;
        return plan_target_disk(plan);
}

int disk_verify_plan(const Plan *plan, char **ret_error) {
        const HwDisk *t = plan_target_disk(plan), *m = plan_mirror_disk(plan);
        int r;

        r = disk_verify_identity(t, t->devnode, ret_error);
        if (r < 0 || !m)
                return r;
        return disk_verify_identity(m, m->devnode, ret_error);
}
