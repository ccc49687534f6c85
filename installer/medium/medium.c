/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Finding and mounting the installer's boot medium by filesystem label or
 * UUID. Read-only throughout: the devices are probed through read-only file
 * descriptors (libblkid, in hw/), and the medium is mounted MS_RDONLY. */
#include "medium/medium.h"

#include <ctype.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strutil.h"
#include "hw/hw.h"

int medium_spec_parse(const char *spec, MediumTag *ret_tag, const char **ret_value) {
        const char *v;
        MediumTag tag;

        if (!spec)
                return -EINVAL;
        if ((v = startswith(spec, "LABEL=")))
                tag = MEDIUM_LABEL;
        else if ((v = startswith(spec, "UUID=")))
                tag = MEDIUM_UUID;
        else
                return -EINVAL;
        if (!*v)
                return -EINVAL;
        for (const char *c = v; *c; c++)
                if (isspace((unsigned char) *c) || iscntrl((unsigned char) *c))
                        return -EINVAL;
        if (ret_tag)
                *ret_tag = tag;
        if (ret_value)
                *ret_value = v;
        return 0;
}

typedef struct Candidate {
        char *name;   /* sysfs name: sdb, sdb1 */
        char *parent; /* the disk of a partition, or NULL */
        char *fstype;
} Candidate;

static void candidates_free(Candidate *c, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(c[i].name);
                free(c[i].parent);
                free(c[i].fstype);
        }
        free(c);
}

/* The disk a partition belongs to: the directory above it in sysfs
 * (/sys/class/block/sdb1 -> ../../devices/.../block/sdb/sdb1). */
static char *partition_parent(const char *class_dir, const char *name) {
        _cleanup_free_ char *attr = strprintf("%s/%s/partition", class_dir, name);
        _cleanup_free_ char *link = strprintf("%s/%s", class_dir, name);
        char target[PATH_MAX];
        ssize_t n;

        if (!attr || !link || access(attr, F_OK) < 0)
                return NULL;
        n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
                return NULL;
        target[n] = 0;
        char *last = strrchr(target, '/');
        if (!last || last == target)
                return NULL;
        *last = 0;
        char *prev = strrchr(target, '/');
        return strdup(prev ? prev + 1 : target);
}

int medium_find(const char *sysroot, const char *dev_dir, const char *spec, char **ret_devnode, char **ret_fstype) {
        _cleanup_free_ char *class_dir = strprintf("%s/sys/class/block", sysroot ? sysroot : "");
        _cleanup_strv_free_ char **names = NULL;
        Candidate *found = NULL;
        size_t n_found = 0;
        const char *want;
        MediumTag tag;
        int r;

        if (!class_dir)
                return -ENOMEM;
        if (medium_spec_parse(spec, &tag, &want) < 0)
                return -EINVAL;
        dev_dir = dev_dir ? dev_dir : "/dev";
        r = dir_list_sorted(class_dir, &names);
        if (r < 0)
                return log_debug_errno(r, "Cannot list %s: %m", class_dir);

        for (size_t i = 0; names && names[i]; i++) {
                _cleanup_free_ char *sizef = strprintf("%s/%s/size", class_dir, names[i]);
                _cleanup_free_ char *dev = strprintf("%s/%s", dev_dir, names[i]);
                _cleanup_free_ char *fstype = NULL, *label = NULL, *uuid = NULL;
                uint64_t sectors = 0;

                if (!sizef || !dev) {
                        r = -ENOMEM;
                        goto finish;
                }
                /* Empty drives and unused loop devices have no size. */
                if (read_u64_file(sizef, &sectors) < 0 || sectors == 0)
                        continue;
                /* cciss!c0d0 is /dev/cciss/c0d0 */
                for (char *c = dev + strlen(dev_dir); *c; c++)
                        if (*c == '!')
                                *c = '/';
                r = hw_probe_filesystem(dev, &fstype, &label, &uuid);
                if (r <= 0) {
                        if (r < 0)
                                log_debug_errno(r, "Probing %s: %m", dev);
                        continue;
                }
                const char *have = tag == MEDIUM_LABEL ? label : uuid;
                if (!have || !(tag == MEDIUM_LABEL ? streq(have, want) : strcasecmp(have, want) == 0))
                        continue;

                Candidate *nf = realloc(found, (n_found + 1) * sizeof *found);
                if (!nf) {
                        r = -ENOMEM;
                        goto finish;
                }
                found = nf;
                found[n_found++] = (Candidate) { .name = strdup(names[i]),
                                                 .parent = partition_parent(class_dir, names[i]),
                                                 .fstype = TAKE_PTR(fstype) };
                if (!found[n_found - 1].name) {
                        r = -ENOMEM;
                        goto finish;
                }
        }

        /* A partition whose disk shows the same filesystem is that disk. */
        size_t kept = 0;
        for (size_t i = 0; i < n_found; i++) {
                bool dup = false;
                for (size_t k = 0; k < n_found && !dup; k++)
                        dup = k != i && found[i].parent && streq(found[i].parent, found[k].name);
                if (!dup)
                        found[kept++] = found[i];
                else {
                        free(found[i].name);
                        free(found[i].parent);
                        free(found[i].fstype);
                }
        }
        n_found = kept;

        if (n_found == 0) {
                r = -ENOENT;
                goto finish;
        }
        StrBuf list = {};
        for (size_t i = 0; i < n_found; i++) {
                char *c;
                if (strbuf_appendf(&list, "%s%s/%s", i ? ", " : "", dev_dir, found[i].name) < 0) {
                        strbuf_done(&list);
                        r = -ENOMEM;
                        goto finish;
                }
                c = list.data + list.len - strlen(found[i].name);
                for (; *c; c++)
                        if (*c == '!')
                                *c = '/';
        }
        *ret_devnode = strbuf_steal(&list);
        if (!*ret_devnode) {
                r = -ENOMEM;
                goto finish;
        }
        if (n_found > 1) {
                r = -ENOTUNIQ;
                goto finish;
        }
        if (ret_fstype)
                *ret_fstype = TAKE_PTR(found[0].fstype);
        r = 0;
finish:
        candidates_free(found, n_found);
        return r;
}

/* Is where a mount point (in /proc/self/mountinfo, field 5)? */
static bool is_mount_point(const char *where) {
        _cleanup_free_ char *data = NULL;
        char *save = NULL;

        if (read_full_file("/proc/self/mountinfo", &data, NULL) < 0)
                return false;
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char mp[PATH_MAX];
                if (sscanf(line, "%*u %*u %*u:%*u %*s %4095s", mp) == 1 && streq(mp, where))
                        return true;
        }
        return false;
}

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int medium_mount(const char *spec, const char *where, unsigned timeout_sec, char **ret_devnode) {
        _cleanup_free_ char *devnode = NULL, *fstype = NULL;
        double start = now_s();
        int r;

        if (medium_spec_parse(spec, NULL, NULL) < 0)
                return log_error_errno(-EINVAL, "inst.medium=%s: expected LABEL=NAME or UUID=UUID", spec ?: "");
        if (is_mount_point(where)) {
                log_info("%s is mounted already: using it as the medium", where);
                return 0;
        }

        for (;;) {
                free(devnode);
                devnode = NULL;
                r = medium_find(NULL, NULL, spec, &devnode, &fstype);
                if (r != -ENOENT)
                        break;
                if (now_s() - start >= timeout_sec)
                        return log_error_errno(r, "No block device has a filesystem with %s (waited %u s): "
                                               "is the installer medium attached?", spec, timeout_sec);
                usleep(500 * 1000);
        }
        if (r == -ENOTUNIQ)
                return log_error_errno(r, "Several devices have a filesystem with %s (%s): remove all but "
                                       "the installer medium", spec, devnode);
        if (r < 0)
                return log_error_errno(r, "Cannot look for the medium %s: %m", spec);

        r = mkdir_p(where, 0755);
        if (r < 0)
                return log_error_errno(r, "Cannot create %s: %m", where);
        if (mount(devnode, where, fstype, MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
                return log_error_errno(-errno, "Cannot mount %s (%s) read-only on %s: %m", devnode,
                                       fstype ? fstype : "?", where);
        log_info("Medium %s: %s (%s), mounted read-only on %s after %.1f s", spec, devnode, fstype ? fstype : "?",
                 where, now_s() - start);
        if (ret_devnode)
                *ret_devnode = TAKE_PTR(devnode);
        return 0;
}
