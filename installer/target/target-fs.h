/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* File operations confined to a target root (target-fs.c): the one way into
 * the installed system for every module that reads or writes it (target/,
 * boot/ for /boot, /etc/kernel and the EFI system partition mounted inside
 * the target).
 *
 * Every path is absolute as seen from inside the target ("/etc/hostname")
 * and is resolved component by component below a directory fd of the root,
 * like chroot(2) would: an absolute symlink restarts at the root, ".." stops
 * there. Writes never go through a symlink at the last component (the file
 * is replaced by rename), and a directory on the way that is not a
 * directory is an error. Nothing is followed out of the root.
 *
 * The "root" fd may be any directory: the EFI system partition's directory
 * fd serves as the root of the ESP (see CHASE_NO_SYMLINKS, CHASE_NO_CHMOD).
 *
 * All functions return >= 0 or -errno; they log at debug level only. */

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#define TARGET_SYMLINK_MAX 40

/* As the mode of target_write_at() and target_copy_fd_at(): the file is
 * created 0644 and neither chown()ed nor chmod()ed (FAT stores no owners or
 * modes and refuses a chmod it cannot store). */
#define TARGET_MODE_KEEP ((mode_t) -1)

/* Open the target root directory. Returns an fd or -errno. */
int target_root_open(const char *root);

typedef enum ChaseFlags {
        CHASE_FOLLOW = 1 << 0,      /* also resolve a symlink at the last component (within the root) */
        CHASE_MKDIR = 1 << 1,       /* create missing directories on the way (0755, root-owned) */
        CHASE_NO_SYMLINKS = 1 << 2, /* any symlink on the way, the last component included: -ELOOP
                                     * (a tree that cannot hold links: the ESP, FAT) */
        CHASE_NO_CHMOD = 1 << 3,    /* with CHASE_MKDIR: mkdir 0755 less the umask, never chmod()ed (FAT) */
} ChaseFlags;

/* Resolve path below rootfd. Returns in *ret_dirfd an fd of the directory
 * holding the last component and in *ret_name that component (a plain name,
 * which may not exist). -ENOENT/-ENOTDIR when a directory on the way is
 * missing or not a directory, -ELOOP after TARGET_SYMLINK_MAX symlinks (or
 * at the first one with CHASE_NO_SYMLINKS), -EISDIR when the path resolves
 * to a directory itself ("/", "..."). */
int target_chase(int rootfd, const char *path, ChaseFlags flags, int *ret_dirfd, char **ret_name);

/* Resolve a directory (following symlinks within the root, unless
 * CHASE_NO_SYMLINKS) and open it. With CHASE_MKDIR, missing directories are
 * created (0755, root-owned). Returns an fd or -errno (-ENOTDIR: not a
 * directory). */
int target_open_dir(int rootfd, const char *path, ChaseFlags flags);

/* The host path of a directory of the target, resolved as target_open_dir()
 * does, and checked (through /proc/self/fd) to be the root or below it: for
 * a program that takes a directory by name (extlinux --install). -EXDEV when
 * it is not below the root. ret_st (may be NULL) gets the directory's stat. */
int target_dir_host_path(int rootfd, const char *path, ChaseFlags flags, char **ret, struct stat *ret_st);

/* Open dirfd/name for reading: a regular file (checked before opening, so a
 * FIFO cannot block, and again on the open fd), never through a symlink.
 * Returns an fd, -ENOENT, -EISDIR, -EBADF (not a regular file: a device,
 * FIFO, socket or symlink) or -errno. ret_st (may be NULL) gets its stat. */
int target_open_file_at(int dirfd, const char *name, struct stat *ret_st);

/* The same for a path below the root (following symlinks within the root,
 * unless CHASE_NO_SYMLINKS). */
int target_open_file(int rootfd, const char *path, ChaseFlags flags, struct stat *ret_st);

/* Read a whole file (following symlinks within the root). Returns 0,
 * -ENOENT when absent, or -errno. ret_st may be NULL. */
int target_read_file(int rootfd, const char *path, char **ret, struct stat *ret_st);

/* Does path exist (following symlinks within the root)? 1, 0 or -errno. */
int target_exists(int rootfd, const char *path);

/* lstat of the last component, not following it. */
int target_lstat(int rootfd, const char *path, struct stat *ret);

/* Replace dirfd/name by a regular file holding data (written to a temporary
 * file, fsync'ed, renamed over name). A symlink at name is replaced, never
 * followed. mode may be TARGET_MODE_KEEP (then uid, gid are ignored). */
int target_write_at(int dirfd, const char *name, const char *data, size_t size, mode_t mode, uid_t uid,
                    gid_t gid);
/* The same for a path below the root; missing parent directories are created. */
int target_write_file(int rootfd, const char *path, const char *data, size_t size, mode_t mode, uid_t uid,
                      gid_t gid);

/* Replace dirfd/name, as target_write_at() does, by a copy of the whole of
 * the open file fd (read with pread() from offset 0, streamed: a kernel's
 * initrd is never held in memory). */
int target_copy_fd_at(int dirfd, const char *name, int fd, mode_t mode, uid_t uid, gid_t gid);

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
