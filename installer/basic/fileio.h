/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* File helpers. libc only. */

#include <stdint.h>
#include <sys/types.h>

#include "basic/macro.h"

/* Read a whole file into a NUL-terminated buffer. Returns 0 or -errno. */
int read_full_file(const char *path, char **ret, size_t *ret_size);
/* The same from an open file descriptor, read to its end. */
int read_full_fd(int fd, char **ret, size_t *ret_size);

/* Read the regular file path, of at most max_size bytes, into a
 * NUL-terminated buffer. Opened without waiting (a FIFO is never read) and
 * checked with fstat() after open. Returns 0, -EISDIR (a directory), -EBADFD
 * (a FIFO, socket or device), -EFBIG (larger than max_size, checked before
 * reading and while reading), or -errno from open/read. */
int read_regular_file(const char *path, size_t max_size, char **ret, size_t *ret_size);

/* Read the first line of a file (sysfs attribute), stripped of trailing white
 * space. Returns 0, or -errno (-ENOENT when absent). */
int read_one_line_file(const char *path, char **ret);

/* Read an unsigned integer from a sysfs-style file. */
int read_u64_file(const char *path, uint64_t *ret);

/* Write all of data to fd, retrying short writes and EINTR. 0 or -errno. */
int write_all(int fd, const void *data, size_t size);

/* Write a whole buffer to path (created with mode, truncated). Returns 0 or
 * -errno. Written to path.tmp first and renamed, so readers never see half a
 * file. */
int write_file_atomic(const char *path, const char *data, size_t size, mode_t mode);

/* Copy the regular file from to path to, as write_file_atomic() does (to.tmp,
 * fsync, rename), streaming: the file is never held in memory whole. The
 * copy is created with mode less the umask and not chmod()ed, so that it
 * works on FAT (which refuses modes it cannot store). */
int copy_file_atomic(const char *from, const char *to, mode_t mode);

/* mkdir -p with mode for created directories. */
int mkdir_p(const char *path, mode_t mode);

/* Join a root prefix and an absolute path: ("/sysroot", "/sys/block") ->
 * "/sysroot/sys/block". root may be NULL or "" or "/". Returns NULL on OOM. */
char *path_join_root(const char *root, const char *path);

/* Loop over the entries of a directory in sorted order, skipping "." and
 * "..". Returns a NULL-terminated, sorted vector of names (free with
 * strv_free), or -errno. */
int dir_list_sorted(const char *path, char ***ret);
