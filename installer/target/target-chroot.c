/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Running a program of the installed system inside it: the API file systems
 * are mounted into the target for the duration of one command and unmounted
 * afterwards, in reverse order, whatever the command did.
 *
 * Mount points are resolved inside the target (target_open_dir), so a
 * symlink in the image cannot put a mount outside it. /dev and /dev/pts are
 * bind mounts of the installer's own, made private at once, so that nothing
 * mounted below them propagates back to the host. */
#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>

#include "basic/interrupt.h"
#include "basic/log.h"
#include "basic/process.h"
#include "target/target-internal.h"

typedef struct ChrootMount {
        const char *path;   /* inside the target */
        const char *source; /* for a bind mount: the host path */
        const char *fstype; /* NULL: bind mount of source */
        unsigned long flags;
        const char *data;
        bool mkdir;         /* create the mount point if the image lacks it */
} ChrootMount;

static const ChrootMount chroot_mounts[] = {
        { "/proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, true },
        { "/sys", "sysfs", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, true },
        { "/dev", "/dev", NULL, 0, NULL, true },
        /* Inside the bind mount of /dev: never create anything there. */
        { "/dev/pts", "/dev/pts", NULL, 0, NULL, false },
        { "/run", "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", true },
};

/* The host path of the directory path inside the target, resolved safely.
 * Returns 0, -ENOENT when it is missing (and !mkdir), or -errno. */
static int resolve_mount_point(int rootfd, const char *root_real, const ChrootMount *m, char **ret) {
        _cleanup_close_ int fd = -1;
        char proc[64], buf[PATH_MAX];
        ssize_t n;

        fd = target_open_dir(rootfd, m->path, m->mkdir ? CHASE_MKDIR : 0);
        if (fd < 0)
                return fd;
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        n = readlink(proc, buf, sizeof buf - 1);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        /* Belt and braces: the resolved directory must be below the root. */
        const char *rest = startswith(buf, root_real);
        if (!rest || (*rest != '/' && *rest != 0) || streq(root_real, "/"))
                return log_debug_errno(-EXDEV, "chroot: %s resolves outside the target (%s)", m->path, buf);
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

static void unmount_list(char **mounted, size_t n) {
        while (n > 0) {
                char *p = mounted[--n];
                if (umount2(p, 0) < 0) {
                        /* A daemon the command left running holds it: detach. */
                        log_debug_errno(errno, "chroot: cannot unmount %s (%m); detaching it", p);
                        if (umount2(p, MNT_DETACH) < 0)
                                log_warning_errno(errno, "Cannot unmount %s: %m", p);
                }
                free(p);
        }
}

int target_chroot_mount(const char *root, char ***ret_mounted, size_t *ret_n) {
        _cleanup_close_ int rootfd = -1;
        _cleanup_free_ char *root_real = NULL;
        char **mounted;
        size_t n = 0;
        int r = 0;

        root_real = realpath(root, NULL);
        if (!root_real)
                return -errno;
        rootfd = target_root_open(root_real);
        if (rootfd < 0)
                return rootfd;
        mounted = new0(char *, ELEMENTSOF(chroot_mounts) + 1);
        if (!mounted)
                return -ENOMEM;

        for (size_t i = 0; i < ELEMENTSOF(chroot_mounts); i++) {
                const ChrootMount *m = &chroot_mounts[i];
                char *where = NULL;

                r = resolve_mount_point(rootfd, root_real, m, &where);
                if (r == -ENOENT && !m->mkdir) {
                        r = 0;
                        continue;
                }
                if (r < 0) {
                        log_debug_errno(r, "chroot: cannot make the mount point %s in %s: %m", m->path, root);
                        break;
                }
                if (!m->fstype && access(m->source, F_OK) < 0) {
                        free(where);
                        continue;
                }
                if (mount(m->source, where, m->fstype, m->fstype ? m->flags : MS_BIND, m->data) < 0) {
                        r = log_debug_errno(errno, "chroot: cannot mount %s on %s: %m", m->source, where);
                        free(where);
                        break;
                }
                mounted[n++] = where;
                if (mount(NULL, where, NULL, MS_PRIVATE, NULL) < 0) {
                        r = log_debug_errno(errno, "chroot: cannot make %s private: %m", where);
                        break;
                }
        }
        if (r < 0) {
                unmount_list(mounted, n);
                free(mounted);
                return r;
        }
        *ret_mounted = mounted;
        *ret_n = n;
        return 0;
}

void target_chroot_umount(char **mounted, size_t n) {
        if (!mounted)
                return;
        unmount_list(mounted, n);
        free(mounted);
}

/* What a program in the target sees: no installer environment. */
static char *const chroot_env[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=/root",
        "LANG=C.UTF-8",
        "TERM=dumb",
        "DEBIAN_FRONTEND=noninteractive",
        NULL,
};

int target_chroot_run_timeout(const char *root, char *const argv[], unsigned timeout_s,
                              void (*on_line)(const char *line, void *userdata), void *userdata, char **ret_output) {
        _cleanup_free_ char *root_real = NULL;
        char **mounted = NULL;
        size_t n = 0;
        int r;

        if (!root || !argv || !argv[0] || argv[0][0] != '/')
                return -EINVAL;
        /* Interrupted: mount nothing (process_run() would not start it). */
        r = interrupt_check();
        if (r < 0)
                return r;
        root_real = realpath(root, NULL);
        if (!root_real)
                return -errno;
        r = target_chroot_mount(root_real, &mounted, &n);
        if (r < 0)
                return r;
        ProcessOptions o = { .chroot_dir = root_real, .envp = chroot_env, .on_line = on_line, .userdata = userdata,
                             .timeout_ms = (uint64_t) timeout_s * 1000u };
        r = process_run_opts(argv, &o, ret_output);
        /* process_run() killed what the command left running, so nothing
         * holds the mounts; a second signal does not stop this. */
        target_chroot_umount(mounted, n);
        return r;
}

int target_chroot_run_full(const char *root, char *const argv[], void (*on_line)(const char *line, void *userdata),
                           void *userdata, char **ret_output) {
        return target_chroot_run_timeout(root, argv, 0, on_line, userdata, ret_output);
}

int target_chroot_run(const char *root, char *const argv[], char **ret_output) {
        return target_chroot_run_full(root, argv, NULL, NULL, ret_output);
}
