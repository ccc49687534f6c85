/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /etc/fstab of the installed system. */
#include "basic/log.h"
#include "target/target-internal.h"

/* Mount points compare component by component ('/' sorts before every other
 * character), so a parent always comes right before its children: "/",
 * "/boot", "/boot/efi", "/boot-old", "/var". Swap goes last. */
static int mount_order(const void *a, const void *b) {
        const TargetMount *x = *(const TargetMount *const *) a, *y = *(const TargetMount *const *) b;

        if (!x->mount || !y->mount) {
                if (x->mount != y->mount)
                        return x->mount ? -1 : 1;
                return strcmp(x->fs_uuid, y->fs_uuid);
        }
        for (const char *p = x->mount, *q = y->mount;; p++, q++) {
                int cp = *p == '/' ? 1 : *p ? (unsigned char) *p + 1 : 0;
                int cq = *q == '/' ? 1 : *q ? (unsigned char) *q + 1 : 0;

                if (cp != cq || cp == 0)
                        return cp - cq;
        }
}

static bool valid_uuid(const char *s) {
        /* ext4/xfs: 8-4-4-4-12 hex; vfat: XXXX-XXXX. Nothing that could break a line. */
        return s && *s && strlen(s) <= 64 &&
               s[strspn(s, "0123456789abcdefABCDEF-")] == 0;
}

static bool valid_options(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if ((unsigned char) *s <= ' ' || *s == 0x7f)
                        return false;
        return true;
}

static int check_mount(const TargetMount *m) {
        if (!valid_uuid(m->fs_uuid))
                return log_debug_errno(-EINVAL, "fstab: mount %s has no valid filesystem UUID", m->mount ?: "swap");
        if (m->options && !valid_options(m->options))
                return log_debug_errno(-EINVAL, "fstab: mount %s has invalid options", m->mount ?: "swap");
        switch (m->fs) {
        case FS_SWAP:
                if (m->mount)
                        return log_debug_errno(-EINVAL, "fstab: swap with a mount point %s", m->mount);
                return 0;
        case FS_EXT4:
        case FS_XFS:
        case FS_VFAT:
                if (!m->mount || m->mount[0] != '/')
                        return log_debug_errno(-EINVAL, "fstab: %s filesystem %s without an absolute mount point",
                                               fs_type_to_string(m->fs), m->fs_uuid);
                for (const char *p = m->mount; *p; p++)
                        if ((unsigned char) *p < ' ' || *p == 0x7f)
                                return log_debug_errno(-EINVAL, "fstab: mount point with control characters");
                return 0;
        default:
                return log_debug_errno(-EINVAL, "fstab: mount %s has no filesystem to mount", m->mount ?: "?");
        }
}

/* fstab(5): blanks and backslashes in a field are written as octal escapes. */
static char *escape_field(const char *s) {
        StrBuf b = {};

        for (; *s; s++) {
                int r = strchr(" \t\n\\", *s) ? strbuf_appendf(&b, "\\%03o", (unsigned char) *s)
                                              : strbuf_append_n(&b, s, 1);
                if (r < 0) {
                        strbuf_done(&b);
                        return NULL;
                }
        }
        return strbuf_steal(&b);
}

typedef struct FstabLine {
        char *fields[6];
} FstabLine;

static const char *const fstab_header[6] = {
        "# <file system>", "<mount point>", "<type>", "<options>", "<dump>", "<pass>",
};

static int fill_line(const TargetMount *m, FstabLine *l) {
        bool root = m->mount && streq(m->mount, "/");
        const char *options = m->options;
        int pass;

        if (!options)
                options = m->fs == FS_SWAP           ? "sw"
                          : root && m->fs == FS_EXT4 ? "errors=remount-ro"
                                                     : "defaults";
        /* fsck order: the root first, then other ext4/xfs. vfat is never
         * checked (the image has no fsck.vfat), swap cannot be. */
        pass = m->fs == FS_SWAP || m->fs == FS_VFAT ? 0 : root ? 1 : 2;

        l->fields[0] = strprintf("UUID=%s", m->fs_uuid);
        l->fields[1] = m->mount ? escape_field(m->mount) : strdup("none");
        l->fields[2] = strdup(fs_type_to_string(m->fs));
        l->fields[3] = strdup(options);
        l->fields[4] = strdup("0");
        l->fields[5] = strprintf("%d", pass);
        for (size_t i = 0; i < 6; i++)
                if (!l->fields[i])
                        return -ENOMEM;
        return 0;
}

static void fstab_lines_free(FstabLine *lines, size_t n) {
        for (size_t i = 0; lines && i < n; i++)
                for (size_t j = 0; j < 6; j++)
                        free(lines[i].fields[j]);
        free(lines);
}

static int format_fstab(const TargetMount *const *sorted, size_t n, TargetBuf *b) {
        FstabLine *lines = NULL;
        size_t width[6];
        int r = 0;

        lines = new0(FstabLine, n ? n : 1);
        if (!lines)
                return -ENOMEM;
        for (size_t j = 0; j < 6; j++)
                width[j] = strlen(fstab_header[j]);
        for (size_t i = 0; i < n && r >= 0; i++) {
                r = fill_line(sorted[i], &lines[i]);
                for (size_t j = 0; r >= 0 && j < 6; j++)
                        width[j] = MAX(width[j], strlen(lines[i].fields[j]));
        }
        if (r < 0) {
                fstab_lines_free(lines, n);
                return r;
        }

        fputs("# /etc/fstab: static file system information.\n"
              "#\n"
              "# Written by the installer. Filesystems are named by UUID (see blkid(8));\n"
              "# every mount point comes after the one it is mounted on.\n"
              "#\n",
              b->f);
        for (size_t i = 0; i <= n; i++) {
                const char *const *f = i == 0 ? fstab_header : (const char *const *) lines[i - 1].fields;
                for (size_t j = 0; j < 5; j++)
                        fprintf(b->f, "%-*s ", (int) width[j], f[j]);
                fprintf(b->f, "%s\n", f[5]);
        }
        fstab_lines_free(lines, n);
        return 0;
}

int target_write_fstab(const char *root, const TargetMount *m, size_t n) {
        _cleanup_close_ int rootfd = -1;
        _cleanup_free_ const TargetMount **sorted = NULL;
        _cleanup_(target_buf_free) TargetBuf b = {};
        int r;

        if (!m && n > 0)
                return -EINVAL;
        sorted = new0(const TargetMount *, n ? n : 1);
        if (!sorted)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = check_mount(&m[i]);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (m[i].mount && streq_ptr(m[i].mount, m[j].mount))
                                return log_debug_errno(-EINVAL, "fstab: %s is mounted twice", m[i].mount);
                sorted[i] = &m[i];
        }
        qsort(sorted, n, sizeof(*sorted), mount_order);

        r = target_buf_open(&b);
        if (r < 0)
                return r;
        r = format_fstab(sorted, n, &b);
        if (r < 0)
                return r;
        r = target_buf_done(&b);
        if (r < 0)
                return r;

        rootfd = target_root_open(root);
        if (rootfd < 0)
                return rootfd;
        return target_write_file(rootfd, "/etc/fstab", b.data, b.size, 0644, 0, 0);
}
