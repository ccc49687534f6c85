/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-machine identity that an image must not carry: every installed machine
 * makes its own machine-id and SSH host keys at first boot. */
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include "basic/log.h"
#include "target/target-internal.h"

static int remove_ssh_host_keys(int rootfd) {
        _cleanup_close_ int dirfd = -1;
        _cleanup_strv_free_ char **names = NULL;
        int r;

        dirfd = target_open_dir(rootfd, "/etc/ssh", 0);
        if (dirfd == -ENOENT || dirfd == -ENOTDIR)
                return 0;
        if (dirfd < 0)
                return log_debug_errno(dirfd, "Cannot open /etc/ssh of the target: %m");
        r = target_list_dir(dirfd, &names);
        if (r < 0)
                return r;
        for (char **n = names; *n; n++) {
                struct stat st;

                /* ssh_host_*_key, .pub and -cert.pub */
                if (fnmatch("ssh_host_*_key*", *n, 0) != 0)
                        continue;
                if (fstatat(dirfd, *n, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
                        continue;
                if (unlinkat(dirfd, *n, 0) < 0 && errno != ENOENT)
                        return log_debug_errno(errno, "Cannot remove /etc/ssh/%s: %m", *n);
                log_debug("Removed /etc/ssh/%s", *n);
        }
        return 0;
}

int target_reset_machine_id(const char *root) {
        _cleanup_close_ int rootfd = -1;
        struct stat st;
        int r;

        rootfd = target_root_open(root);
        if (rootfd < 0)
                return rootfd;

        /* Empty: systemd makes one at the first boot (and ConditionFirstBoot holds). */
        r = target_write_file(rootfd, "/etc/machine-id", "", 0, 0444, 0, 0);
        if (r < 0)
                return r;

        /* D-Bus reads its own copy; Debian makes it a symlink to /etc/machine-id. */
        r = target_lstat(rootfd, "/var/lib/dbus/machine-id", &st);
        if (r >= 0 && S_ISREG(st.st_mode))
                r = target_symlink(rootfd, "/var/lib/dbus/machine-id", "/etc/machine-id");
        else if (r == -ENOENT || r == -ENOTDIR)
                r = 0;
        if (r < 0)
                return log_debug_errno(r, "Cannot reset /var/lib/dbus/machine-id: %m");

        return remove_ssh_host_keys(rootfd);
}
