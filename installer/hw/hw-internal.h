/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Internal to installer/hw: reading /sys and /proc below a sysroot. */

#include "hw/hw.h"

typedef struct HwCtx {
        const char *sysroot;   /* NULL or "/" for the running system */
} HwCtx;

/* sysroot + the formatted absolute path; NULL on OOM. */
char *hw_path(const HwCtx *c, const char *fmt, ...) _printf_(2, 3);

/* Read a sysfs attribute (the first line, trailing white space stripped).
 * Absent or empty attributes leave *ret alone and return 0; only -ENOMEM is
 * an error. */
int hw_read_attr(const HwCtx *c, char **ret, const char *fmt, ...) _printf_(3, 4);

/* A whole binary attribute (vpd_pg83). Absent: *ret = NULL, 0. */
int hw_read_blob(const HwCtx *c, char **ret, size_t *ret_size, const char *fmt, ...) _printf_(4, 5);

/* The disk's device below /sys/devices as components
 * ("pci0000:00", "0000:00:05.0", "ata1", ..., "block", "sda"), from the
 * /sys/block/NAME link. -ENOENT when it cannot be resolved. */
int hw_disk_devpath(const HwCtx *c, const char *name, char ***ret);

/* The names udev gives the disk: d->by_id, d->by_path, d->wwn (and, for
 * ATA disks, the full model and serial from the IDENTIFY data). */
int hw_disk_names(const HwCtx *c, HwDisk *d, char **devpath);

/* Mark disks that are, or hold, a filesystem mounted in the running system
 * (/proc/self/mountinfo) as the boot medium. */
int hw_mark_boot_medium(const HwCtx *c, Inventory *inv);
