/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Dirty disks: before the target is written, release what the running
 * system holds on it (what an old install left and something assembled):
 * md arrays, LVM logical volumes, LUKS (and other device-mapper) mappings
 * built on its partitions, swap, mounted filesystems. Only stacks that are
 * built entirely on the target are released: one that also uses another
 * disk is refused, because stopping an md array updates the superblocks of
 * all its members, and another disk is never written. The kernel's sysfs
 * (holders/, slaves/) says what is stacked on what. */
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/swap.h>
#include <sys/sysmacros.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/process.h"
#include "basic/strutil.h"
#include "disk/disk-internal.h"

#define STACK_DEPTH_MAX 8

#define MDADM "/sbin/mdadm"
#define LVM "/sbin/lvm"
#define CRYPTSETUP "/sbin/cryptsetup"
#define DMSETUP "/sbin/dmsetup"

typedef struct Teardown {
        const char *path;       /* the target, as given */
        char **members;         /* kernel names of the target and its partitions: vda vda1 ... */
        char **done_vgs;        /* volume groups deactivated already */
        StrBuf summary;         /* what was released, for the report */
        char **ret_error;
} Teardown;

static void teardown_done(Teardown *t) {
        strv_free(t->members);
        strv_free(t->done_vgs);
        strbuf_done(&t->summary);
}

static int note(Teardown *t, const char *fmt, ...) _printf_(2, 3);
static int note(Teardown *t, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        s = strvprintf(fmt, ap);
        va_end(ap);
        if (!s)
                return -ENOMEM;
        log_debug("teardown of %s: %s", t->path, s);
        return strbuf_appendf(&t->summary, "%s%s", t->summary.len ? "; " : "", s);
}

static int read_attr(char **ret, const char *fmt, ...) _printf_(2, 3);
static int read_attr(char **ret, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        va_list ap;

        va_start(ap, fmt);
        p = strvprintf(fmt, ap);
        va_end(ap);
        return p ? read_one_line_file(p, ret) : -ENOMEM;
}

/* The entries of /sys/class/block/NAME/SUB (holders, slaves); none if absent. */
static int list_dir(char ***ret, const char *name, const char *sub) {
        _cleanup_free_ char *p = strprintf("/sys/class/block/%s/%s", name, sub);
        int r;

        if (!p)
                return -ENOMEM;
        r = dir_list_sorted(p, ret);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        return r;
}

/* The devices at the bottom of the stack below block device `name` (itself
 * when it has no slaves). */
static int collect_leaves(const char *name, char ***leaves, unsigned depth) {
        _cleanup_strv_free_ char **slaves = NULL;
        int r;

        if (depth > STACK_DEPTH_MAX)
                return -ELOOP;
        r = list_dir(&slaves, name, "slaves");
        if (r < 0)
                return r;
        if (!slaves || !slaves[0])
                return strv_contains(*leaves, name) ? 0 : strv_extend(leaves, name);
        for (char **s = slaves; *s; s++) {
                r = collect_leaves(*s, leaves, depth + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* "MAJOR:MINOR" of a block device by kernel name. */
static int devnum_of(const char *name, dev_t *ret) {
        _cleanup_free_ char *s = NULL;
        unsigned ma, mi;
        int r;

        r = read_attr(&s, "/sys/class/block/%s/dev", name);
        if (r < 0)
                return r;
        if (sscanf(s, "%u:%u", &ma, &mi) != 2)
                return -EINVAL;
        *ret = makedev(ma, mi);
        return 0;
}

/* Unmount every mount of device `name` (deepest first). The root of the
 * running system is never unmounted. */
static int release_mounts(Teardown *t, const char *name) {
        _cleanup_free_ char *data = NULL;
        _cleanup_strv_free_ char **where = NULL;
        char *save = NULL;
        dev_t devnum;
        int r;

        r = devnum_of(name, &devnum);
        if (r < 0)
                return disk_error(t->ret_error, r, "Cannot tell what %s is: %s", name, strerror(-r));
        r = read_full_file("/proc/self/mountinfo", &data, NULL);
        if (r < 0)
                return disk_error(t->ret_error, r, "Cannot read /proc/self/mountinfo: %s", strerror(-r));
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_free_ char *mp = NULL;
                unsigned ma, mi;

                if (sscanf(line, "%*u %*u %u:%u %*s %ms", &ma, &mi, &mp) != 3 || makedev(ma, mi) != devnum)
                        continue;
                disk_unescape_octal(mp);
                if (streq(mp, "/"))
                        return disk_error(t->ret_error, -EBUSY,
                                          "Refusing to write %s: /dev/%s is the running system's root filesystem", t->path,
                                          name);
                r = strv_extend(&where, mp);
                if (r < 0)
                        return r;
        }
        /* Later mounts (children) first: mountinfo lists in mount order. */
        for (size_t n = strv_length(where); n > 0; n--) {
                const char *mp = where[n - 1];
                if (umount2(mp, 0) < 0) {
                        r = -errno;
                        return disk_error(t->ret_error, r,
                                          "Refusing to write %s: /dev/%s is mounted on %s and cannot be unmounted: %s",
                                          t->path, name, mp, strerror(-r));
                }
                r = note(t, "unmounted /dev/%s from %s", name, mp);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int release_swap(Teardown *t, const char *name) {
        _cleanup_free_ char *data = NULL;
        char *save = NULL;
        bool header = true;
        dev_t devnum;
        int r;

        r = devnum_of(name, &devnum);
        if (r < 0)
                return disk_error(t->ret_error, r, "Cannot tell what %s is: %s", name, strerror(-r));
        r = read_full_file("/proc/swaps", &data, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return disk_error(t->ret_error, r, "Cannot read /proc/swaps: %s", strerror(-r));
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                struct stat st;

                if (header) {
                        header = false;
                        continue;
                }
                line[strcspn(line, " \t")] = 0;
                disk_unescape_octal(line);
                if (stat(line, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != devnum)
                        continue;
                if (swapoff(line) < 0) {
                        r = -errno;
                        return disk_error(t->ret_error, r, "Refusing to write %s: swap on %s cannot be turned off: %s",
                                          t->path, line, strerror(-r));
                }
                r = note(t, "swapoff %s", line);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int run_tool(Teardown *t, char *const argv[], const char *what) {
        _cleanup_free_ char *out = NULL;
        int r;

        r = process_run(argv, NULL, &out);
        if (r == -ENOENT)
                return disk_error(t->ret_error, r, "Refusing to write %s: %s needs %s, which this boot image does not have",
                                  t->path, what, argv[0]);
        if (r < 0)
                return disk_error(t->ret_error, r, "Refusing to write %s: %s failed: %s", t->path, what,
                                  out && *out ? strstrip(out) : strerror(-r));
        return note(t, "%s", what);
}

/* LVM's device-mapper name is VG-LV with '-' inside names doubled. */
static char *vg_of_dm_name(const char *dm) {
        StrBuf b = {};

        for (const char *p = dm; *p; p++) {
                if (*p == '-' && p[1] == '-') {
                        p++;
                } else if (*p == '-')
                        break;
                if (strbuf_append_n(&b, p, 1) < 0) {
                        strbuf_done(&b);
                        return NULL;
                }
        }
        return strbuf_steal(&b);
}

static bool is_member(const Teardown *t, const char *name) {
        return strv_contains(t->members, name);
}

/* Every physical volume of vg must be on the target: deactivating it is
 * harmless elsewhere, but the volume group would lose its PVs on the target. */
static int check_vg_on_target(Teardown *t, const char *vg) {
        _cleanup_free_ char *out = NULL;
        char *save = NULL;
        int r;

        r = process_run((char *const[]) { (char *) LVM, (char *) "pvs", (char *) "--noheadings", (char *) "--separator",
                                          (char *) ":", (char *) "-o", (char *) "pv_name,vg_name", NULL },
                        NULL, &out);
        if (r < 0)
                return disk_error(t->ret_error, r, "Refusing to write %s: cannot list LVM physical volumes: %s", t->path,
                                  out && *out ? strstrip(out) : strerror(-r));
        for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *pv = strstrip(line), *colon = strrchr(pv, ':');
                struct stat st;
                bool ours = false;

                if (!colon || !streq(colon + 1, vg))
                        continue;
                *colon = 0;
                if (stat(pv, &st) == 0 && S_ISBLK(st.st_mode))
                        for (char **m = t->members; *m && !ours; m++) {
                                dev_t d;
                                ours = devnum_of(*m, &d) == 0 && d == st.st_rdev;
                        }
                if (!ours)
                        return disk_error(t->ret_error, -EBUSY,
                                          "Refusing to write %s: volume group %s also has physical volume %s, which is not on "
                                          "the target; deactivate and remove it by hand",
                                          t->path, vg, pv);
        }
        return 0;
}

static int release_holder(Teardown *t, const char *name, unsigned depth);

/* Everything stacked on block device `name`, top down. */
static int release_holders_of(Teardown *t, const char *name, unsigned depth) {
        _cleanup_strv_free_ char **holders = NULL;
        int r;

        if (depth > STACK_DEPTH_MAX)
                return disk_error(t->ret_error, -ELOOP, "Refusing to write %s: devices stacked too deep on %s", t->path, name);
        r = list_dir(&holders, name, "holders");
        if (r < 0)
                return disk_error(t->ret_error, r, "Cannot list what holds %s: %s", name, strerror(-r));
        for (char **h = holders; h && *h; h++) {
                /* A holder may be gone already (a VG deactivated as a whole). */
                _cleanup_free_ char *dir = strprintf("/sys/class/block/%s", *h);
                if (!dir)
                        return -ENOMEM;
                if (access(dir, F_OK) < 0)
                        continue;
                r = release_holder(t, *h, depth + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int release_holder(Teardown *t, const char *name, unsigned depth) {
        _cleanup_strv_free_ char **leaves = NULL;
        _cleanup_free_ char *devnode = strprintf("/dev/%s", name), *dm_uuid = NULL, *dm_name = NULL;
        int r;

        if (!devnode)
                return -ENOMEM;

        /* Only what is built on the target alone. */
        r = collect_leaves(name, &leaves, 0);
        if (r < 0)
                return disk_error(t->ret_error, r, "Cannot tell what %s is built on: %s", devnode, strerror(-r));
        for (char **l = leaves; l && *l; l++)
                if (!is_member(t, *l))
                        return disk_error(t->ret_error, -EBUSY,
                                          "Refusing to write %s: %s is built on it and also on /dev/%s, which is not the "
                                          "target (releasing it could write to /dev/%s); stop it by hand",
                                          t->path, devnode, *l, *l);

        r = release_holders_of(t, name, depth);
        if (r < 0)
                return r;
        r = release_mounts(t, name);
        if (r < 0)
                return r;
        r = release_swap(t, name);
        if (r < 0)
                return r;

        if (startswith(name, "md")) {
                _cleanup_free_ char *what = strprintf("stopped md array %s", devnode);
                if (!what)
                        return -ENOMEM;
                return run_tool(t, (char *const[]) { (char *) MDADM, (char *) "--stop", devnode, NULL }, what);
        }
        if (!startswith(name, "dm-"))
                return disk_error(t->ret_error, -EBUSY, "Refusing to write %s: %s holds it, and the installer does not know "
                                  "how to release that", t->path, devnode);

        (void) read_attr(&dm_uuid, "/sys/class/block/%s/dm/uuid", name);
        r = read_attr(&dm_name, "/sys/class/block/%s/dm/name", name);
        if (r < 0)
                return disk_error(t->ret_error, r, "Cannot read the device-mapper name of %s: %s", devnode, strerror(-r));

        if (dm_uuid && startswith(dm_uuid, "LVM-")) {
                _cleanup_free_ char *vg = vg_of_dm_name(dm_name), *what = NULL;
                if (!vg)
                        return -ENOMEM;
                if (strv_contains(t->done_vgs, vg))
                        return 0;
                r = check_vg_on_target(t, vg);
                if (r < 0)
                        return r;
                what = strprintf("deactivated LVM volume group %s", vg);
                if (!what)
                        return -ENOMEM;
                r = run_tool(t, (char *const[]) { (char *) LVM, (char *) "vgchange", (char *) "--activate", (char *) "n", vg, NULL },
                             what);
                if (r < 0)
                        return r;
                return strv_extend(&t->done_vgs, vg);
        }
        if (dm_uuid && startswith(dm_uuid, "CRYPT-")) {
                _cleanup_free_ char *what = strprintf("closed %s mapping %s", startswith(dm_uuid, "CRYPT-LUKS") ? "LUKS" : "dm-crypt",
                                                      dm_name);
                if (!what)
                        return -ENOMEM;
                return run_tool(t, (char *const[]) { (char *) CRYPTSETUP, (char *) "close", dm_name, NULL }, what);
        }
        _cleanup_free_ char *what = strprintf("removed device-mapper device %s", dm_name);
        if (!what)
                return -ENOMEM;
        return run_tool(t, (char *const[]) { (char *) DMSETUP, (char *) "remove", dm_name, NULL }, what);
}

int disk_teardown(const char *path, char **ret_summary, char **ret_error) {
        _cleanup_(teardown_done) Teardown t = { .path = path, .ret_error = ret_error };
        _cleanup_strv_free_ char **children = NULL;
        _cleanup_free_ char *sys = NULL, *real = NULL;
        const char *disk;
        struct stat st;
        int r;

        if (stat(path, &st) < 0) {
                r = -errno;
                return disk_error(ret_error, r, "Cannot open %s: %s", path, strerror(-r));
        }
        if (!S_ISBLK(st.st_mode)) {
                *ret_summary = NULL; /* a disk image: nothing can hold it */
                return 0;
        }

        sys = strprintf("/sys/dev/block/%u:%u", major(st.st_rdev), minor(st.st_rdev));
        if (!sys)
                return -ENOMEM;
        real = realpath(sys, NULL);
        if (!real)
                return disk_error(ret_error, -errno, "Cannot find %s in sysfs: %m", path);
        disk = strrchr(real, '/') + 1;
        r = strv_extend(&t.members, disk);
        if (r < 0)
                return r;
        r = dir_list_sorted(real, &children);
        if (r < 0)
                return disk_error(ret_error, r, "Cannot list the partitions of %s: %s", path, strerror(-r));
        for (char **c = children; *c; c++) {
                _cleanup_free_ char *part = strprintf("%s/%s/partition", real, *c);
                if (!part)
                        return -ENOMEM;
                if (access(part, F_OK) == 0 && strv_extend(&t.members, *c) < 0)
                        return -ENOMEM;
        }

        /* Stacks first (they hold the partitions), then what uses the
         * partitions and the disk directly. */
        for (char **m = t.members; *m; m++) {
                r = release_holders_of(&t, *m, 0);
                if (r < 0)
                        return r;
        }
        for (char **m = t.members; *m; m++) {
                r = release_mounts(&t, *m);
                if (r >= 0)
                        r = release_swap(&t, *m);
                if (r < 0)
                        return r;
        }

        *ret_summary = t.summary.len ? strbuf_steal(&t.summary) : NULL;
        return 0;
}
