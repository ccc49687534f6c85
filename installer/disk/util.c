/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the disk module: error messages, opening a disk, probing
 * a filesystem with libblkid. */
#include <blkid/blkid.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <sys/ioctl.h>

#include "basic/log.h"
#include "disk/disk-internal.h"
#include "hw/hw.h"

int disk_error(char **ret_error, int r, const char *fmt, ...) {
        char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);

        if (msg)
                log_debug("%s", msg);
        if (ret_error)
                *ret_error = msg;
        else
                free(msg);
        return r;
}

int disk_open(const char *path, int flags, struct stat *ret_st, uint64_t *ret_size) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        uint64_t size;

        fd = open(path, flags | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISBLK(st.st_mode)) {
                if (ioctl(fd, BLKGETSIZE64, &size) < 0)
                        return -errno;
        } else if (S_ISREG(st.st_mode))
                size = (uint64_t) st.st_size;
        else
                return -ENOTBLK;

        if (ret_st)
                *ret_st = st;
        if (ret_size)
                *ret_size = size;
        return TAKE_FD(fd);
}

int disk_probe_fs(const char *path, char **ret_type, char **ret_uuid) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *type = NULL, *uuid = NULL;
        const char *v;
        blkid_probe pr;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return -errno;

        pr = hw_blkid_probe_new(fd, 0, 0, false);
        if (!pr)
                return -EIO;
        blkid_probe_enable_partitions(pr, 0);

        r = blkid_do_safeprobe(pr);
        if (r == 0) {
                if (blkid_probe_lookup_value(pr, "TYPE", &v, NULL) == 0 && v && *v && !(type = strdup(v)))
                        r = -ENOMEM;
                else if (blkid_probe_lookup_value(pr, "UUID", &v, NULL) == 0 && v && *v && !(uuid = strdup(v)))
                        r = -ENOMEM;
        } else if (r == 1)
                r = -ENOENT;
        else if (r == -2)
                r = -ENOTUNIQ;
        else
                r = -EIO;
        blkid_free_probe(pr);
        if (r < 0)
                return r;

        if (ret_type)
                *ret_type = TAKE_PTR(type);
        if (ret_uuid)
                *ret_uuid = TAKE_PTR(uuid);
        return 0;
}

void disk_unescape_octal(char *s) {
        char *w = s;
        for (const char *p = s; *p; p++) {
                if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
                    p[3] <= '7') {
                        *w++ = (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
                        p += 3;
                } else
                        *w++ = *p;
        }
        *w = 0;
}
