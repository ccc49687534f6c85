/* SPDX-License-Identifier: GPL-2.0-or-later */
/* LVM with the initramfs's /sbin/lvm (no udev there: its lvm.conf turns
 * udev sync and rules off, so libdevmapper makes the /dev nodes itself):
 * physical volumes, the volume group, its logical volumes in extents, and
 * the group deactivated at the end. */
#include <inttypes.h>
#include <stdlib.h>

#include "basic/process.h"
#include "basic/strutil.h"
#include "disk/disk-internal.h"
#include "disk/disk.h"

#define LVM "/sbin/lvm"

/* lvm's output, without its "File descriptor N leaked" notes. */
static int run_lvm_full(char *const argv[], bool cleanup, char **ret_output) {
        static char *const envp[] = { (char *) "LVM_SUPPRESS_FD_WARNINGS=1", (char *) "PATH=/sbin:/usr/sbin:/bin:/usr/bin",
                                      NULL };
        ProcessOptions o = { .envp = envp, .cleanup = cleanup };

        return process_run_opts(argv, &o, ret_output);
}

static int run_lvm(char *const argv[], char **ret_output) {
        return run_lvm_full(argv, false, ret_output);
}

int disk_lvm_create_vg(const char *vg, char *const pvs[], size_t n_pvs, char **ret_error) {
        _cleanup_free_ char *out = NULL;
        char *argv[8 + DISK_LVM_PV_MAX] = { (char *) LVM, (char *) "pvcreate", (char *) "--yes", (char *) "--dataalignment",
                                            (char *) "1m" };
        size_t k = 5;
        int r;

        if (n_pvs == 0 || n_pvs > DISK_LVM_PV_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n_pvs; i++)
                argv[k++] = pvs[i];
        argv[k] = NULL;
        r = run_lvm(argv, &out);
        if (r < 0)
                return disk_error(ret_error, r, "lvm pvcreate %s failed: %s", pvs[0], out && *out ? strstrip(out) : strerror(-r));

        char *argv2[8 + DISK_LVM_PV_MAX] = { (char *) LVM, (char *) "vgcreate", (char *) "--yes", (char *) "--physicalextentsize",
                                             (char *) "4m", (char *) vg };
        k = 6;
        for (size_t i = 0; i < n_pvs; i++)
                argv2[k++] = pvs[i];
        argv2[k] = NULL;
        free(out);
        out = NULL;
        r = run_lvm(argv2, &out);
        if (r < 0)
                return disk_error(ret_error, r, "lvm vgcreate %s failed: %s", vg, out && *out ? strstrip(out) : strerror(-r));
        return 0;
}

int disk_lvm_vg_extents(const char *vg, uint64_t *ret_extents, char **ret_error) {
        _cleanup_free_ char *out = NULL;
        char *argv[] = { (char *) LVM, (char *) "vgs", (char *) "--noheadings", (char *) "-o", (char *) "vg_extent_count",
                         (char *) vg, NULL };
        char *end = NULL;
        int r;

        r = run_lvm(argv, &out);
        if (r < 0)
                return disk_error(ret_error, r, "lvm vgs %s failed: %s", vg, out && *out ? strstrip(out) : strerror(-r));
        errno = 0;
        unsigned long long v = strtoull(strstrip(out), &end, 10);
        if (errno != 0 || !end || *end != 0)
                return disk_error(ret_error, -EPROTO, "lvm vgs %s: cannot read the extent count from '%s'", vg, out);
        *ret_extents = v;
        return 0;
}

int disk_lvm_create_lv(const char *vg, const char *lv, uint64_t extents, char **ret_error) {
        _cleanup_free_ char *count = extents > 0 ? strprintf("%" PRIu64, extents) : strdup("100%FREE"), *out = NULL;
        int r;

        if (!count)
                return -ENOMEM;
        /* --wipesignatures y (with --yes): old signatures where the volume
         * now lies are erased, no question asked. */
        char *argv[] = { (char *) LVM, (char *) "lvcreate", (char *) "--yes", (char *) "--wipesignatures", (char *) "y",
                         (char *) "--extents", count, (char *) "--name", (char *) lv, (char *) vg, NULL };
        r = run_lvm(argv, &out);
        if (r < 0)
                return disk_error(ret_error, r, "lvm lvcreate %s/%s (%s extents) failed: %s", vg, lv, count,
                                  out && *out ? strstrip(out) : strerror(-r));
        return 0;
}

int disk_lvm_deactivate(const char *vg, char **ret_error) {
        _cleanup_free_ char *out = NULL;
        char *argv[] = { (char *) LVM, (char *) "vgchange", (char *) "--activate", (char *) "n", (char *) vg, NULL };
        int r;

        /* Part of an unwind: runs after a signal too (basic/interrupt.h). */
        r = run_lvm_full(argv, true, &out);
        if (r < 0)
                return disk_error(ret_error, r, "lvm vgchange --activate n %s failed: %s", vg,
                                  out && *out ? strstrip(out) : strerror(-r));
        return 0;
}
