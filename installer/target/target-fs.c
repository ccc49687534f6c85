/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File operations confined to the target root. An image is data we did not
 * make: /etc/hostname may be a symlink to the installer's own /etc/shadow,
 * /etc may be a symlink to "../../..". So paths are resolved here one
 * component at a time below a directory fd of the root, the way the kernel
 * would inside chroot(ROOT) (openat2's RESOLVE_IN_ROOT, done by hand so that
 * it works on every kernel and under seccomp filters that refuse openat2),
 * and files are replaced by rename instead of being opened for writing. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <time.h>

#include "basic/log.h"
#include "basic/fileio.h"
#include "basic/strutil.h"
#include "target/target-internal.h"

#define CHASE_DEPTH_MAX 128
#define COPY_DEPTH_MAX 32

int target_root_open(const char *root) {
        int fd;

        if (!root || !*root)
                return -EINVAL;
        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_debug_errno(errno, "Cannot open target root %s: %m", root);
        return fd;
}

static int dup_cloexec(int fd) {
        int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        return r < 0 ? -errno : r;
}

static int read_link_at(int dirfd, const char *name, char **ret) {
        for (size_t size = 256; size <= PATH_MAX * 2; size *= 2) {
                _cleanup_free_ char *buf = malloc(size);
                ssize_t n;

                if (!buf)
                        return -ENOMEM;
                n = readlinkat(dirfd, name, buf, size);
                if (n < 0)
                        return -errno;
                if ((size_t) n < size) {
                        buf[n] = 0;
                        *ret = TAKE_PTR(buf);
                        return 0;
                }
        }
        return -ENAMETOOLONG;
}

/* A missing directory on the way: 0755 whatever the umask (networkd, for
 * one, reads /etc/systemd/network as an unprivileged user). On FAT
 * (CHASE_NO_CHMOD) what mkdir gives: a chmod there fails for modes the
 * mount options do not allow. */
static int mkdir_0755(int dirfd, const char *name, ChaseFlags flags) {
        _cleanup_close_ int fd = -1;

        if (flags & CHASE_NO_CHMOD)
                return mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST ? -errno : 0;
        if (mkdirat(dirfd, name, 0700) < 0)
                return errno == EEXIST ? 0 : -errno;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fchmod(fd, 0755) < 0)
                return -errno;
        return 0;
}

typedef struct Chase {
        int rootfd;
        int stack[CHASE_DEPTH_MAX]; /* directories entered below the root */
        size_t depth;
} Chase;

static int chase_cur(const Chase *c) {
        return c->depth > 0 ? c->stack[c->depth - 1] : c->rootfd;
}

static void chase_pop_all(Chase *c) {
        while (c->depth > 0)
                close(c->stack[--c->depth]);
}

/* The core: resolve path. On success *ret_dirfd is the directory reached and
 * *ret_name the last component in it (NULL when the path named a directory
 * by ending in "/", ".", ".." or a symlink to one). */
static int chase_internal(int rootfd, const char *path, ChaseFlags flags, int *ret_dirfd, char **ret_name) {
        Chase c = { .rootfd = rootfd };
        _cleanup_free_ char *todo = NULL;
        unsigned links = 0;
        const char *p;
        int r;

        if (!path || rootfd < 0)
                return -EINVAL;
        todo = strdup(path);
        if (!todo)
                return -ENOMEM;

        for (p = todo;;) {
                char name[NAME_MAX + 1];
                const char *rest;
                struct stat st;
                size_t n;
                bool last;

                p += strspn(p, "/");
                if (!*p) {
                        /* The path named a directory: the current one. */
                        r = c.depth > 0 ? c.stack[--c.depth] : dup_cloexec(rootfd);
                        if (r < 0)
                                goto fail;
                        *ret_dirfd = r;
                        *ret_name = NULL;
                        chase_pop_all(&c);
                        return 0;
                }
                n = strcspn(p, "/");
                if (n > NAME_MAX) {
                        r = -ENAMETOOLONG;
                        goto fail;
                }
                memcpy(name, p, n);
                name[n] = 0;
                rest = p + n + strspn(p + n, "/");
                last = !*rest;

                if (streq(name, ".")) {
                        p = rest;
                        continue;
                }
                if (streq(name, "..")) {
                        /* Never above the root. */
                        if (c.depth > 0)
                                close(c.stack[--c.depth]);
                        p = rest;
                        continue;
                }

                if (fstatat(chase_cur(&c), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT) {
                                r = -errno;
                                goto fail;
                        }
                        if (last)
                                goto found;
                        if (!(flags & CHASE_MKDIR)) {
                                r = -ENOENT;
                                goto fail;
                        }
                        r = mkdir_0755(chase_cur(&c), name, flags);
                        if (r < 0)
                                goto fail;
                        if (fstatat(chase_cur(&c), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                                r = -errno;
                                goto fail;
                        }
                }

                if (S_ISLNK(st.st_mode) && (flags & CHASE_NO_SYMLINKS)) {
                        r = -ELOOP;
                        goto fail;
                }
                if (S_ISLNK(st.st_mode) && (!last || (flags & CHASE_FOLLOW))) {
                        _cleanup_free_ char *target = NULL;
                        char *next;

                        if (++links > TARGET_SYMLINK_MAX) {
                                r = -ELOOP;
                                goto fail;
                        }
                        r = read_link_at(chase_cur(&c), name, &target);
                        if (r < 0)
                                goto fail;
                        if (target[0] == '/')
                                chase_pop_all(&c); /* absolute: from the root of the target */
                        next = strprintf("%s%s%s", target, *rest ? "/" : "", rest);
                        if (!next) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        free(todo);
                        p = todo = next;
                        continue;
                }

                if (last)
                        goto found;

                if (!S_ISDIR(st.st_mode)) {
                        r = -ENOTDIR;
                        goto fail;
                }
                if (c.depth >= CHASE_DEPTH_MAX) {
                        r = -ENAMETOOLONG;
                        goto fail;
                }
                r = openat(chase_cur(&c), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (r < 0) {
                        r = -errno;
                        goto fail;
                }
                c.stack[c.depth++] = r;
                p = rest;
                continue;

        found:
                *ret_name = strdup(name);
                if (!*ret_name) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = c.depth > 0 ? c.stack[--c.depth] : dup_cloexec(rootfd);
                if (r < 0) {
                        free(TAKE_PTR(*ret_name));
                        goto fail;
                }
                *ret_dirfd = r;
                chase_pop_all(&c);
                return 0;
        }

fail:
        chase_pop_all(&c);
        return r;
}

int target_chase(int rootfd, const char *path, ChaseFlags flags, int *ret_dirfd, char **ret_name) {
        _cleanup_close_ int dirfd = -1;
        char *name = NULL;
        int r;

        r = chase_internal(rootfd, path, flags, &dirfd, &name);
        if (r < 0)
                return r;
        if (!name)
                return -EISDIR;
        *ret_dirfd = TAKE_FD(dirfd);
        *ret_name = name;
        return 0;
}

int target_open_dir(int rootfd, const char *path, ChaseFlags flags) {
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ char *name = NULL;
        int r, fd;

        r = chase_internal(rootfd, path, flags | CHASE_FOLLOW, &dirfd, &name);
        if (r < 0)
                return r;
        if (!name)
                return TAKE_FD(dirfd);
        if (flags & CHASE_MKDIR) {
                r = mkdir_0755(dirfd, name, flags);
                if (r < 0)
                        return r;
        }
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ELOOP ? -ENOTDIR : -errno;
        return fd;
}


int target_dir_host_path(int rootfd, const char *path, ChaseFlags flags, char **ret, struct stat *ret_st) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *root_path = NULL, *dir_path = NULL;
        char proc[64];
        const char *rest;
        int r;

        fd = target_open_dir(rootfd, path, flags);
        if (fd < 0)
                return fd;
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", rootfd);
        r = read_link_at(AT_FDCWD, proc, &root_path);
        if (r < 0)
                return r;
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        r = read_link_at(AT_FDCWD, proc, &dir_path);
        if (r < 0)
                return r;
        /* Belt and braces: what the kernel says the directory is. */
        rest = streq(root_path, "/") ? dir_path : startswith(dir_path, root_path);
        if (!rest || (*rest != '/' && *rest != 0) || dir_path[0] != '/')
                return log_debug_errno(-EXDEV, "%s resolves to %s, outside the target %s", path, dir_path, root_path);
        if (ret_st && fstat(fd, ret_st) < 0)
                return -errno;
        *ret = TAKE_PTR(dir_path);
        return 0;
}

int target_open_file_at(int dirfd, const char *name, struct stat *ret_st) {
        _cleanup_close_ int fd = -1;
        struct stat st, fst;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return S_ISDIR(st.st_mode) ? -EISDIR : -EBADF;
        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return errno == ELOOP ? -EBADF : -errno;
        /* Replaced in between? */
        if (fstat(fd, &fst) < 0)
                return -errno;
        if (!S_ISREG(fst.st_mode) || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino)
                return -EBADF;
        if (ret_st)
                *ret_st = fst;
        return TAKE_FD(fd);
}

int target_open_file(int rootfd, const char *path, ChaseFlags flags, struct stat *ret_st) {
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ char *name = NULL;
        int r;

        r = target_chase(rootfd, path, (flags & CHASE_NO_SYMLINKS) ? flags : flags | CHASE_FOLLOW, &dirfd, &name);
        if (r < 0)
                return r;
        return target_open_file_at(dirfd, name, ret_st);
}

/* Read dirfd/name, a regular file (checked before opening: a FIFO would block). */
static int read_file_at(int dirfd, const char *name, char **ret, size_t *ret_size, struct stat *ret_st) {
        _cleanup_close_ int fd = -1;

        fd = target_open_file_at(dirfd, name, ret_st);
        if (fd < 0)
                return fd;
        return read_full_fd(fd, ret, ret_size);
}

int target_read_file(int rootfd, const char *path, char **ret, struct stat *ret_st) {
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ char *name = NULL;
        int r;

        r = target_chase(rootfd, path, CHASE_FOLLOW, &dirfd, &name);
        if (r < 0)
                return r;
        return read_file_at(dirfd, name, ret, NULL, ret_st);
}

int target_exists(int rootfd, const char *path) {
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ char *name = NULL;
        struct stat st;
        int r;

        r = chase_internal(rootfd, path, CHASE_FOLLOW, &dirfd, &name);
        if (r == -ENOENT || r == -ENOTDIR)
                return 0;
        if (r < 0)
                return r;
        if (!name)
                return 1;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 1;
}

int target_lstat(int rootfd, const char *path, struct stat *ret) {
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ char *name = NULL;
        int r;

        r = target_chase(rootfd, path, 0, &dirfd, &name);
        if (r < 0)
                return r;
        if (fstatat(dirfd, name, ret, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

static char *tmp_name(const char *name) {
        return strprintf(".#%s.installer-tmp", name);
}

/* Copy all of the file in (from offset 0) to out. */
static int copy_fd_data(int in, int out) {
        char buf[64 * 1024];
        off_t off = 0;

        for (;;) {
                ssize_t n = pread(in, buf, sizeof buf, off);
                int r;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return 0;
                r = write_all(out, buf, (size_t) n);
                if (r < 0)
                        return r;
                off += n;
        }
}

/* dirfd/name replaced by what is in data (or, without data, in the file
 * src), through a temporary file in the same directory. */
static int replace_at(int dirfd, const char *name, const char *data, size_t size, int src, mode_t mode, uid_t uid,
                      gid_t gid) {
        _cleanup_free_ char *tmp = tmp_name(name);
        _cleanup_close_ int fd = -1;
        bool keep = mode == TARGET_MODE_KEEP;
        int r;

        if (!tmp)
                return -ENOMEM;
        if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT)
                return -errno;
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, keep ? 0644 : 0600);
        if (fd < 0)
                return -errno;
        r = src < 0 ? write_all(fd, data, size) : copy_fd_data(src, fd);
        if (r < 0)
                goto fail;
        /* chown first: it would clear set-id bits set before it. */
        if ((!keep && (fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0)) || fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        if (renameat(dirfd, tmp, dirfd, name) < 0) {
                r = -errno;
                goto fail;
        }
        return 0;
fail:
        (void) unlinkat(dirfd, tmp, 0);
        return r;
}

int target_write_at(int dirfd, const char *name, const char *data, size_t size, mode_t mode, uid_t uid,
                    gid_t gid) {
        if (!data && size > 0)
                return -EINVAL;
        return replace_at(dirfd, name, data, size, -1, mode, uid, gid);
}

int target_copy_fd_at(int dirfd, const char *name, int fd, mode_t mode, uid_t uid, gid_t gid) {
        if (fd < 0)
                return -EBADF;
        return replace_at(dirfd, name, NULL, 0, fd, mode, uid, gid);
}

int target_write_file(int rootfd, const char *path, const char *data, size_t size, mode_t mode, uid_t uid,
                      gid_t gid) {
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ char *name = NULL;
        int r;

        r = target_chase(rootfd, path, CHASE_MKDIR, &dirfd, &name);
        if (r < 0)
                return log_debug_errno(r, "Cannot resolve %s in the target: %m", path);
        r = target_write_at(dirfd, name, data, size, mode, uid, gid);
        if (r < 0)
                return log_debug_errno(r, "Cannot write %s in the target: %m", path);
        log_debug("Wrote %s (%zu bytes, mode %04o, owner %u:%u)", path, size, (unsigned) mode, (unsigned) uid,
                  (unsigned) gid);
        return 0;
}

int target_symlink(int rootfd, const char *path, const char *target) {
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ char *name = NULL, *tmp = NULL, *old = NULL;
        int r;

        r = target_chase(rootfd, path, CHASE_MKDIR, &dirfd, &name);
        if (r < 0)
                return log_debug_errno(r, "Cannot resolve %s in the target: %m", path);
        if (read_link_at(dirfd, name, &old) >= 0 && streq(old, target))
                return 0;
        tmp = tmp_name(name);
        if (!tmp)
                return -ENOMEM;
        if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT)
                return -errno;
        if (symlinkat(target, dirfd, tmp) < 0)
                return log_debug_errno(errno, "Cannot create symlink %s: %m", path);
        if (renameat(dirfd, tmp, dirfd, name) < 0) {
                r = -errno;
                (void) unlinkat(dirfd, tmp, 0);
                return log_debug_errno(r, "Cannot create symlink %s: %m", path);
        }
        log_debug("Linked %s -> %s", path, target);
        return 0;
}

int target_unlink(int rootfd, const char *path) {
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ char *name = NULL;
        int r;

        r = target_chase(rootfd, path, 0, &dirfd, &name);
        if (r == -ENOENT || r == -ENOTDIR)
                return 0;
        if (r < 0)
                return r;
        if (unlinkat(dirfd, name, 0) < 0) {
                if (errno == ENOENT)
                        return 0;
                return log_debug_errno(errno, "Cannot remove %s: %m", path);
        }
        log_debug("Removed %s", path);
        return 0;
}

int target_mkdir_at(int dirfd, const char *name, mode_t mode, uid_t uid, gid_t gid) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (mkdirat(dirfd, name, 0700) < 0) {
                if (errno != EEXIST)
                        return -errno;
                if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
        }
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0)
                return -errno;
        return 1;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Sorted names in directory fd (not . and ..). */
static int list_dir_fd(int fd, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        struct dirent *de;
        DIR *d;
        int dfd;

        dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d) {
                int r = -errno;
                close(dfd);
                return r;
        }
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (strv_extend(&l, de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
        }
        if (errno != 0) {
                int r = -errno;
                closedir(d);
                return r;
        }
        closedir(d);
        if (!l) {
                l = new0(char *, 1);
                if (!l)
                        return -ENOMEM;
        }
        qsort(l, strv_length(l), sizeof(char *), cmp_str);
        *ret = TAKE_PTR(l);
        return 0;
}

int target_list_dir(int dirfd, char ***ret) {
        return list_dir_fd(dirfd, ret);
}

static int copy_tree(int from_fd, int to_fd, uid_t uid, gid_t gid, unsigned depth) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        if (depth > COPY_DEPTH_MAX)
                return -ELOOP;
        r = list_dir_fd(from_fd, &names);
        if (r < 0)
                return r;

        for (char **n = names; *n; n++) {
                struct stat st, dst;

                if (fstatat(from_fd, *n, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (fstatat(to_fd, *n, &dst, AT_SYMLINK_NOFOLLOW) >= 0 && !S_ISDIR(st.st_mode))
                        continue; /* keep what is there */

                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub_from = -1, sub_to = -1;

                        r = target_mkdir_at(to_fd, *n, st.st_mode & 0777, uid, gid);
                        if (r < 0)
                                return r;
                        sub_from = openat(from_fd, *n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        sub_to = openat(to_fd, *n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub_from < 0 || sub_to < 0)
                                return -errno;
                        r = copy_tree(sub_from, sub_to, uid, gid, depth + 1);
                        if (r < 0)
                                return r;
                } else if (S_ISREG(st.st_mode)) {
                        _cleanup_free_ char *data = NULL;
                        size_t size;

                        r = read_file_at(from_fd, *n, &data, &size, NULL);
                        if (r < 0)
                                return r;
                        r = target_write_at(to_fd, *n, data, size, st.st_mode & 0777, uid, gid);
                        if (r < 0)
                                return r;
                } else if (S_ISLNK(st.st_mode)) {
                        _cleanup_free_ char *target = NULL;

                        r = read_link_at(from_fd, *n, &target);
                        if (r < 0)
                                return r;
                        if (symlinkat(target, to_fd, *n) < 0 ||
                            fchownat(to_fd, *n, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                                return -errno;
                }
                /* Devices, FIFOs and sockets do not belong in a skeleton. */
        }
        return 0;
}

int target_copy_tree(int from_fd, int to_fd, uid_t uid, gid_t gid) {
        return copy_tree(from_fd, to_fd, uid, gid, 0);
}

int target_buf_open(TargetBuf *b) {
        *b = (TargetBuf) {};
        b->f = open_memstream(&b->data, &b->size);
        return b->f ? 0 : -ENOMEM;
}

int target_buf_done(TargetBuf *b) {
        bool bad;

        if (!b->f)
                return -EINVAL;
        bad = ferror(b->f);
        if (fclose(b->f) != 0)
                bad = true;
        b->f = NULL;
        if (bad || !b->data) {
                free(b->data);
                b->data = NULL;
                b->size = 0;
                return -ENOMEM;
        }
        return 0;
}

void target_buf_free(TargetBuf *b) {
        if (b->f)
                fclose(b->f);
        free(b->data);
        *b = (TargetBuf) {};
}

long target_days_since_epoch(void) {
        const char *s = getenv("SOURCE_DATE_EPOCH");
        long long t = -1;

        if (s && *s) {
                char *end;

                errno = 0;
                t = strtoll(s, &end, 10);
                if (errno != 0 || *end != 0 || t < 0) {
                        log_debug("Ignoring invalid SOURCE_DATE_EPOCH");
                        t = -1;
                }
        }
        if (t < 0)
                t = (long long) time(NULL);
        return (long) (t / 86400);
}
