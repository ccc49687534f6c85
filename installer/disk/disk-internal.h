/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/stat.h>

#include "disk/disk.h"

/* Set *ret_error (when non-NULL) to the formatted message, log it at debug
 * level, and return r (a -errno). */
int disk_error(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);

/* Open a disk (block device or regular file) with the given open(2) flags
 * (O_CLOEXEC is added). Returns the file descriptor, with its stat and size
 * in bytes, or -errno; -ENOTBLK for anything but a block device or a regular
 * file. */
int disk_open(const char *path, int flags, struct stat *ret_st, uint64_t *ret_size);

/* Probe the filesystem on path (a partition or a file) with libblkid.
 * Returns 0 with its TYPE and UUID (either may be NULL), -ENOENT when nothing
 * is found, -ENOTUNIQ when ambiguous, or another -errno. */
int disk_probe_fs(const char *path, char **ret_type, char **ret_uuid);

/* Undo the octal escapes of /proc/self/mountinfo and /proc/swaps (\040), in place. */
void disk_unescape_octal(char *s);

/* 1 when path carries a valid install-in-progress mark, 0 when not, -errno. */
int disk_has_mark(const char *path);

/* After the partition table is written: the mark (if any) gets the table's
 * PTUUID; without a mark the boot code area is zeroed. fsync()s. */
int disk_mark_after_partition(int fd, const char *path, char **ret_error);

/* Zero the MBR boot code area (bytes 0-439) of the disk fd is open on. */
int disk_zero_boot_code(int fd);

/* The disk fd (size bytes) cannot boot until boot code is written again:
 * the MBR boot code zeroed (an install-in-progress mark there stays), the active flag cleared on the four MBR entries,
 * the legacy BIOS bootable attribute cleared on every GPT entry (primary and
 * backup tables, checksums updated; a table that does not verify is left
 * alone). The disk signature and everything else stay. 0 or -errno. */
int disk_make_unbootable(int fd, uint64_t size, const char *path, char **ret_error);
