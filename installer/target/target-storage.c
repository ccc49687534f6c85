/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the installed system needs to find its storage at boot:
 * /etc/mdadm/mdadm.conf, and an initramfs rebuilt with it. */
#include <string.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "target/target-internal.h"

int target_write_mdadm_conf(const char *root, char *const arrays[], size_t n) {
        _cleanup_close_ int rootfd = -1;
        StrBuf b = {};
        int r;

        strbuf_appendf(&b, "# mdadm.conf: written by the installer. See mdadm.conf(5).\n"
                           "# The initramfs assembles these arrays (update-initramfs after a change).\n"
                           "HOMEHOST <system>\n"
                           "MAILADDR root\n\n");
        for (size_t i = 0; i < n; i++)
                strbuf_appendf(&b, "%s\n", arrays[i]);
        if (!b.data) {
                strbuf_done(&b);
                return -ENOMEM;
        }
        rootfd = target_root_open(root);
        r = rootfd < 0 ? rootfd : target_write_file(rootfd, "/etc/mdadm/mdadm.conf", b.data, b.len, 0644, 0, 0);
        strbuf_done(&b);
        return r;
}

static void log_line(const char *line, void *userdata) {
        log_info("%s%s", startswith(line, "update-initramfs:") ? "" : "update-initramfs: ", line);
}

/* The first initramfs is built for this machine: mkinitramfs with a copy
 * of the target's configuration that says MODULES=dep (the modules that
 * reach its root and /boot, found through /sys and /proc/mdstat) in place
 * of Debian's MODULES=most. It is the same initramfs otherwise (every hook:
 * mdadm with the new mdadm.conf, lvm2, cryptsetup), a third of the size, and
 * takes about 2,000 process starts instead of 15,000: a minute or two in a
 * QEMU guest without KVM instead of 18. The target's own configuration is
 * not changed, so the next update-initramfs (the next kernel or mdadm
 * update) builds the generic one again. The copy lives on the chroot's /run
 * (a tmpfs for the duration): nothing of it stays in the installed system.
 * If mkinitramfs fails in that mode, update-initramfs -u runs as configured. */
static const char first_initramfs_sh[] =
        "set -e\n"
        "c=/run/installer-initramfs.d\n"
        "rm -rf \"$c\"\n"
        "cp -a /etc/initramfs-tools \"$c\"\n"
        "mkdir -p \"$c/conf.d\"\n"
        "echo MODULES=dep > \"$c/conf.d/zz-installer-first-initramfs\"\n"
        "echo \"update-initramfs: Generating /boot/initrd.img-$1 for this machine (MODULES=dep)\"\n"
        "mkinitramfs -d \"$c\" -o \"/boot/initrd.img-$1.new\" \"$1\"\n"
        "mv -f \"/boot/initrd.img-$1.new\" \"/boot/initrd.img-$1\"\n"
        "sync\n";

int target_update_initramfs(const char *root, const char *kernel_version, char **ret_output) {
        char *dep[] = { (char *) "/bin/sh", (char *) "-c", (char *) first_initramfs_sh, (char *) "sh",
                        (char *) kernel_version, NULL };
        char *argv[] = { (char *) "/usr/sbin/update-initramfs", (char *) "-u", (char *) "-k", (char *) kernel_version, NULL };
        _cleanup_free_ char *leftover = NULL;
        _cleanup_close_ int rootfd = -1;
        int r;

        if (!kernel_version || !*kernel_version || strchr(kernel_version, '/'))
                return -EINVAL;
        r = target_chroot_run_full(root, dep, log_line, NULL, ret_output);
        if (r == 0)
                return 0;
        log_warning("update-initramfs: building it for this machine (MODULES=dep) failed (%s); building the generic one",
                    r == -EPROTO ? "mkinitramfs failed" : strerror(-r));
        leftover = strprintf("/boot/initrd.img-%s.new", kernel_version);
        rootfd = target_root_open(root);
        if (leftover && rootfd >= 0)
                (void) target_unlink(rootfd, leftover);
        if (ret_output) {
                free(*ret_output);
                *ret_output = NULL;
        }
        return target_chroot_run_full(root, argv, log_line, NULL, ret_output);
}
