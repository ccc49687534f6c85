/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Internal to installer/target: file operations confined to a target root.
 *
 * Every path is absolute as seen from inside the target ("/etc/hostname")
 * and is resolved component by component below a directory fd of the root,
 * like chroot(2) would: an absolute symlink restarts at the root, ".." stops
 * there. Writes never go through a symlink at the last component (the file
 * is replaced by rename), and a directory on the way that is not a
 * directory is an error. Nothing is followed out of the root. */

#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "basic/macro.h"
#include "basic/strutil.h"
#include "target/target.h"

#define TARGET_SYMLINK_MAX 40

/* Open the target root directory. Returns an fd or -errno. */
int target_root_open(const char *root);

typedef enum ChaseFlags {
        CHASE_FOLLOW = 1 << 0, /* also resolve a symlink at the last component (within the root) */
        CHASE_MKDIR = 1 << 1,  /* create missing directories on the way (0755, root-owned) */
} ChaseFlags;

/* Resolve path below rootfd. Returns in *ret_dirfd an fd of the directory
 * holding the last component and in *ret_name that component (a plain name,
 * which may not exist). -ENOENT/-ENOTDIR when a directory on the way is
 * missing or not a directory, -ELOOP after TARGET_SYMLINK_MAX symlinks,
 * -EISDIR when the path resolves to a directory itself ("/", "..."). */
int target_chase(int rootfd, const char *path, ChaseFlags flags, int *ret_dirfd, char **ret_name);

/* Resolve a directory (following symlinks within the root) and open it.
 * With CHASE_MKDIR, missing directories are created (0755, root-owned).
 * Returns an fd or -errno. */
int target_open_dir(int rootfd, const char *path, ChaseFlags flags);

/* Read a whole file (following symlinks within the root). Returns 0,
 * -ENOENT when absent, or -errno. ret_st may be NULL. */
int target_read_file(int rootfd, const char *path, char **ret, struct stat *ret_st);

/* Does path exist (following symlinks within the root)? 1, 0 or -errno. */
int target_exists(int rootfd, const char *path);

/* lstat of the last component, not following it. */
int target_lstat(int rootfd, const char *path, struct stat *ret);

/* Replace dirfd/name by a regular file holding data (written to a temporary
 * file, fsync'ed, renamed over name). A symlink at name is replaced, never
 * followed. */
int target_write_at(int dirfd, const char *name, const char *data, size_t size, mode_t mode, uid_t uid,
                    gid_t gid);
/* The same for a path below the root; missing parent directories are created. */
int target_write_file(int rootfd, const char *path, const char *data, size_t size, mode_t mode, uid_t uid,
                      gid_t gid);

/* Create or replace a symlink at path (parents created). */
int target_symlink(int rootfd, const char *path, const char *target);

/* Remove path (not following a symlink at it); 0 when absent. */
int target_unlink(int rootfd, const char *path);

/* Make a directory dirfd/name with mode and owner. An existing directory is
 * kept as it is (returns 0), anything else there is -EEXIST or -ENOTDIR.
 * Returns 1 when it was created. */
int target_mkdir_at(int dirfd, const char *name, mode_t mode, uid_t uid, gid_t gid);

/* Sorted names in the directory dirfd (without "." and ".."). */
int target_list_dir(int dirfd, char ***ret);

/* Copy the contents of directory from_fd into to_fd (files, directories,
 * symlinks; modes kept; everything owned by uid:gid). Existing entries in
 * to_fd are left alone. */
int target_copy_tree(int from_fd, int to_fd, uid_t uid, gid_t gid);

/* Build file contents with stdio: open_memstream wrapper. target_buf_done()
 * returns -ENOMEM if any write failed. */
typedef struct TargetBuf {
        FILE *f;
        char *data;
        size_t size;
} TargetBuf;
int target_buf_open(TargetBuf *b);
int target_buf_done(TargetBuf *b); /* closes f; data/size valid on success */
void target_buf_free(TargetBuf *b);

/* The profile checks the hostname; this only makes sure that nothing in it
 * can break the files it goes into (letters, digits, '-' and '.'). */
bool target_hostname_is_safe(const char *s);

/* Days since the epoch for /etc/shadow: $SOURCE_DATE_EPOCH if set, else now. */
long target_days_since_epoch(void);
