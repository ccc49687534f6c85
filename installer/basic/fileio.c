/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/fileio.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "basic/strutil.h"

int read_full_fd(int fd, char **ret, size_t *ret_size) {
        StrBuf b = {};
        char chunk[65536];

        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        strbuf_done(&b);
                        return r;
                }
                if (n == 0)
                        break;
                if (strbuf_append_n(&b, chunk, (size_t) n) < 0) {
                        strbuf_done(&b);
                        return -ENOMEM;
                }
        }
        if (ret_size)
                *ret_size = b.len;
        *ret = strbuf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

int read_full_file(const char *path, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, ret, ret_size);
}

int read_regular_file(const char *path, size_t max_size, char **ret, size_t *ret_size) {
        StrBuf b = {};
        struct stat st;
        char chunk[65536];
        int r;

        /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t) st.st_size > max_size)
                return -EFBIG;
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto fail;
                }
                if (n == 0)
                        break;
                if (b.len + (size_t) n > max_size) { /* grew while being read */
                        r = -EFBIG;
                        goto fail;
                }
                if (strbuf_append_n(&b, chunk, (size_t) n) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        if (strbuf_append(&b, "") < 0) {
                r = -ENOMEM;
                goto fail;
        }
        if (ret_size)
                *ret_size = b.len;
        *ret = strbuf_steal(&b);
        return *ret ? 0 : -ENOMEM;
fail:
        if (b.data)
                explicit_bzero(b.data, b.len);
        strbuf_done(&b);
        return r;
}

int read_one_line_file(const char *path, char **ret) {
        _cleanup_free_ char *s = NULL;
        int r = read_full_file(path, &s, NULL);
        if (r < 0)
                return r;
        char *nl = strchr(s, '\n');
        if (nl)
                *nl = 0;
        strstrip(s);
        *ret = TAKE_PTR(s);
        return 0;
}

int read_u64_file(const char *path, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        char *end;
        int r = read_one_line_file(path, &s);
        if (r < 0)
                return r;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 0);
        if (errno != 0 || end == s || *end != 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

int write_all(int fd, const void *data, size_t size) {
        const char *p = data;
        while (size > 0) {
                ssize_t n = write(fd, p, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

int write_file_atomic(const char *path, const char *data, size_t size, mode_t mode) {
        _cleanup_free_ char *tmp = strprintf("%s.tmp", path);
        _cleanup_close_ int fd = -1;
        int r;

        if (!tmp)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        r = write_all(fd, data, size);
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
                r = -errno;
                unlink(tmp);
                return r;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                unlink(tmp);
                return r;
        }
        return 0;
}

int copy_file_atomic(const char *from, const char *to, mode_t mode) {
        _cleanup_free_ char *tmp = strprintf("%s.tmp", to);
        _cleanup_close_ int in = -1, out = -1;
        char buf[64 * 1024];
        ssize_t n;
        int r = 0;

        if (!tmp)
                return -ENOMEM;
        in = open(from, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return -errno;
        out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (out < 0)
                return -errno;
        while ((n = read(in, buf, sizeof buf)) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                r = write_all(out, buf, (size_t) n);
                if (r < 0)
                        break;
        }
        if (r >= 0 && (fsync(out) < 0 || rename(tmp, to) < 0))
                r = -errno;
        if (r < 0)
                unlink(tmp);
        return r;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

char *path_join_root(const char *root, const char *path) {
        if (!root || !*root || streq(root, "/"))
                return strdup(path);
        size_t n = strlen(root);
        while (n > 1 && root[n - 1] == '/')
                n--;
        return strprintf("%.*s%s%s", (int) n, root, path[0] == '/' ? "" : "/", path);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int dir_list_sorted(const char *path, char ***ret) {
        DIR *d = opendir(path);
        _cleanup_strv_free_ char **l = NULL;
        struct dirent *de;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (strv_extend(&l, de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
        }
        closedir(d);
        if (l)
                qsort(l, strv_length(l), sizeof(char *), cmp_str);
        else {
                l = new0(char *, 1);
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}
