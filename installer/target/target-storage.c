/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the installed system needs to find its storage at boot:
 * /etc/mdadm/mdadm.conf, and an initramfs rebuilt with it. */
#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strutil.h"
#include "target/target-internal.h"

int target_write_mdadm_conf(const char *root, char *const arrays[], size_t n) {
        _cleanup_free_ char *dir = path_join_root(root, "/etc/mdadm"), *path = path_join_root(root, "/etc/mdadm/mdadm.conf");
        StrBuf b = {};
        int r;

        if (!dir || !path)
                return -ENOMEM;
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
        r = mkdir_p(dir, 0755);
        if (r >= 0)
                r = write_file_atomic(path, b.data, b.len, 0644);
        strbuf_done(&b);
        return r;
}

static void log_line(const char *line, void *userdata) {
        log_info("%s%s", startswith(line, "update-initramfs:") ? "" : "update-initramfs: ", line);
}

int target_update_initramfs(const char *root, const char *kernel_version, char **ret_output) {
        char *argv[] = { (char *) "/usr/sbin/update-initramfs", (char *) "-u", (char *) "-k", (char *) kernel_version, NULL };

        if (!kernel_version || !*kernel_version)
                return -EINVAL;
        return target_chroot_run_full(root, argv, log_line, NULL, ret_output);
}
